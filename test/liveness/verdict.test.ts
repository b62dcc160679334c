import '../support/fast-tier.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FrozenCheck, meanAbsDiff, regionSignature, STILL_MAD } from '../../daemon/liveness/frozen.js';
import { PassiveScore, passiveLogOdds } from '../../daemon/liveness/passive.js';
import { STRUCTURE } from '../../daemon/liveness/structure.js';
import { SCREEN_VERDICT } from '../../daemon/liveness/screen.js';
import { SURROUND_VERDICT } from '../../daemon/liveness/surround.js';
import { STEREO, STEREO_FLAT_LOG_ODDS, STEREO_LIMIT, STEREO_LIVE_LOG_ODDS } from '../../daemon/liveness/stereo.js';
import { LIVE_LOG_ODDS, livenessVerdict, PROOF_LOG_ODDS, type LivenessEvidence } from '../../daemon/liveness/verdict.js';

const rules = { policy: 'fused' as const, antispoof_min_live: 0.5, antispoof_min_samples: 3 };
const still = { hits: 0, maxResidual: 0.004 };
const turned = { hits: STRUCTURE.hits, maxResidual: 0.03 };
const evidence = (over: Partial<LivenessEvidence> = {}): LivenessEvidence => ({
  blinks: 1,
  eyesReadableS: 2,
  challengesAnswered: 0,
  structure: still,
  antispoof: 0.5,
  antispoofSamples: 5,
  frozen: false,
  surround: { rigid: 0, still: SURROUND_VERDICT.clearStill },
  screen: { moved: 0, stayed: 0 },
  watchedS: 1,
  wasLive: false,
  stereo: undefined,
  ...over,
});

test('fused: one blink, or one turn or nod of the head, is live on its own', () => {
  const blinked = livenessVerdict(evidence(), rules);
  assert.equal(blinked.live, true);
  assert.deepEqual(blinked.cues, { blink: PROOF_LOG_ODDS, structure: 0, passive: 0, surround: 0, screen: 0, stereo: 0, challenge: 0 });
  const moved = livenessVerdict(evidence({ blinks: 0, structure: turned }), rules);
  assert.equal(moved.live, true);
  assert.equal(moved.cues.structure, PROOF_LOG_ODDS);
  assert.ok(moved.cues.blink < 0, 'two readable seconds without a blink take a little away');
  assert.ok(moved.score >= LIVE_LOG_ODDS);
});

test('fused: neither a blink nor a head\'s motion is not live, and says so', () => {
  const flat = livenessVerdict(evidence({ blinks: 0 }), rules);
  assert.equal(flat.live, false);
  assert.deepEqual(flat.reasons, ['no_blink', 'no_motion']);
  // Fewer looks beyond the limit than needed prove nothing: one misplaced set of landmarks is not a head.
  assert.equal(livenessVerdict(evidence({ blinks: 0, structure: { hits: STRUCTURE.hits - 1, maxResidual: 0.05 } }), rules).live, false);
});

test('fused: a low passive score is no veto, and a high one never proves a face alone', () => {
  for (const antispoof of [0, 0.01, 0.2, 0.5, 0.8]) {
    for (const proof of [{ blinks: 1 }, { blinks: 0, structure: turned, eyesReadableS: 600 }]) {
      const v = livenessVerdict(evidence({ antispoof, ...proof }), rules);
      assert.equal(v.live, true, `p(live) ${antispoof}, ${JSON.stringify(proof)}`);
      assert.equal(v.passiveFailed, false);
    }
  }
  assert.equal(livenessVerdict(evidence({ antispoof: 0.1 }), rules).cues.passive, passiveLogOdds(0.1));
  assert.ok(passiveLogOdds(0.1) < 0 && passiveLogOdds(0.7) === 0);
  const high = livenessVerdict(evidence({ blinks: 0, antispoof: 0.99 }), rules);
  assert.equal(high.cues.passive, passiveLogOdds(0.99));
  assert.ok(high.cues.passive > 0);
  assert.equal(high.live, false);
  // Too few samples: the score is not counted yet.
  assert.equal(livenessVerdict(evidence({ blinks: 0, antispoof: 0.99, antispoofSamples: 2 }), rules).cues.passive, 0);
});

