import '../support/fast-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FloodGate, type FloodSummary } from '../../daemon/remote/flood.js';

test('flood gate: the first few of a window pass, the rest are counted by reason (at most 16 kept apart, the rest as other) and summarized once per window and kind', () => {
  let now = 0;
  const summaries: FloodSummary<'a' | 'b'>[] = [];
  const gate = new FloodGate<'a' | 'b'>({ windowMs: 1000, detailed: 2 }, () => now, (s) => summaries.push(s));
  assert.deepEqual([gate.admit('a', 'r0'), gate.admit('a', 'r0'), gate.admit('a', 'r0')], [true, true, false]);
  assert.equal(gate.admit('b', 'x'), true, 'each kind has its own window');
  for (let i = 1; i <= 20; i++) gate.admit('a', `r${i}`);
  assert.equal(summaries.length, 0, 'nothing before the window ends');
  now = 1000;
  assert.equal(gate.admit('a', 'r0'), true, 'a new window admits again');
  assert.equal(summaries.length, 1);
  const s = summaries[0]!;
  assert.equal(s.kind, 'a');
  assert.equal(s.suppressed, 21);
  assert.equal(Object.keys(s.reasons).length, 17);
  assert.equal(s.reasons.other, 5, 'r0 and r1..r15 kept apart, r16..r20 as other');
  assert.equal(s.reasons.r0, 1);
  gate.close();
  assert.equal(summaries.length, 1, 'a window with nothing suppressed gives no summary');
});
