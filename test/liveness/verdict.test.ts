import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FrozenCheck } from '../../daemon/liveness/frozen.js';
import { PassiveScore } from '../../daemon/liveness/passive.js';
import { livenessVerdict, type LivenessEvidence } from '../../daemon/liveness/verdict.js';

const rules = { policy: 'both' as const, antispoof_min_live: 0.5, antispoof_min_samples: 3 };
const evidence = (over: Partial<LivenessEvidence> = {}): LivenessEvidence => ({ blinks: 1, antispoof: 0.9, antispoofSamples: 5, frozen: false, ...over });

test('policy both: a blink and a passing passive score are both needed', () => {
  assert.equal(livenessVerdict(evidence(), rules).live, true);
  assert.deepEqual(livenessVerdict(evidence({ blinks: 0 }), rules).reasons, ['no_blink']);
  const printed = livenessVerdict(evidence({ antispoof: 0.1 }), rules);
  assert.equal(printed.live, false);
  assert.deepEqual(printed.reasons, ['antispoof']);
  assert.equal(printed.passiveFailed, true);
});

test('policy blink ignores the passive score; policy passive ignores blinks', () => {
  assert.equal(livenessVerdict(evidence({ antispoof: 0.1 }), { ...rules, policy: 'blink' }).live, true);
  assert.equal(livenessVerdict(evidence({ blinks: 0 }), { ...rules, policy: 'passive' }).live, true);
  assert.equal(livenessVerdict(evidence({ antispoof: 0.1 }), { ...rules, policy: 'blink' }).passiveFailed, false);
});

test('the passive check decides only after enough frames', () => {
  const v = livenessVerdict(evidence({ antispoofSamples: 2, antispoof: 0.1 }), rules);
  assert.equal(v.live, false);
  assert.equal(v.passiveFailed, false);
});

test('a frozen picture is never live, whatever the policy', () => {
  for (const policy of ['both', 'blink', 'passive'] as const) {
    const v = livenessVerdict(evidence({ frozen: true }), { ...rules, policy });
    assert.equal(v.live, false, policy);
    assert.ok(v.reasons.includes('frozen'));
  }
});

test('FrozenCheck: identical landmarks over the whole track are frozen; any movement is not', () => {
  const still = new FrozenCheck(5);
  for (let i = 0; i < 6; i++) still.push(0);
  assert.equal(still.frozen, true);
  const live = new FrozenCheck(5);
  for (let i = 0; i < 20; i++) live.push(i === 7 ? 0.3 : 0);
  assert.equal(live.frozen, false);
  const short = new FrozenCheck(5);
  for (let i = 0; i < 3; i++) short.push(0);
  assert.equal(short.frozen, false);
});

test('PassiveScore is the mean over frames and ignores non-numbers', () => {
  const p = new PassiveScore();
  assert.equal(p.mean, undefined);
  p.add(0.2);
  p.add(0.8);
  p.add(Number.NaN);
  assert.equal(p.samples, 2);
  assert.ok(Math.abs(p.mean! - 0.5) < 1e-12);
});