test('fused: a long stay without a blink costs at most the floor, so a head that moved is still live', () => {
  const v = livenessVerdict(evidence({ blinks: 0, eyesReadableS: 600, structure: turned }), rules);
  assert.equal(v.live, true);
  assert.ok(v.cues.blink >= -0.5);
});

test("'both' is the older name of 'fused'", () => {
  const e = evidence({ blinks: 0, structure: turned, antispoof: 0.1 });
  assert.deepEqual(livenessVerdict(e, { ...rules, policy: 'both' }), livenessVerdict(e, rules));
});

test('policy blink counts blinks alone; policy passive the score alone, at antispoof_min_live', () => {
  assert.equal(livenessVerdict(evidence({ antispoof: 0.1 }), { ...rules, policy: 'blink' }).live, true);
  assert.equal(livenessVerdict(evidence({ blinks: 0, structure: turned }), { ...rules, policy: 'blink' }).live, false);
  assert.equal(livenessVerdict(evidence({ blinks: 0, antispoof: 0.6 }), { ...rules, policy: 'passive' }).live, true);
  const refused = livenessVerdict(evidence({ antispoof: 0.4 }), { ...rules, policy: 'passive' });
  assert.equal(refused.live, false);
  assert.deepEqual(refused.reasons, ['antispoof']);
  assert.equal(refused.passiveFailed, true);
  // Not scored (too small, or too few samples) is not failed, and not live.
  const unscored = livenessVerdict(evidence({ antispoof: undefined, antispoofSamples: 0 }), { ...rules, policy: 'passive' });
  assert.equal(unscored.live, false);
  assert.deepEqual(unscored.reasons, ['antispoof']);
  assert.equal(unscored.passiveFailed, false);
});

test('a frozen picture is never live, whatever the policy', () => {
  for (const policy of ['fused', 'blink', 'passive'] as const) {
    const v = livenessVerdict(evidence({ frozen: true, structure: turned, antispoof: 0.9 }), { ...rules, policy });
    assert.equal(v.live, false, policy);
    assert.ok(v.reasons.includes('frozen'));
  }
});

test('fused: a face whose surround moved with it is a held picture, never live, whatever it shows', () => {
  const held = livenessVerdict(evidence({ structure: turned, antispoof: 0.99, surround: { rigid: SURROUND_VERDICT.heldRigid, still: 6 } }), rules);
  assert.equal(held.live, false);
  assert.equal(held.cues.surround, -2 * PROOF_LOG_ODDS);
  assert.ok(held.reasons.includes('held_picture'));
  // One such comparison is not enough: a person passing behind can make one.
  assert.equal(livenessVerdict(evidence({ surround: { rigid: SURROUND_VERDICT.heldRigid - 1, still: 0 }, watchedS: 2 }), rules).live, true);
});

test('fused: a face framed by edges that moved (a screen turned or tilted in place) is a held picture, never live, whatever it shows', () => {
  const held = livenessVerdict(evidence({ structure: turned, antispoof: 0.99, screen: { moved: SCREEN_VERDICT.heldMoved, stayed: 2 } }), rules);
  assert.equal(held.live, false);
  assert.equal(held.cues.screen, -2 * PROOF_LOG_ODDS);
  assert.equal(held.cues.surround, 0);
  assert.ok(held.reasons.includes('held_picture'));
  // One move is not enough: it holds the decision back a while, then lets it go.
  const once = { moved: SCREEN_VERDICT.heldMoved - 1, stayed: 0, lastMovedS: 0.5 };
  assert.equal(livenessVerdict(evidence({ screen: once, watchedS: 0.5 + SCREEN_VERDICT.pendingS - 0.1 }), rules).live, false);
  assert.equal(livenessVerdict(evidence({ screen: once, watchedS: 0.5 + SCREEN_VERDICT.pendingS }), rules).live, true);
  // The wait holds back a first decision, not one made before the edge moved (the check-in was
  // sent, and a track that ends in the wait must not read as refused); a refusal still counts.
  assert.equal(livenessVerdict(evidence({ screen: once, watchedS: 0.5 + SCREEN_VERDICT.pendingS - 0.1, wasLive: true }), rules).live, true);
  assert.equal(livenessVerdict(evidence({ structure: turned, screen: { moved: SCREEN_VERDICT.heldMoved, stayed: 2 }, wasLive: true }), rules).live, false);
  // The cue belongs to the fused verdict: policy blink keeps its meaning.
  assert.equal(livenessVerdict(evidence({ screen: { moved: SCREEN_VERDICT.heldMoved, stayed: 0 } }), { ...rules, policy: 'blink' }).live, true);
});

