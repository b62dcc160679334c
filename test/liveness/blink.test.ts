import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BlinkDetector, type Blink, type BlinkRules } from '../../daemon/liveness/blink.js';

const RULES: BlinkRules = { blink_min_ms: 60, blink_max_ms: 500, closed_ratio: 0.3, min_open_level: 0.6 };

/** Feeds p(open) pairs at `fps` from t = 0 and returns the blinks found. */
function run(pairs: Array<[number, number]>, fps = 15, rules = RULES): Blink[] {
  const d = new BlinkDetector(rules);
  const out: Blink[] = [];
  pairs.forEach(([left, right], i) => {
    const b = d.push({ t: i / fps, left, right });
    if (b) out.push(b);
  });
  return out;
}

const open = (n: number, p = 0.97): Array<[number, number]> => Array.from({ length: n }, () => [p, p]);
const closed = (n: number): Array<[number, number]> => Array.from({ length: n }, () => [0.002, 0.01]);

test('open → both closed → open is one blink, timed from the first closed sample', () => {
  const blinks = run([...open(10), ...closed(2), ...open(10)]);
  assert.equal(blinks.length, 1);
  assert.ok(Math.abs(blinks[0]!.t - 10 / 15) < 1e-9);
  assert.ok(Math.abs(blinks[0]!.closedMs - 2000 / 15) < 1e-6);
});

test('a single closed sample at 15 fps is a blink (the eyes were shut for up to two frame steps)', () => {
  assert.equal(run([...open(10), ...closed(1), ...open(5)]).length, 1);
});

test('one closed frame at 30 fps (33 ms) is shorter than blink_min_ms: not a blink', () => {
  assert.equal(run([...open(20), ...closed(1), ...open(10)], 30).length, 0);
  assert.equal(run([...open(20), ...closed(3), ...open(10)], 30).length, 1);
});

test('a wink (one eye) never counts', () => {
  const wink: Array<[number, number]> = Array.from({ length: 4 }, () => [0.001, 0.95]);
  assert.equal(run([...open(10), ...wink, ...open(10)]).length, 0);
});

test('eyes held closed past blink_max_ms are not a blink; the next real blink still is', () => {
  const blinks = run([...open(10), ...closed(15), ...open(10), ...closed(2), ...open(5)]);
  assert.equal(blinks.length, 1);
  assert.ok(Math.abs(blinks[0]!.t - 35 / 15) < 1e-9);
});

test('eyes closed when the track starts were never seen open: no blink on opening', () => {
  assert.equal(run([...closed(3), ...open(10)]).length, 0);
});

test('the threshold follows the track own open level: a talking face at 0.7 dipping to 0.4 is not closed, to 0.05 is', () => {
  assert.equal(run([...open(15, 0.7), [0.4, 0.4], [0.4, 0.4], ...open(10, 0.7)]).length, 0);
  assert.equal(run([...open(15, 0.7), [0.05, 0.05], ...open(10, 0.7)]).length, 1);
});

test('eyes the model never reads as clearly open cannot blink (open level under min_open_level)', () => {
  assert.equal(run([...open(15, 0.45), [0.01, 0.01], ...open(10, 0.45)]).length, 0);
});

test('half-open samples after a closure wait for the eyes to open fully (hysteresis)', () => {
  const blinks = run([...open(10), ...closed(1), [0.4, 0.45], ...open(5)]);
  assert.equal(blinks.length, 1);
  assert.ok(Math.abs(blinks[0]!.closedMs - 2000 / 15) < 1e-6);
});

test('a gap in the samples (face lost) breaks the sequence', () => {
  const d = new BlinkDetector(RULES);
  for (let i = 0; i < 10; i++) d.push({ t: i / 15, left: 0.95, right: 0.95 });
  d.push({ t: 10 / 15, left: 0.001, right: 0.001 });
  assert.equal(d.push({ t: 2, left: 0.95, right: 0.95 }), undefined);
});

test('a blink in the first samples of a track is found (the eyes were open just before)', () => {
  assert.equal(run([...open(2), ...closed(2), ...open(5)]).length, 1);
});

test('a lone shallow dip between fully open samples is a bad crop, not a blink', () => {
  assert.equal(run([...open(10), [0.22, 0.05], ...open(10)]).length, 0);
  // A closure through half-closed samples may be shallower than a lone dip...
  assert.equal(run([...open(10), [0.5, 0.05], [0.15, 0.05], [0.12, 0.34], ...open(10)]).length, 1);
  // ...but must still reach a clear depth: narrowed eyes (a grin, a glance down) stop at 0.2–0.3.
  assert.equal(run([...open(10), [0.5, 0.05], [0.25, 0.05], [0.27, 0.34], ...open(10)]).length, 0);
});

test('interrupt(): what came before a jump of the face box cannot start a blink', () => {
  const d = new BlinkDetector(RULES);
  for (let i = 0; i < 10; i++) d.push({ t: i / 15, left: 0.95, right: 0.95 });
  d.push({ t: 10 / 15, left: 0.001, right: 0.001 });
  d.interrupt();
  assert.equal(d.push({ t: 11 / 15, left: 0.95, right: 0.95 }), undefined);
});
