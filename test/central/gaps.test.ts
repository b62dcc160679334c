// The pure parts of replay: which numbers are missing, and when a gap is asked for.
import '../support/fast-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fuzzParameters } from '../support/fuzz.js';
import { firstPart, missingRanges, rangesOf } from '../../contract/seq-ranges.js';
import { GapTracker, requestSpans } from '../../central/gap-tracker.js';

test('missingRanges: what no covered range covers, in order, whatever the overlap and order of the covered', () => {
  assert.deepEqual(missingRanges(1, 10, []), [[1, 10]]);
  assert.deepEqual(missingRanges(1, 10, [[1, 10]]), []);
  assert.deepEqual(missingRanges(1, 10, [[4, 5], [1, 2], [5, 7], [9, 20]]), [[3, 3], [8, 8]]);
  assert.deepEqual(missingRanges(5, 6, [[1, 2], [8, 9]]), [[5, 6]]);
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 0, max: 60 }), fc.array(fc.tuple(fc.integer({ min: 1, max: 70 }), fc.integer({ min: 0, max: 10 }))), (from, len, raw) => {
      const to = from + len;
      const covered = raw.map(([a, n]) => [a, a + n] as const);
      const isCovered = (s: number) => covered.some(([a, b]) => a <= s && s <= b);
      const want = Array.from({ length: len + 1 }, (_, i) => from + i).filter((s) => !isCovered(s));
      const got = missingRanges(from, to, covered).flatMap(([a, b]) => Array.from({ length: b - a + 1 }, (_, i) => a + i));
      assert.deepEqual(got, want);
    }),
    fuzzParameters(500),
  );
});

test('rangesOf and firstPart', () => {
  assert.deepEqual(rangesOf([1, 2, 3, 7, 9, 10]), [[1, 3], [7, 7], [9, 10]]);
  assert.deepEqual(rangesOf([]), []);
  assert.deepEqual(firstPart([5, 5000], 1000), [5, 1004]);
  assert.deepEqual(firstPart([5, 6], 1000), [5, 6]);
});

test('GapTracker: a gap is asked for only after its grace, a range no faster than its backoff (doubling), and a closed gap is forgotten', () => {
  const g = new GapTracker({ graceMs: 1000, backoffMs: 5000, maxRange: 10 });
  assert.equal(g.next([[3, 4]], 0), undefined, 'just seen: may still arrive out of order');
  assert.equal(g.next([[3, 4]], 999), undefined);
  assert.deepEqual(g.next([[3, 4]], 1000), [3, 4]);
  assert.equal(g.next([[3, 4]], 5999), undefined, 'asked: not again before the backoff');
  assert.deepEqual(g.next([[3, 4]], 6000), [3, 4]);
  assert.equal(g.next([[3, 4]], 6000 + 9999), undefined, 'the second wait is twice as long');
  assert.deepEqual(g.next([[3, 4]], 16_000), [3, 4]);
  assert.deepEqual(g.next([[3, 4], [20, 100]], 16_000), undefined, 'a new gap has its own grace');
  assert.deepEqual(g.next([[3, 4], [20, 100]], 17_000), [20, 29], 'the next in its backoff, cut at the most one request names');
  assert.equal(g.next([], 18_000), undefined);
  assert.equal(g.next([[3, 4]], 18_000), undefined, 'closed and open again: seen anew, with its grace');
  assert.deepEqual(g.next([[3, 4]], 19_000), [3, 4], 'and its backoff forgotten');
});

test('requestSpans: interleaved gaps are asked for together within the most one request names, and nothing is left out', () => {
  assert.deepEqual(requestSpans([], 10), []);
  assert.deepEqual(requestSpans([[2, 2], [4, 4], [6, 6], [20, 25]], 10), [[2, 6], [20, 25]]);
  assert.deepEqual(requestSpans([[1, 30]], 10), [[1, 30]], 'one range longer than the most is left to firstPart');
  assert.deepEqual(requestSpans([[1, 1], [10, 10], [11, 11]], 10), [[1, 10], [11, 11]], 'a span is never wider than the most');
  fc.assert(
    fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 200 }), { maxLength: 60 }), fc.integer({ min: 1, max: 50 }), (numbers, max) => {
      const missing = rangesOf([...numbers].sort((a, b) => a - b));
      const spans = requestSpans(missing, max);
      for (const [a, b] of missing) assert.ok(spans.some(([x, y]) => x <= a && b <= y), 'every missing range inside a span');
      for (let i = 1; i < spans.length; i++) assert.ok(spans[i]![0] > spans[i - 1]![1], 'ascending, disjoint');
    }),
    fuzzParameters(200),
  );
});
