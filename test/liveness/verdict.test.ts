import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FrozenCheck, meanAbsDiff, regionSignature, STILL_MAD } from '../../daemon/liveness/frozen.js';
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

test('a face the passive model never scored (too small for it): the blink decides under both, nothing passes under passive', () => {
  const unscored = evidence({ antispoof: undefined, antispoofSamples: 0 });
  assert.equal(livenessVerdict(unscored, rules).live, true);
  assert.deepEqual(livenessVerdict({ ...unscored, blinks: 0 }, rules).reasons, ['no_blink']);
  const passiveOnly = livenessVerdict(unscored, { ...rules, policy: 'passive' });
  assert.equal(passiveOnly.live, false);
  assert.deepEqual(passiveOnly.reasons, ['antispoof']);
  assert.equal(passiveOnly.passiveFailed, false, 'not scored is not failed');
  // One score, then the face shrank: the check waits for its samples rather than being waived.
  assert.equal(livenessVerdict(evidence({ antispoof: 0.9, antispoofSamples: 1 }), rules).live, false);
});

test('a frozen picture is never live, whatever the policy', () => {
  for (const policy of ['both', 'blink', 'passive'] as const) {
    const v = livenessVerdict(evidence({ frozen: true }), { ...rules, policy });
    assert.equal(v.live, false, policy);
    assert.ok(v.reasons.includes('frozen'));
  }
});

test('FrozenCheck: a face region that never changes over the track is frozen; any movement is not', () => {
  const still = new FrozenCheck(5);
  for (let i = 0; i < 6; i++) still.push(0.01);
  assert.equal(still.frozen, true);
  const live = new FrozenCheck(5);
  for (let i = 0; i < 20; i++) live.push(i === 7 ? 3 : 0.1);
  assert.equal(live.frozen, false);
  const short = new FrozenCheck(5);
  for (let i = 0; i < 3; i++) short.push(0);
  assert.equal(short.frozen, false);
});

test('regionSignature: the same picture gives the same signature, another picture a different one', () => {
  const img = (seed: number) => ({ width: 64, height: 48, data: new Uint8Array(64 * 48 * 3).map((_, i) => (i * seed) % 251) });
  const box = { x: 10, y: 5, w: 40, h: 40 };
  assert.equal(meanAbsDiff(regionSignature(img(7), box), regionSignature(img(7), box)), 0);
  assert.ok(meanAbsDiff(regionSignature(img(7), box), regionSignature(img(13), box)) > STILL_MAD);
  // a box off the image gives an empty signature rather than reading outside the pixels
  assert.deepEqual([...new Set(regionSignature(img(7), { x: 100, y: 100, w: 10, h: 10 }))], [0]);
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
