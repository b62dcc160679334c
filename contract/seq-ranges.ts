/**
 * Ranges of per-box event sequence numbers (docs/mqtt.md#replay), shared by the box, which answers
 * which numbers of a requested range it no longer holds, and by the central consumer, which finds
 * the numbers it has not stored. Pure, so that both sides compute a gap the same way.
 */

/** Inclusive, with 1 ≤ from ≤ to. */
export type SeqRange = readonly [from: number, to: number];

/** The parts of [from, to] that no range of `covered` (in any order, overlapping or not) covers, ascending. */
export function missingRanges(from: number, to: number, covered: Iterable<SeqRange>): SeqRange[] {
  const sorted = [...covered].sort((x, y) => x[0] - y[0]);
  const missing: SeqRange[] = [];
  let next = from;
  for (const [a, b] of sorted) {
    if (next > to || a > to) break;
    if (b < next) continue;
    if (a > next) missing.push([next, a - 1]);
    next = Math.max(next, b + 1);
  }
  if (next <= to) missing.push([next, to]);
  return missing;
}

/** Ascending, distinct numbers as the fewest ranges: [1, 2, 3, 7] → [1, 3], [7, 7]. */
export function rangesOf(sortedSeqs: Iterable<number>): SeqRange[] {
  const ranges: [number, number][] = [];
  for (const s of sortedSeqs) {
    const last = ranges.at(-1);
    if (last && s === last[1] + 1) last[1] = s;
    else if (!last || s > last[1]) ranges.push([s, s]);
  }
  return ranges;
}

/** The first `max` numbers of a range: what one replay request may ask for. */
export function firstPart(range: SeqRange, max: number): SeqRange {
  return [range[0], Math.min(range[1], range[0] + max - 1)];
}

/** How many numbers a range holds. */
export function sizeOf(range: SeqRange): number {
  return range[1] - range[0] + 1;
}
