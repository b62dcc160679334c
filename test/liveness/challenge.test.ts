// The movement challenge's answer check on pose series shaped as people move (a turn there and
// back, a nod, a replay that moves the other way first), and the requests a track makes of it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CHALLENGE_MOVES } from '../../contract/display.js';
import { answerOf, CHALLENGE, poseOf, type PoseSample } from '../../daemon/liveness/challenge.js';
import { livenessVerdict } from '../../daemon/liveness/verdict.js';
import { randomMove, TrackChallenge } from '../../daemon/track/challenge.js';
import type { Landmarks68 } from '../../daemon/vision/types.js';

const FPS = 15;

/** A head still at (yaw0, pitch0) from 0 to `untilS`, with `moves` laid over it: each a bump of `deg` in yaw or pitch from `at` lasting `s`. */
function series(untilS: number, moves: Array<{ at: number; s: number; yaw?: number; pitch?: number }> = [], yaw0 = 3, pitch0 = -20): PoseSample[] {
  const out: PoseSample[] = [];
  for (let i = 0; i <= untilS * FPS; i++) {
    const t = i / FPS;
    let yaw = yaw0 + 0.8 * Math.sin(i * 1.7);
    let pitch = pitch0 + 0.8 * Math.cos(i * 1.3);
    for (const m of moves) {
      if (t < m.at || t > m.at + m.s) continue;
      const bump = Math.sin((Math.PI * (t - m.at)) / m.s);
      yaw += (m.yaw ?? 0) * bump;
      pitch += (m.pitch ?? 0) * bump;
    }
    out.push({ t, yaw, pitch });
  }
  return out;
}

test('a turn to the person\'s own left (the face toward the image\'s right), there and back after the request, answers turn_left', () => {
  const poses = series(8, [{ at: 3.6, s: 1.2, yaw: 30 }]);
  const a = answerOf('turn_left', 3, poses, 8);
  assert.equal(a.answer, 'correct');
  assert.ok(a.answer === 'correct' && a.atT > 4.2 && a.atT <= 4.8, JSON.stringify(a));
  assert.deepEqual(answerOf('turn_right', 3, poses, 8), { answer: 'wrong', moved: 'turn_left', atT: (a as { atT: number }).atT });
  assert.equal(answerOf('turn_right', 3, series(8, [{ at: 3.6, s: 1.2, yaw: -30 }]), 8).answer, 'correct');
});

test('a nod (pitch down and back) answers nod, and a small nod below the limit is no answer', () => {
  assert.equal(answerOf('nod', 3, series(8, [{ at: 3.5, s: 1, pitch: 18 }]), 8).answer, 'correct');
  assert.deepEqual(answerOf('turn_left', 3, series(8, [{ at: 3.5, s: 1, pitch: 18 }]), 8).answer, 'wrong');
  assert.equal(answerOf('nod', 3, series(8, [{ at: 3.5, s: 1, pitch: 0.6 * CHALLENGE.pitchDeg }]), 8).answer, 'none');
});

test('the first movement decides: a replay that turns right and then left does not answer turn_left', () => {
  const poses = series(9, [
    { at: 3.5, s: 1, yaw: -30 },
    { at: 4.7, s: 1, yaw: 30 },
  ]);
  const a = answerOf('turn_left', 3, poses, 9);
  assert.equal(a.answer, 'wrong');
  assert.ok(a.answer === 'wrong' && a.moved === 'turn_right');
});

test('a movement that began before the request (within the reaction time) is no answer, nor one still away when the window closes', () => {
  // Already turning when asked: it is back before anything after the reaction time starts one.
  assert.equal(answerOf('turn_left', 3, series(8, [{ at: 2.6, s: 0.7, yaw: 30 }]), 8).answer, 'none');
  // Turned and held there until after the window.
  const held = series(10, [{ at: 3.5, s: 12, yaw: 40 }]);
  assert.equal(answerOf('turn_left', 3, held, 3 + CHALLENGE.windowS).answer, 'none');
});

test('pending while the window is open and nothing was made and undone; none once it closes; none with no look at all', () => {
  const poses = series(8, [{ at: 3.6, s: 1.2, yaw: 30 }]);
  assert.deepEqual(answerOf('turn_left', 3, poses.filter((p) => p.t <= 4), 4), { answer: 'pending' });
  assert.deepEqual(answerOf('turn_left', 3, series(8), 5), { answer: 'pending' });
  assert.deepEqual(answerOf('turn_left', 3, series(8), 3 + CHALLENGE.windowS), { answer: 'none' });
  assert.deepEqual(answerOf('nod', 3, [], 3 + CHALLENGE.windowS), { answer: 'none' });
  assert.deepEqual(answerOf('nod', 3, [], 4), { answer: 'pending' });
});

test('with no look before the request, the first looks after it are the baseline', () => {
  const poses = series(8, [{ at: 4, s: 1.2, yaw: -30 }]).filter((p) => p.t > 3.05);
  assert.equal(answerOf('turn_right', 3, poses, 8).answer, 'correct');
});

test('poseOf: degenerate landmarks give no pose', () => {
  const flat: Landmarks68 = Array.from({ length: 68 }, () => ({ x: 10, y: 10 }));
  assert.equal(poseOf(flat), undefined);
});

