/**
 * A large gallery's search by binary codes first (Matcher, from BINARY_FROM rows), as it is the
 * bytes read that take a search's time: each row has a binary code beside it (the signs of its 512
 * values, 64 bytes: an eighth of the row). The first stage takes every code's Hamming distance to
 * the query's and picks the rows with the nearest codes (RERANK or NEAREST_SHARE of them, and for
 * a match every one as near as a rival within the margin may be); the second scores those rows
 * exactly and ranks their persons. Where the codes point to too many rows (RERANK_SHARE), it gives
 * up and the matcher scores every row.
 *
 * This module decides which rows to list and score; the arithmetic of the distances is in
 * binary-codes.ts, and the memory, kernels and threads that list and score them are the matcher's,
 * reached through CodedRows.
 */
import type { RecognitionConfig } from '../vision/config.js';
import { CODE_BITS, frontierOf, hammingFrontier, strangersFrontier } from './binary-codes.js';
import { topRows, type TopRow } from './top-rows.js';

/**
 * Rows from which a search goes by binary codes first. Measured (`npm run bench -- gallery`, 2-core
 * x86): at 30k rows 0.20 ms against 0.40 ms for every row scored, at 100k 0.38-0.88 against
 * 2.5-2.6 ms; at 10k it was 0.14 against 0.23 one hour and 0.25 against 0.24 the next: too little to gain.
 */
export const BINARY_FROM = 30_000;
/**
 * Rows a search by codes scores: those of the nearest codes, RERANK of them or NEAREST_SHARE of
 * the gallery, whichever is more. Whether a template's code is among the nearest depends on the
 * share: it must lie nearer the query's than all but that share of the strangers' codes. Measured
 * on a million model-like templates (bench; test/support/face-clusters.ts): the 256 nearest codes'
 * rows held the best template of all 300 queries of enrolled persons and of 295 of 300 lookalikes
 * (98.3 %), the 1024 nearest of all of both; 0.2 % (2000 rows, ~1 ms to score) leaves room. For
 * strangers, whose best is a chance likeness, more rows find it more often (85 %, 95 %, 98 % and
 * 99.7 % at 256, 1024, 2048 and 4096 rows) but it scores under the threshold either way.
 */
export const RERANK = 256;
export const NEAREST_SHARE = 1 / 500;
/**
 * How far out a search by codes reaches for a match's rivals, templates scoring within the margin
 * of the best: standard deviations of a rival's code's Hamming distance past its mean
 * (hammingFrontier). At 3, with the best at 0.60 and the margin 0.05, it scores every code within
 * 193 bits, past which a rival scoring 0.55 lies with a chance of 1.2e-3 (binomial; 6e-5 with the
 * spread 0.8 times as wide that the model's embeddings show). The reach costs rows where the best
 * is weak: on a model-like gallery 0.13 % of it at a best of 0.60, 2.1 % at 0.50, and at 0.45 (the
 * threshold) 5.4 %, past RERANK_SHARE: there every row is scored.
 */
export const FRONTIER_SIGMAS = 3;
/**
 * Most rows a search by codes scores, as a share of the gallery: a row picked out of a large one
 * costs ~0.5 µs to score, some 35 times its share of the scan in order, so past 1/32 scoring every
 * row is as fast, and that is what the search does.
 */
export const RERANK_SHARE = 1 / 32;
/** How many more codes than k the first stage lists at first, counting on strangers' odds (strangersFrontier). */
const NEAR_SLACK = 4;

export interface CodeSearchOptions {
  /**
   * The rules decide() will apply to the answer. With them, where the rows scored make a match, a
   * search by codes also scores every row whose code is as near the query's as that of a template
   * scoring within the margin of the best may be (FRONTIER_SIGMAS): such a rival is all that could
   * turn the match into an unknown.
   */
  rules?: Pick<RecognitionConfig, 'threshold' | 'margin'>;
  /** Rows a search by codes scores, those of the nearest codes: by RERANK and NEAREST_SHARE unless set. */
  rerank?: number;
}