test('fused: not live before the surround was seen to stay, or the face watched long enough to tell', () => {
  const early = evidence({ structure: turned, surround: { rigid: 0, still: SURROUND_VERDICT.clearStill - 1 }, watchedS: SURROUND_VERDICT.clearAfterS - 0.1 });
  assert.equal(livenessVerdict(early, rules).live, false);
  assert.equal(livenessVerdict({ ...early, watchedS: SURROUND_VERDICT.clearAfterS }, rules).live, true);
  assert.equal(livenessVerdict({ ...early, surround: { rigid: 0, still: SURROUND_VERDICT.clearStill } }, rules).live, true);
  // Policy blink keeps its meaning: one blink.
  assert.equal(livenessVerdict(early, { ...rules, policy: 'blink' }).live, true);
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

test('stereo: a door whose pairs prove a face out of a plane is live under every policy, whatever one camera saw, and nothing refuses it', () => {
  const proof = STEREO_LIMIT + 0.001;
  // Still, unblinking, scored low, its picture unchanged and its surround moving with it: all that one camera sees of a person who holds still before a wall.
  const stillPerson = evidence({ blinks: 0, eyesReadableS: 20, antispoof: 0.01, frozen: true, surround: { rigid: SURROUND_VERDICT.heldRigid, still: 6 }, screen: { moved: SCREEN_VERDICT.heldMoved, stayed: 2 }, stereo: proof });
  for (const policy of ['fused', 'both', 'blink', 'passive'] as const) {
    const v = livenessVerdict(stillPerson, { ...rules, policy });
    assert.equal(v.live, true, policy);
    assert.equal(v.cues.stereo, STEREO_LIVE_LOG_ODDS, policy);
    assert.deepEqual(v.reasons, [], `${policy}: nothing speaks against a face that stereo proved`);
    assert.equal(v.passiveFailed, false, policy);
  }
  // Not yet looked at long enough by one camera (the surround unseen): stereo does not wait for it.
  assert.equal(livenessVerdict(evidence({ blinks: 0, surround: { rigid: 0, still: 0 }, watchedS: 0, stereo: proof }), rules).live, true);
});

test('stereo: a door pair between the limits says nothing, one below the prints\' worst takes a little away and never refuses a blink', () => {
  const between = livenessVerdict(evidence({ blinks: 0, stereo: (STEREO.flatParallax + STEREO_LIMIT) / 2 }), rules);
  assert.equal(between.cues.stereo, 0);
  assert.equal(between.live, false);
  const flat = livenessVerdict(evidence({ stereo: STEREO.flatParallax / 2 }), rules);
  assert.equal(flat.cues.stereo, STEREO_FLAT_LOG_ODDS);
  assert.equal(flat.live, true, 'a blink still proves a face where the door\'s cameras are too close together to');
  assert.equal(livenessVerdict(evidence({ blinks: 0, stereo: STEREO.flatParallax / 2 }), rules).live, false);
  // No pair at all (a camera in no door, or its door's other camera down): the single-camera cues alone, as before.
  const alone = livenessVerdict(evidence({ stereo: undefined }), rules);
  assert.equal(alone.cues.stereo, 0);
  assert.equal(alone.live, true);
  assert.equal(livenessVerdict(evidence({ stereo: Number.NaN }), rules).cues.stereo, 0);
});
