import { CODE_BYTES, createMemory, loadKernels, MAX_PAGES, scalarKernels, type KernelName, type Kernels, type WasmMemory } from './dot-kernel.js';
import { CHUNK_ROWS, DotThreads, WAIT_MS } from './dot-threads.js';
import type { RecognitionConfig } from '../vision/config.js';
import { CODE_BITS, frontierOf, hammingFrontier, signCode, strangersFrontier } from './binary-codes.js';

export const EMBEDDING_DIM = 512;

/**
 * Why a vector is not an embedding the matcher can hold, or undefined when it is one: EMBEDDING_DIM
 * values, each a finite number. A stored template is checked with it as it is read (a row written
 * otherwise quarantines its person rather than stopping the gallery from opening), and every
 * template is checked with it before it is written.
 */
export function embeddingProblem(v: Float32Array): string | undefined {
  if (v.length !== EMBEDDING_DIM) return `it has ${v.length} values, not ${EMBEDDING_DIM}`;
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) return `its value ${i} is ${v[i]}, not a finite number`;
  return undefined;
}
const PAGE = 65536;
const QUERY_SCALE = 32767;
/**
 * Rows from which a search is shared with a second thread. Below it, waking the worker costs
 * more than it saves: on a 2-core machine with the other core busy, two threads were ~10 % slower
 * at 10k rows, even at 20-30k, and ahead from 50-100k (`npm run bench -- gallery`, `--threads 1`).
 */
export const PARALLEL_FROM = 30_000;

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

export interface Candidate {
  personId: string;
  /** Best cosine similarity among this person's templates. */
  score: number;
  templateId: number;
}

export interface SearchResult {
  /** Persons best first, at most top_k. */
  candidates: Candidate[];
  /** Templates compared (by code, where the search went by codes first). */
  searched: number;
  /** Templates scored exactly after their codes were compared; 0 where every template was scored. */
  reranked: number;
}

export interface SearchOptions {
  /** Scores every row, whatever the gallery's size: the answer a search by codes is measured against. */
  exact?: boolean;
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

/**
 * Every enrolled template in one contiguous block of WebAssembly memory, as int8 rows with one
 * float scale each (symmetric quantisation: cosine error ~5e-4, far under any threshold step),
 * kept current as templates come and go. A search scores every row with the SIMD kernel, keeps
 * each person's best template, and returns the top persons.
 *
 * From BINARY_FROM rows a search goes in two stages, as it is the bytes read that take its time:
 * each row has a binary code beside it (the signs of its 512 values, 64 bytes: an eighth of the
 * row), derived when the row is added; the first stage takes every code's Hamming distance to
 * the query's and picks the rows with the nearest codes (RERANK or NEAREST_SHARE of them, and for
 * a match every one as near as a rival within the margin may be), and the second scores those
 * rows exactly and ranks their persons.
 * Nothing of it is written out: the codes live beside the rows, in memory only.
 *
 * From PARALLEL_FROM rows a scan (rows or codes) is shared with a second thread (dot-threads.ts):
 * on one core the kernel and the ranking take ~70 ms for a million templates, near twice what one
 * core needs only to read their bytes, and two cores read them faster than one. The memory
 * is therefore a shared one, and search() stays synchronous: the calling thread scans its share
 * and blocks, briefly and with a time limit, for the worker's. close() stops that thread.
 */
export class Matcher {
  readonly dim: number;
  #memory: WasmMemory;
  #kernels: Kernels;
  /** Whether a second thread may run the kernels: the memory is shared and the kernels are WebAssembly. */
  #canShare: boolean;
  #parallelFrom: number;
  #binaryFrom: number;
  #threads: DotThreads | undefined;
  #closed = false;
  #capacity = 0;
  #count = 0;
  #codeOffset: number;
  #scoreOffset: number;
  #rowsOffset: number;
  #scales = new Float32Array(0);
  #rowPerson = new Int32Array(0);
  #rowTemplate = new Float64Array(0);
  /** The rows the first stage listed, then those it chose; the listed rows' distances. */
  #nearest = new Int32Array(0);
  #nearDistance = new Uint16Array(0);
  #slotOfTemplate = new Map<number, number>();
  #personIds: string[] = [];
  #personIndex = new Map<string, number>();