/** What a search by codes reaches of the matcher's rows, with the query and its code in place. */
export interface CodedRows {
  /** Rows held. */
  readonly count: number;
  /** Values a row holds, and bits of a code that count. */
  readonly dim: number;
  /** Each row's scale, and the index of its person. */
  readonly scales: Float32Array;
  readonly rowPerson: Int32Array;
  /**
   * Lists the rows whose codes lie within `limit` of the query's, in row order, into `nearest` and
   * their distances into `nearDistance`; returns how many.
   */
  nearCodes(limit: number): number;
  readonly nearest: Int32Array;
  readonly nearDistance: Uint16Array;
  /** One row scored against the query: the kernel's integer dot product. */
  scoreRow(row: number): number;
}

/** Rows scored by a search by codes, in row order, with what topRows needs of each. */
interface Scored {
  rows: Int32Array;
  raw: Int32Array;
  scales: Float32Array;
  persons: Int32Array;
}

/**
 * The two stages: the codes near the query's, their rows scored exactly, the topK persons ranked
 * (their rows are the matcher's). Undefined where those would be more than RERANK_SHARE of the rows.
 */
export function searchByCodes(c: CodedRows, qScale: number, topK: number, { rules, rerank }: CodeSearchOptions): { rows: TopRow[]; reranked: number } | undefined {
  const n = c.count;
  const k = Math.max(1, rerank ?? Math.max(RERANK, Math.ceil(n * NEAREST_SHARE)));
  // List the codes up to where the k nearest would lie among strangers' with room to spare
  // (real ones lie nearer: the list is longer, and holds a match's rivals too); should fewer
  // than k be listed, list them all.
  let limit = strangersFrontier(n, NEAR_SLACK * k, c.dim);
  let listed = c.nearCodes(limit);
  let frontier = frontierOf(c.nearDistance, listed, k);
  if (frontier === undefined) {
    limit = CODE_BITS;
    listed = c.nearCodes(limit);
    frontier = frontierOf(c.nearDistance, listed, k) ?? CODE_BITS;
  }
  let scored = scoreNearest(c, listed, frontier, 0, undefined);
  if (!scored) return undefined;
  // A match on these rows: score every rival that could be within the margin too. (Where a rival
  // already is, the answer is no match, and a rival more would not change that.)
  const [first, second] = topRows(scored.raw, scored.scales, scored.persons, qScale, 2);
  const best = first?.score ?? -Infinity;
  if (rules && best >= rules.threshold && best - Math.max(second?.score ?? 0, 0) >= rules.margin) {
    const reach = hammingFrontier(best - rules.margin, c.dim, FRONTIER_SIGMAS);
    if (reach > frontier) {
      if (reach > limit) listed = c.nearCodes(reach);
      scored = scoreNearest(c, listed, reach, frontier, scored);
      if (!scored) return undefined;
    }
  }
  const top = topRows(scored.raw, scored.scales, scored.persons, qScale, topK);
  for (const t of top) t.row = scored.rows[t.row]!;
  return { rows: top, reranked: scored.rows.length };
}

/**
 * Scores the listed rows whose codes lie over `from` and at most `to` from the query's, with
 * those of `before` (scored up to `from`), in row order; undefined past RERANK_SHARE of the rows.
 * Each row is scored on its own and read back at once (CodedRows.scoreRow).
 */
function scoreNearest(c: CodedRows, listed: number, to: number, from: number, before: Scored | undefined): Scored | undefined {
  const rows: number[] = [];
  for (let i = 0; i < listed; i++) {
    const d = c.nearDistance[i]!;
    if (d <= to && (before === undefined || d > from)) rows.push(c.nearest[i]!);
  }
  const count = rows.length + (before?.rows.length ?? 0);
  if (count > c.count * RERANK_SHARE) return undefined;
  const next: Scored = { rows: new Int32Array(count), raw: new Int32Array(count), scales: new Float32Array(count), persons: new Int32Array(count) };
  // Merge by row, so that ties rank as in the exact search (a person's first row).
  let i = 0, j = 0;
  for (let w = 0; w < count; w++) {
    if (before && j < before.rows.length && (i >= rows.length || before.rows[j]! < rows[i]!)) {
      next.rows[w] = before.rows[j]!;
      next.raw[w] = before.raw[j]!;
      next.scales[w] = before.scales[j]!;
      next.persons[w] = before.persons[j++]!;
      continue;
    }
    const row = rows[i++]!;
    next.rows[w] = row;
    next.raw[w] = c.scoreRow(row);
    next.scales[w] = c.scales[row]!;
    next.persons[w] = c.rowPerson[row]!;
  }
  return next;
}
