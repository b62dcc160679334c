// The fleet benches' count of what was sent against what was stored (scripts/bench/fleet-tally.ts):
// an event lost, one stored twice under its id or under its box's number, a row no box sent, and
// the latency and stored rate per phase.
import '../support/fast-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { percentile, storedRate, tally } from '../../scripts/bench/fleet-tally.js';

test('percentile by nearest rank; NaN when there is nothing', () => {
  const xs = Array.from({ length: 20 }, (_, i) => i + 1);
  assert.equal(percentile(xs, 50), 10);
  assert.equal(percentile(xs, 95), 19);
  assert.equal(percentile(xs, 100), 20);
  assert.equal(percentile([7], 95), 7);
  assert.ok(Number.isNaN(percentile([], 95)));
});

test('tally: each sent event found once by id; a lost one, one doubled by id, one doubled by box number and a foreign row are each counted', () => {
  const sent = [
    { id: 'a', writtenMs: 1000, phase: 'steady' },
    { id: 'b', writtenMs: 1000, phase: 'steady' },
    { id: 'c', writtenMs: 2000, phase: 'killed' },
    { id: 'd', writtenMs: 2000, phase: 'killed' },
  ];
  const rows = [
    { id: 'a', base: 'facegate/g1', seq: 1, storedMs: 1010 },
    { id: 'b', base: 'facegate/g1', seq: 2, storedMs: 1100 },
    { id: 'a', base: 'facegate/g1', seq: 1, storedMs: 1200 },
    { id: 'c', base: 'facegate/g2', seq: 1, storedMs: 7000 },
    { id: 'x', base: 'facegate/g2', seq: 1, storedMs: 7000 },
    { id: 'y', base: 'facegate/g3', seq: null, storedMs: 7000 },
  ];
  const t = tally(sent, rows, ['steady', 'killed']);
  assert.deepEqual([t.sent, t.stored, t.lost, t.doubled, t.foreign], [4, 3, 1, 2, 1]);
  assert.deepEqual(t.phases[0], { phase: 'steady', sent: 2, stored: 2, lost: 0, p50Ms: 10, p95Ms: 100, maxMs: 100 });
  assert.deepEqual(t.phases[1], { phase: 'killed', sent: 2, stored: 1, lost: 1, p50Ms: 5000, p95Ms: 5000, maxMs: 5000 });
});

test('storedRate: rows per whole second of the window, with its slowest and busiest second', () => {
  const rows = [100, 200, 1500, 2100, 2200, 2300, 3100].map((ms, i) => ({ id: String(i), base: 'b', seq: i, storedMs: ms }));
  assert.deepEqual(storedRate(rows, 0, 3000), { mean: 2, min: 1, max: 3 });
  assert.deepEqual(storedRate(rows, 0, 500), { mean: 2, min: 2, max: 2 }, 'a window under a second counts as one');
});