test('a track is asked after_s after it was named, not while live, up to rounds requests, the next 0.5 s after an answer', () => {
  const moves = ['turn_left', 'nod'] as const;
  let n = 0;
  const c = new TrackChallenge(() => moves[n++]!);
  const settings = { afterS: 1.5, rounds: 2 };
  const poses = series(14, [
    { at: 3.4, s: 1, yaw: 30 },
    { at: 5.5, s: 1, pitch: 18 },
  ]);
  const landmarksAt = new Map<number, PoseSample>();
  for (const p of poses) landmarksAt.set(p.t, p);
  // Fed as the track does: a pose and a step at each frame.
  const feed = (t: number, live = false, namedT: number | undefined = 1) => {
    c.pose(landmarksAt.get(t)!);
    c.step(t, { settings, namedT, live });
  };
  for (const p of poses.filter((q) => q.t < 2.5)) feed(p.t);
  assert.equal(c.open, undefined, 'not before named + after_s');
  for (const p of poses.filter((q) => q.t >= 2.5 && q.t < 2.6)) feed(p.t);
  assert.equal(c.records()[0]?.move, 'turn_left');
  assert.equal(c.records()[0]?.answer, 'pending');
  for (const p of poses.filter((q) => q.t >= 2.6 && q.t < 5)) feed(p.t);
  assert.equal(c.records()[0]!.answer, 'correct');
  assert.equal(c.answered, 1);
  for (const p of poses.filter((q) => q.t >= 5 && q.t < 14)) feed(p.t);
  const records = c.records();
  assert.equal(records.length, 2, 'two rounds, no third');
  assert.equal(records[1]!.move, 'nod');
  assert.ok(records[1]!.asked_t >= records[0]!.answered_t! + 0.5);
  assert.equal(records[1]!.answer, 'correct');
  assert.equal(c.answered, 2);

  const live = new TrackChallenge(() => 'nod');
  for (const p of poses) live.step(p.t, { settings, namedT: 0, live: true });
  assert.deepEqual(live.records(), [], 'a live track is asked nothing');
  const elsewhere = new TrackChallenge(() => 'nod');
  for (const p of poses) elsewhere.step(p.t, { settings: undefined, namedT: 0, live: false });
  assert.deepEqual(elsewhere.records(), [], 'a camera that does not ask');
  const unnamed = new TrackChallenge(() => 'nod');
  for (const p of poses) unnamed.step(p.t, { settings, namedT: undefined, live: false });
  assert.deepEqual(unnamed.records(), [], 'nobody recognised yet');
});

test('a missing answer is kept as none at the window\'s close, and the next request follows', () => {
  const c = new TrackChallenge(() => 'turn_right');
  const poses = series(12);
  for (const p of poses) {
    c.pose(p);
    c.step(p.t, { settings: { afterS: 0, rounds: 2 }, namedT: 1, live: false });
  }
  const [first, second] = c.records();
  assert.equal(first!.answer, 'none');
  assert.equal(first!.answered_t, Math.round((first!.asked_t + CHALLENGE.windowS) * 1000) / 1000);
  assert.equal(second!.answer, 'none');
  assert.equal(c.answered, 0);
});

test('each movement is drawn from the cryptographic generator, all three about equally often (fixed count, no seed needed)', () => {
  const counts = new Map<string, number>();
  for (let i = 0; i < 3000; i++) {
    const move = randomMove();
    counts.set(move, (counts.get(move) ?? 0) + 1);
  }
  assert.deepEqual([...counts.keys()].sort(), [...CHALLENGE_MOVES].sort());
  for (const n of counts.values()) assert.ok(n > 800 && n < 1200, JSON.stringify([...counts]));
});

test('an answered movement adds its share to the fused liveness; none takes nothing away', () => {
  const base = { blinks: 0, eyesReadableS: 0, structure: { hits: 0, maxResidual: 0 }, antispoof: undefined, antispoofSamples: 0, frozen: false, surround: { rigid: 0, still: 0 }, screen: { moved: 0, stayed: 0 }, watchedS: 3, wasLive: false, stereo: undefined };
  const rules = { policy: 'fused' as const, antispoof_min_live: 0.5, antispoof_min_samples: 3 };
  const none = livenessVerdict({ ...base, challengesAnswered: 0 } as Parameters<typeof livenessVerdict>[0], rules);
  const one = livenessVerdict({ ...base, challengesAnswered: 1 } as Parameters<typeof livenessVerdict>[0], rules);
  assert.equal(none.cues.challenge, 0);
  assert.ok(one.cues.challenge > 0);
  assert.equal(Math.round((one.score - none.score) * 100) / 100, one.cues.challenge);
  assert.equal(one.live, false, 'one answer alone proves no face');
  const two = livenessVerdict({ ...base, challengesAnswered: 2 } as Parameters<typeof livenessVerdict>[0], rules);
  assert.equal(two.live, true, 'two answers in a row do, where nothing speaks against the face');
  assert.ok(two.cues.challenge < 2 * one.cues.challenge, 'the second weighs less: a replay that passed one passes the next more often');
});
