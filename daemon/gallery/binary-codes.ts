/**
 * The first stage of a large gallery's search (code-search.ts): each template's binary code, the sign
 * bits of its embedding, compared with the query's by Hamming distance, picks the few rows worth
 * scoring exactly. Pure functions; the popcount itself is a kernel (dot-kernel.ts).
 */
import { CODE_BYTES } from './dot-kernel.js';

/** Most values a code holds: one bit each. */
export const CODE_BITS = CODE_BYTES * 8;

/**
 * Bit j of the code is set where v[j] is negative; the bits past v.length stay clear, in every code
 * and in the query's alike, so they never count.
 */
export function signCode(v: ArrayLike<number>, out: Uint8Array): void {
  out.fill(0);
  for (let j = 0; j < v.length; j++) if (v[j]! < 0) out[j >> 3]! |= 1 << (j & 7);
}

/**
 * The Hamming distance within which the code of a template that scores `score` against the query
 * lies, but for a chance of a normal tail `sigmas` standard deviations out. For vectors spread
 * evenly in every direction, each sign differs with probability acos(cos)/π, one value
 * independently of the next (the random-hyperplane argument of SimHash), so the distance over
 * `bits` values is binomial; real embeddings are near that, not at it (docs/gallery.md, Matching).
 */
export function hammingFrontier(score: number, bits: number, sigmas: number): number {
  const p = Math.acos(Math.min(1, Math.max(-1, score))) / Math.PI;
  return Math.min(bits, Math.ceil(bits * p + sigmas * Math.sqrt(bits * p * (1 - p))));
}

/**
 * The Hamming distance under which `rows` random codes (every sign a coin toss, as between
 * strangers' embeddings) put about `expected` of them: where the first stage may stop listing
 * codes and still find its k nearest. Exact binomial tail, over `bits` values.
 */
export function strangersFrontier(rows: number, expected: number, bits: number): number {
  let pmf = 2 ** -bits;
  let cdf = 0;
  for (let t = 0; t < bits; t++) {
    cdf += pmf;
    if (rows * cdf >= expected) return t;
    pmf = (pmf * (bits - t)) / (t + 1);
  }
  return bits;
}

/**
 * The frontier of the rows a search by codes scores first: the smallest distance at or under which
 * lie at least `k` of the listed `distances[0..count)`. Undefined where fewer than k are listed
 * (the list stopped short: list more).
 */
export function frontierOf(distances: ArrayLike<number>, count: number, k: number): number | undefined {
  if (count < k) return undefined;
  const under = new Int32Array(CODE_BITS + 1);
  for (let i = 0; i < count; i++) under[distances[i]!]!++;
  let t = 0;
  for (let held = under[0]!; held < k; held += under[t]!) t++;
  return t;
}