  /**
   * `threads: 1` keeps every search on the calling thread; `parallelFrom` moves the row count from
   * which a search is shared with the second thread (PARALLEL_FROM), `binaryFrom` the one from
   * which it goes by codes first (BINARY_FROM).
   */
  constructor(options: { dim?: number; initialCapacity?: number; forceScalar?: boolean; threads?: 1 | 2; parallelFrom?: number; binaryFrom?: number } = {}) {
    this.dim = options.dim ?? EMBEDDING_DIM;
    if (this.dim % 16 !== 0 || this.dim > CODE_BITS) throw new Error(`matcher dimension must be a multiple of 16 up to ${CODE_BITS}, got ${this.dim}`);
    // The query (int16), its code and the first stage's limit (u32), a row's score for the second
    // stage, then the rows.
    this.#codeOffset = align(this.dim * 2, 64);
    this.#scoreOffset = this.#codeOffset + align(CODE_BYTES + 4, 64);
    this.#rowsOffset = this.#scoreOffset + 64;
    const { memory, shared } = createMemory(1, { shared: options.threads !== 1 && !options.forceScalar });
    this.#memory = memory;
    const wasm = options.forceScalar ? undefined : loadKernels(this.#memory);
    this.#kernels = wasm ?? scalarKernels(this.#memory);
    this.#canShare = shared && wasm !== undefined;
    this.#parallelFrom = options.parallelFrom ?? PARALLEL_FROM;
    this.#binaryFrom = options.binaryFrom ?? BINARY_FROM;
    this.#reserve(options.initialCapacity ?? 1024);
  }

  get size(): number {
    return this.#count;
  }

  has(templateId: number): boolean {
    return this.#slotOfTemplate.has(templateId);
  }

  add(templateId: number, personId: string, embedding: Float32Array): void {
    if (embedding.length !== this.dim) throw new Error(`embedding has ${embedding.length} values, expected ${this.dim}`);
    if (this.#slotOfTemplate.has(templateId)) this.removeTemplate(templateId);
    if (this.#count === this.#capacity) this.#reserve(this.#capacity * 2);
    const slot = this.#count++;
    const row = new Int8Array(this.#memory.buffer, this.#rowsOffset + slot * this.dim, this.dim);
    this.#scales[slot] = quantiseRow(embedding, row);
    // From the int8 row, so that a value quantised to 0 has the same bit as when the row is scored.
    signCode(row, new Uint8Array(this.#memory.buffer, this.#codesOffset + slot * CODE_BYTES, CODE_BYTES));
    this.#rowPerson[slot] = this.#personSlot(personId);
    this.#rowTemplate[slot] = templateId;
    this.#slotOfTemplate.set(templateId, slot);
  }

  removeTemplate(templateId: number): boolean {
    const slot = this.#slotOfTemplate.get(templateId);
    if (slot === undefined) return false;
    const last = --this.#count;
    const bytes = new Int8Array(this.#memory.buffer);
    const codes = this.#codesOffset;
    if (slot !== last) {
      // Move the last row and its code into the hole so that the blocks stay contiguous.
      const from = this.#rowsOffset + last * this.dim;
      bytes.copyWithin(this.#rowsOffset + slot * this.dim, from, from + this.dim);
      bytes.copyWithin(codes + slot * CODE_BYTES, codes + last * CODE_BYTES, codes + (last + 1) * CODE_BYTES);
      this.#scales[slot] = this.#scales[last]!;
      this.#rowPerson[slot] = this.#rowPerson[last]!;
      this.#rowTemplate[slot] = this.#rowTemplate[last]!;
      this.#slotOfTemplate.set(this.#rowTemplate[slot]!, slot);
    }
    bytes.fill(0, this.#rowsOffset + last * this.dim, this.#rowsOffset + (last + 1) * this.dim);
    bytes.fill(0, codes + last * CODE_BYTES, codes + (last + 1) * CODE_BYTES);
    this.#slotOfTemplate.delete(templateId);
    return true;
  }

  removePerson(personId: string): number {
    const p = this.#personIndex.get(personId);
    if (p === undefined) return 0;
    const ids: number[] = [];
    for (let s = 0; s < this.#count; s++) if (this.#rowPerson[s] === p) ids.push(this.#rowTemplate[s]!);
    for (const id of ids) this.removeTemplate(id);
    return ids.length;
  }

  /**
   * Starts the second thread now rather than at the first search that needs it, and resolves
   * whether it is ready (false where the matcher stays on one thread).
   */
  async startThreads(): Promise<boolean> {
    return (this.#startThreads()?.ready()) ?? false;
  }

  /** Threads a search above PARALLEL_FROM rows would use now. */
  get threads(): 1 | 2 {
    return this.#threads?.available ? 2 : 1;
  }

  /** Chunks of rows the second thread has scanned so far. */
  get secondThreadChunks(): number {
    return this.#threads?.workerChunks ?? 0;
  }

  /** Stops the second thread; resolves once it has ended. The matcher still answers, on the calling thread. */
  close(): Promise<void> {
    this.#closed = true;
    const threads = this.#threads;
    this.#threads = undefined;
    return threads?.close() ?? Promise.resolve();
  }

  /** Zeroes every row: the process's copy of the gallery goes with it. */
  clear(): void {
    new Uint8Array(this.#memory.buffer).fill(0);
    this.#count = 0;
    this.#slotOfTemplate.clear();
  }

  /**
   * The topK persons by their best template's score against `query`: from BINARY_FROM rows by
   * codes first, below it, or with `exact`, every row scored.
   */
  search(query: Float32Array, topK: number, options: SearchOptions = {}): SearchResult {
    if (query.length !== this.dim) throw new Error(`query has ${query.length} values, expected ${this.dim}`);
    const n = this.#count;
    if (n === 0) return { candidates: [], searched: 0, reranked: 0 };
    const q16 = new Int16Array(this.#memory.buffer, 0, this.dim);
    const qScale = quantiseQuery(query, q16);
    const byCodes = n >= this.#binaryFrom && !options.exact;
    const top = (byCodes && this.#byCodes(q16, qScale, topK, options)) || {
      rows: this.#scoreAll(qScale, topK),
      reranked: 0,
    };
    return {
      candidates: top.rows.map((t) => ({ personId: this.#personIds[t.person]!, score: t.score, templateId: this.#rowTemplate[t.row]! })),
      searched: n,
      reranked: top.reranked,
    };
  }

  /** Every row scored: the search below BINARY_FROM, and where the codes point to too many rows. */
  #scoreAll(qScale: number, topK: number): TopRow[] {
    const n = this.#count;
    const raw = new Int32Array(this.#memory.buffer, this.#scoreRows(), n);
    return topRows(raw, this.#scales, this.#rowPerson, qScale, topK);
  }

  /**
   * The two stages: the codes near the query's, their rows scored exactly. Undefined where those
   * would be more than RERANK_SHARE of the rows.
   */
  #byCodes(q16: Int16Array, qScale: number, topK: number, { rules, rerank }: SearchOptions): { rows: TopRow[]; reranked: number } | undefined {
    const n = this.#count;
    const k = Math.max(1, rerank ?? Math.max(RERANK, Math.ceil(n * NEAREST_SHARE)));
    signCode(q16, new Uint8Array(this.#memory.buffer, this.#codeOffset, CODE_BYTES));
    // List the codes up to where the k nearest would lie among strangers' with room to spare
    // (real ones lie nearer: the list is longer, and holds a match's rivals too); should fewer
    // than k be listed, list them all.
    let limit = strangersFrontier(n, NEAR_SLACK * k, this.dim);
    let listed = this.#nearCodes(limit);
    let frontier = frontierOf(this.#nearDistance, listed, k);
    if (frontier === undefined) {
      limit = CODE_BITS;
      listed = this.#nearCodes(limit);
      frontier = frontierOf(this.#nearDistance, listed, k) ?? CODE_BITS;
    }
    let scored = this.#scoreNearest(listed, frontier, 0, undefined);
    if (!scored) return undefined;
    // A match on these rows: score every rival that could be within the margin too. (Where a rival
    // already is, the answer is no match, and a rival more would not change that.)
    const [first, second] = topRows(scored.raw, scored.scales, scored.persons, qScale, 2);
    const best = first?.score ?? -Infinity;
    if (rules && best >= rules.threshold && best - Math.max(second?.score ?? 0, 0) >= rules.margin) {
      const reach = hammingFrontier(best - rules.margin, this.dim, FRONTIER_SIGMAS);
      if (reach > frontier) {
        if (reach > limit) listed = this.#nearCodes(reach);
        scored = this.#scoreNearest(listed, reach, frontier, scored);
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
   * Each row is scored on its own and read back at once, in a place of its own: a worker that lags
   * behind the first stage still reads the query's code and writes its lists.
   */
  #scoreNearest(listed: number, to: number, from: number, before: Scored | undefined): Scored | undefined {
    const rows: number[] = [];
    for (let i = 0; i < listed; i++) {
      const d = this.#nearDistance[i]!;
      if (d <= to && (before === undefined || d > from)) rows.push(this.#nearest[i]!);
    }
    const count = rows.length + (before?.rows.length ?? 0);
    if (count > this.#count * RERANK_SHARE) return undefined;
    const score = this.#kernels.scores;
    const out = this.#scoreOffset;
    const got = new Int32Array(this.#memory.buffer, out, 1);
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
      score(0, this.#rowsOffset + row * this.dim, 1, this.dim, out);
      next.rows[w] = row;
      next.raw[w] = got[0]!;
      next.scales[w] = this.#scales[row]!;
      next.persons[w] = this.#rowPerson[row]!;
    }
    return next;
  }

  /**
   * Lists the rows whose codes lie within `limit` of the query's, in row order, into #nearest and
   * their distances into #nearDistance; returns how many. In chunks of CHUNK_ROWS, on two threads
   * from PARALLEL_FROM rows: each chunk's list is written at the chunk's place in a results area.
   */
  #nearCodes(limit: number): number {
    const n = this.#count;
    new Uint32Array(this.#memory.buffer, this.#codeOffset + CODE_BYTES, 1)[0] = limit;
    const { out, returned } = this.#scan('near', this.#codeOffset, this.#codesOffset, CODE_BYTES);
    const lists = new Uint32Array(this.#memory.buffer, out, n);
    let listed = 0;
    for (let c = 0, first = 0; first < n; c++, first += CHUNK_ROWS) {
      const chunkListed = returned[c]!;
      for (let i = 0; i < chunkListed; i++) {
        const entry = lists[first + i]!;
        this.#nearest[listed] = first + (entry & 0xffff);
        this.#nearDistance[listed++] = entry >>> 16;
      }
    }
    return listed;
  }

  /** Scores every row; returns where the n scores are. */
  #scoreRows(): number {
    return this.#scan('scores', 0, this.#rowsOffset, this.dim).out;
  }

  /**
   * Runs a kernel over every row (`stride` bytes apart from `first`) in chunks of CHUNK_ROWS, on
   * two threads from PARALLEL_FROM rows: where the results are (each chunk's at its place), and
   * what the kernel returned on each chunk.
   */
  #scan(kernel: KernelName, q: number, first: number, stride: number): { out: number; returned: Int32Array } {
    const n = this.#count;
    // A worker that lags behind a search it was left out of still writes into the first results
    // area; until it catches up, searches write theirs into the second.
    const threads = n >= this.#parallelFrom ? this.#startThreads() : undefined;
    const area = this.#threads?.lagging ? 1 : 0;
    const out = this.#resultsOffset + area * this.#capacity * 4;
    const shared = threads?.run(kernel, q, first, n, stride, out);
    if (shared) return { out, returned: shared };
    const run = this.#kernels[kernel];
    const returned = new Int32Array(Math.ceil(n / CHUNK_ROWS));
    for (let c = 0, r = 0; r < n; c++, r += CHUNK_ROWS) returned[c] = run(q, first + r * stride, Math.min(CHUNK_ROWS, n - r), stride, out + r * 4) ?? 0;
    return { out, returned };
  }

  get #codesOffset(): number {
    return this.#rowsOffset + this.#capacity * this.dim;
  }

  get #resultsOffset(): number {
    return this.#codesOffset + this.#capacity * CODE_BYTES;
  }

  #startThreads(): DotThreads | undefined {
    if (!this.#threads && this.#canShare && !this.#closed) {
      this.#threads = DotThreads.start(this.#memory, this.#kernels, this.dim);
      // One try: where a worker cannot start, the matcher stays on one thread.
      if (!this.#threads) this.#canShare = false;
    }
    return this.#threads;
  }

  #personSlot(personId: string): number {
    let p = this.#personIndex.get(personId);
    if (p === undefined) {
      p = this.#personIds.length;
      this.#personIds.push(personId);
      this.#personIndex.set(personId, p);
    }
    return p;
  }

  /** Copies the query, the rows and their codes into a new memory with kernels over it; the old one is dropped. */
  #leaveMemory(): void {
    const old = this.#memory;
    const { memory } = createMemory(old.buffer.byteLength / PAGE, { shared: true });
    new Uint8Array(memory.buffer).set(new Uint8Array(old.buffer, 0, this.#resultsOffset));
    const kernels = loadKernels(memory);
    if (!kernels) throw new Error('the kernels loaded once and not again');
    this.#memory = memory;
    this.#kernels = kernels;
  }

  #reserve(capacity: number): void {
    // Rows, their codes, then two areas for the kernels' results.
    const needed = this.#rowsOffset + capacity * (this.dim + CODE_BYTES) + 2 * capacity * 4;
    const pages = Math.ceil(needed / PAGE);
    const have = this.#memory.buffer.byteLength / PAGE;
    if (pages > MAX_PAGES) throw new Error(`matcher cannot hold ${capacity} templates of ${this.dim} values in 4 GiB`);
    // The codes and the results areas move with the capacity, onto what becomes rows: a lagging
    // worker must have finished writing first. One that has not may still write there after it is
    // told to stop, so the rows move to a memory of their own and the old one is left to it.
    if (this.#threads?.lagging && !this.#threads.settle(4 * WAIT_MS)) {
      void this.#threads.close();
      this.#threads = undefined;
      this.#leaveMemory();
    }
    if (pages > have) this.#memory.grow(pages - have);
    const codesFrom = this.#codesOffset;
    const codesEnd = codesFrom + this.#count * CODE_BYTES;
    this.#capacity = capacity;
    const bytes = new Uint8Array(this.#memory.buffer);
    bytes.copyWithin(this.#codesOffset, codesFrom, codesEnd);
    // No copy of a code stays behind where it would outlive its template's removal.
    bytes.fill(0, codesFrom, Math.min(codesEnd, this.#codesOffset));
    this.#scales = grow(this.#scales, capacity, Float32Array);
    this.#rowPerson = grow(this.#rowPerson, capacity, Int32Array);
    this.#rowTemplate = grow(this.#rowTemplate, capacity, Float64Array);
    this.#nearest = new Int32Array(capacity);
    this.#nearDistance = new Uint16Array(capacity);
  }
}

/** Rows scored by a search by codes, in row order, with what topRows needs of each. */
interface Scored {
  rows: Int32Array;
  raw: Int32Array;
  scales: Float32Array;
  persons: Int32Array;
}

export interface TopRow {
  person: number;
  row: number;
  score: number;
}

/**
 * The k persons with the best scores, each with the row of its best score, best first (ties: the
 * lower person index first, and a person's first row). One pass over the rows, holding only the k
 * best so far: once k persons are held, a row under the k-th best score costs a multiply and a
 * compare, where keeping every person's best cost a random store per row and a pass over the persons.
 */
export function topRows(raw: Int32Array, scales: Float32Array, rowPerson: Int32Array, qScale: number, k: number): TopRow[] {
  const top: TopRow[] = [];
  if (k <= 0) return top;
  let floor = -Infinity;
  const n = raw.length;
  for (let r = 0; r < n; r++) {
    const score = Math.fround(raw[r]! * scales[r]! * qScale);
    if (score < floor) continue;
    offer(top, k, rowPerson[r]!, r, score);
    if (top.length === k) floor = top[k - 1]!.score;
  }
  return top;
}

/** `a` ranks before `b`: higher score, then lower person index. */
const before = (score: number, person: number, b: TopRow) => score > b.score || (score === b.score && person < b.person);

function offer(top: TopRow[], k: number, person: number, row: number, score: number): void {
  const held = top.findIndex((t) => t.person === person);
  if (held >= 0) {
    if (score <= top[held]!.score) return;
    top.splice(held, 1);
  }
  let i = top.length;
  while (i > 0 && before(score, person, top[i - 1]!)) i--;
  if (i >= k) return;
  top.splice(i, 0, { person, row, score });
  if (top.length > k) top.pop();
}

/** int8 row = round(x · 127 / max|x|); returns the scale that maps it back. */
export function quantiseRow(v: Float32Array, out: Int8Array): number {
  let max = 0;
  for (let i = 0; i < v.length; i++) max = Math.max(max, Math.abs(v[i]!));
  if (max === 0) {
    out.fill(0);
    return 0;
  }
  const k = 127 / max;
  for (let i = 0; i < v.length; i++) out[i] = Math.round(v[i]! * k);
  return max / 127;
}

/** int16 query = round(x · 32767 / max|x|); returns the scale that maps it back. */
export function quantiseQuery(v: Float32Array, out: Int16Array): number {
  let max = 0;
  for (let i = 0; i < v.length; i++) max = Math.max(max, Math.abs(v[i]!));
  if (max === 0) {
    out.fill(0);
    return 0;
  }
  const k = QUERY_SCALE / max;
  for (let i = 0; i < v.length; i++) out[i] = Math.round(v[i]! * k);
  return max / QUERY_SCALE;
}

function grow<T extends Float32Array | Int32Array | Float64Array>(
  old: T,
  capacity: number,
  Ctor: new (n: number) => T,
): T {
  const next = new Ctor(capacity);
  next.set(old.subarray(0, Math.min(old.length, capacity)) as never);
  return next;
}

function align(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}
