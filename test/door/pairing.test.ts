import '../support/fast-tier.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../../daemon/base/log.js';
import type { CameraHealth } from '../../daemon/camera/health.js';
import type { CaptureClockStatus } from '../../daemon/camera/capture-clock.js';
import type { CameraConfig } from '../../daemon/camera/config.js';
import { DoorStage, doorSinkOf } from '../../daemon/door/door.js';
import { nearest, PAIRING, pairingLimitMs, PairValue, partnerOf, samePerson, type Who } from '../../daemon/door/pairing.js';
import { STEREO, STEREO_LIMIT, type StereoView } from '../../daemon/liveness/stereo.js';
import type { DoorSide } from '../../daemon/track/door-link.js';
import type { PersonRef } from '../../daemon/track/events.js';
import { flattened, meanHead, view } from '../support/mean-head.js';

const unit = (...v: number[]): Float32Array => {
  const out = new Float32Array(8);
  v.forEach((x, i) => (out[i] = x));
  const n = Math.hypot(...out);
  return out.map((x) => x / n);
};

test('samePerson: one enrolled person in both views, never two; unknowns by embeddings as similar as a match needs', () => {
  const ann: Who = { person: 'p-ann', embedding: unit(1, 0) };
  const bob: Who = { person: 'p-bob', embedding: unit(1, 0) };
  assert.equal(samePerson(ann, { person: 'p-ann', embedding: unit(0, 1) }, 0.45), true, 'the same name decides, whatever the embeddings');
  assert.equal(samePerson(ann, bob, 0.45), false, 'two names are two people, however alike their faces');
  assert.equal(samePerson({ person: null, embedding: unit(1, 0.2) }, { person: null, embedding: unit(1, 0.3) }, 0.45), true);
  assert.equal(samePerson({ person: null, embedding: unit(1, 0) }, { person: null, embedding: unit(0.3, 1) }, 0.45), false);
  assert.equal(samePerson(ann, { person: null, embedding: unit(1, 0.1) }, 0.45), true, 'named in one view and not yet in the other');
  assert.equal(samePerson({ person: null, embedding: undefined }, { person: null, embedding: unit(1) }, 0.45), false, 'a track with no embedding is no one yet');
});

test('partnerOf: each person with their own partner; two people alike enough to match each other are paired with no one', () => {
  const same = (a: string, b: string) => a[0] === b[0];
  assert.equal(partnerOf('a1', ['b2', 'a2'], ['a1', 'b1'], same), 'a2');
  assert.equal(partnerOf('b1', ['b2', 'a2'], ['a1', 'b1'], same), 'b2');
  assert.equal(partnerOf('a1', ['b2'], ['a1', 'b1'], same), undefined, 'no one of that person there');
  assert.equal(partnerOf('a1', ['a2', 'a3'], ['a1'], same), undefined, 'two candidates: which one is not known');
  assert.equal(partnerOf('a1', ['a2'], ['a1', 'a4'], same), undefined, 'the partner matches two here: which one is not known');
});

test('pairingLimitMs: half the faster camera\'s frame interval, never more than PAIRING.maxMs', () => {
  assert.ok(Math.abs(pairingLimitMs([15, 15]) - 1000 / 30) < 1e-9);
  assert.ok(Math.abs(pairingLimitMs([15, 6]) - 1000 / 30) < 1e-9, 'every frame of the slower camera finds one of the faster within half its interval');
  assert.equal(pairingLimitMs([6, 6]), Math.min(PAIRING.maxMs, 500 / 6));
  assert.equal(pairingLimitMs([2, 2]), PAIRING.maxMs);
  assert.equal(pairingLimitMs([]), PAIRING.maxMs);
});

test('nearest, PairValue: the look nearest in time; the second largest of a door track\'s pairs stands for them', () => {
  assert.equal(nearest([0, 60, 130], 100), 2);
  assert.equal(nearest([], 100), undefined);
  const v = new PairValue();
  v.push(0.09);
  assert.equal(v.value, undefined, 'one pair alone does not decide');
  v.push(0.02);
  assert.equal(v.value, 0.02);
  v.push(Number.NaN);
  v.push(0.05);
  assert.equal(v.value, 0.05);
  assert.equal(v.measured, 3);
});

// ---- The door stage on two cameras ----

class FakeSide implements DoorSide {
  readonly seen: number[] = [];
  frozen = false;
  constructor(
    readonly camera: string,
    readonly id: number,
    public identity: PersonRef | null,
    public fused: Float32Array | undefined,
  ) {}
  stereoSeen(parallax: number): void {
    this.seen.push(parallax);
  }
}

const head = meanHead();
const flat = flattened(head);

/** A look of `points` from a camera turned `yawDeg`, moved `dx` px sideways in its frame (a shift is a homography: it changes no parallax). */
function look(points: typeof head, yawDeg: number, dx: number): StereoView {
  const v = view(points, { yawDeg, pitchDeg: yawDeg > 0 ? 5 : 0, facePx: 160 });
  return { landmarks: v.landmarks.map((p) => ({ x: p.x + dx, y: p.y })), box: { ...v.box, x: v.box.x + dx }, frame: v.frame };
}

function door(fps = 15) {
  const cameras = ['left', 'right'].map((name) => ({ name, fps }) as unknown as import('../../daemon/camera/config.js').CameraConfig);
  let now = 0;
  const stage = new DoorStage({ door: { name: 'front-door', cameras: ['left', 'right'] }, cameras, eyeFps: 15, threshold: () => 0.45, monoNow: () => now, logger: createLogger({ level: 'silent' }) });
  const left = doorSinkOf([stage], 'left')!;
  const right = doorSinkOf([stage], 'right')!;
  return { stage, left, right, setNow: (ms: number) => (now = ms) };
}

test('door: two people in both views at once, one a head and one a print: each paired with their own, never mixed', () => {
  for (const named of [true, false]) {
    const { stage, left, right } = door();
    const ann = { id: 'p-ann', name: 'Ann' };
    const bob = { id: 'p-bob', name: 'Bob' };
    // Unknowns have only their embeddings: Ann's and Bob's are far apart, each near its own in the other view.
    const annL = new FakeSide('left', 1, named ? ann : null, unit(1, 0.1, 0));
    const bobL = new FakeSide('left', 2, named ? bob : null, unit(0, 1, 0.1));
    const annR = new FakeSide('right', 7, named ? ann : null, unit(1, 0, 0.1));
    const bobR = new FakeSide('right', 8, named ? bob : null, unit(0.1, 1, 0));
    for (let i = 0; i < 10; i++) {
      const t = 1000 + i * 67;
      // Ann stands on the left of both frames, Bob's print on the right; the two cameras 40° apart.
      left.look(annL, { capturedMs: t, view: look(head, -20, -300) });
      left.look(bobL, { capturedMs: t + 2, view: look(flat, -20, 300) });
      right.look(bobR, { capturedMs: t + 5, view: look(flat, 20, 250) });
      right.look(annR, { capturedMs: t + 6, view: look(head, 20, -250) });
    }
    const label = named ? 'named' : 'unknown';
    assert.ok(annL.seen.length > 0 && annR.seen.length > 0, `${label}: Ann's tracks were told what her pairs stand for`);
    assert.ok(annL.seen.every((v) => v >= STEREO_LIMIT) && annR.seen.every((v) => v >= STEREO_LIMIT), `${label}: her head stands out: ${annL.seen}`);
    assert.ok(bobL.seen.length > 0 && bobL.seen.concat(bobR.seen).every((v) => v < STEREO.flatParallax), `${label}: the print paired with itself only: ${bobL.seen} / ${bobR.seen}`);
    assert.equal(stage.status().pairs, 20, `${label}: every look paired once`);
  }
});

test('door: two unknowns alike enough to match each other in both views are paired with no one', () => {
  const { stage, left, right } = door();
  const sides = [new FakeSide('left', 1, null, unit(1, 0.1)), new FakeSide('left', 2, null, unit(1, 0.15)), new FakeSide('right', 1, null, unit(1, 0.12)), new FakeSide('right', 2, null, unit(1, 0.13))];
  for (let i = 0; i < 5; i++) {
    const t = i * 67;
    left.look(sides[0]!, { capturedMs: t, view: look(head, -20, -300) });
    left.look(sides[1]!, { capturedMs: t, view: look(head, -20, 300) });
    right.look(sides[2]!, { capturedMs: t, view: look(head, 20, -300) });
    right.look(sides[3]!, { capturedMs: t, view: look(head, 20, 300) });
  }
  assert.equal(stage.status().pairs, 0);
  assert.ok(sides.every((s) => s.seen.length === 0));
});

test('door: looks further apart in time than the limit are not paired, and counted once the partner has gone past them; a frozen picture pairs with nothing', () => {
  const { stage, left, right } = door();
  const l = new FakeSide('left', 1, { id: 'p-ann', name: null }, undefined);
  const r = new FakeSide('right', 1, { id: 'p-ann', name: null }, undefined);
  // Both cameras' looks come at 5 a second (frames between them skipped), the right one's 50 ms after
  // the left's: beyond half of a 15 fps interval, within one. (At one rate and a steady offset, every
  // frame's nearest partner is within half an interval: skew shows where rates or delays differ.)
  for (let i = 0; i < 6; i++) {
    left.look(l, { capturedMs: i * 200, view: look(head, -20, 0) });
    right.look(r, { capturedMs: i * 200 + 50, view: look(head, 20, 0) });
  }
  const s = stage.status();
  assert.equal(s.pairs, 0);
  assert.ok(s.refused_time_skew >= 5, `refused ${s.refused_time_skew}`);
  assert.equal(s.pair_limit_ms, 33);
  assert.deepEqual(s.skew_ms, { p50: 50, p90: 50 }, 'how far apart the looks were, against the limit');
  const { stage: still, left: l2, right: r2 } = door();
  const frozen = new FakeSide('left', 1, { id: 'p-ann', name: null }, undefined);
  frozen.frozen = true;
  for (let i = 0; i < 4; i++) {
    l2.look(frozen, { capturedMs: i * 67, view: look(head, -20, 0) });
    r2.look(r, { capturedMs: i * 67, view: look(head, 20, 0) });
  }
  assert.equal(still.status().pairs, 0);
});

test('door: a camera down puts the door on single-camera cues, says which and why, and back to stereo when it streams again', () => {
  const { stage, setNow, left, right } = door();
  const listeners: Array<(h: CameraHealth) => void> = [];
  const unsubscribe = stage.subscribe({ on: (_name, _stage, fn) => (listeners.push(fn as (h: CameraHealth) => void), () => listeners.splice(0)) });
  const health = (camera: string, state: CameraHealth['state']) => listeners.forEach((fn) => fn({ camera, state } as CameraHealth));
  assert.equal(stage.status().state, 'single_camera', 'not streaming yet');
  health('left', 'streaming');
  health('right', 'streaming');
  assert.deepEqual([stage.status().state, stage.status().reason], ['stereo', null]);
  assert.equal(stage.status().last_pair_age_s, null);
  const l = new FakeSide('left', 1, { id: 'p-ann', name: null }, undefined);
  const r = new FakeSide('right', 1, { id: 'p-ann', name: null }, undefined);
  left.look(l, { capturedMs: 1000, view: look(head, -20, 0) });
  right.look(r, { capturedMs: 1010, view: look(head, 20, 0) });
  setNow(4000);
  assert.equal(stage.status().last_pair_age_s, 3);
  health('right', 'stalled');
  assert.deepEqual([stage.status().state, stage.status().reason], ['single_camera', 'right is stalled']);
  health('right', 'streaming');
  assert.equal(stage.status().state, 'stereo');
  unsubscribe();
  assert.equal(listeners.length, 0, 'unsubscribed on stop');
  assert.equal(doorSinkOf([stage], 'lobby'), undefined, 'a camera in no door has no sink: nothing runs for it per frame');
});

test('door of three cameras: a look pairs once with each of the others, so each pair of cameras proves the face', () => {
  const cameras = ['left', 'middle', 'right'].map((name) => ({ name, fps: 15 }) as unknown as import('../../daemon/camera/config.js').CameraConfig);
  const stage = new DoorStage({ door: { name: 'hall', cameras: ['left', 'middle', 'right'] }, cameras, eyeFps: 15, threshold: () => 0.45, monoNow: () => 0, logger: createLogger({ level: 'silent' }) });
  const ann = { id: 'p-ann', name: null };
  const sides = { left: new FakeSide('left', 1, ann, undefined), middle: new FakeSide('middle', 1, ann, undefined), right: new FakeSide('right', 1, ann, undefined) };
  const yaw = { left: -30, middle: 0, right: 30 };
  for (let i = 0; i < 4; i++) for (const c of ['left', 'middle', 'right'] as const) doorSinkOf([stage], c)!.look(sides[c], { capturedMs: i * 67 + 3, view: look(head, yaw[c], 0) });
  assert.equal(stage.status().pairs, 12, 'four moments, three pairs of cameras');
  assert.ok(Object.values(sides).every((s) => s.seen.length > 0 && s.seen.every((v) => v >= STEREO_LIMIT)));
});

test('door: a look the door fails on is dropped without stopping the camera that handed it on', () => {
  const { stage, left } = door();
  const broken = new FakeSide('left', 1, null, undefined);
  Object.defineProperty(broken, 'frozen', {
    get() {
      throw new Error('broken track');
    },
  });
  assert.doesNotThrow(() => left.look(broken, { capturedMs: 0, view: look(head, -20, 0) }));
  assert.doesNotThrow(() => left.look(broken, { capturedMs: 67, view: look(head, -20, 0) }));
  assert.equal(stage.status().pairs, 0);
});

test('door: the parallax of the enrolled people who passed, against the limit, for doctor; strangers are left out, since one may be a picture', () => {
  const { stage, left, right, setNow } = door();
  assert.equal(stage.status().people_parallax, null, 'no one yet');
  const people = ['p-ann', 'p-bob', 'p-cy'].map((id) => ({ id, name: id }));
  let t = 1000;
  for (const [i, person] of people.entries()) {
    const l = new FakeSide('left', i + 1, person, undefined);
    const r = new FakeSide('right', i + 1, person, undefined);
    for (let k = 0; k < 4; k++, t += 67) {
      left.look(l, { capturedMs: t, view: look(head, -20, 0) });
      right.look(r, { capturedMs: t + 5, view: look(head, 20, 0) });
    }
    t += 6000; // gone past the door track's idle time before the next person comes
    setNow(t);
  }
  // A stranger's print in both views: it pairs (flat), and is not one of the people.
  const sl = new FakeSide('left', 9, null, unit(1, 0, 0));
  const sr = new FakeSide('right', 9, null, unit(1, 0, 0));
  for (let k = 0; k < 4; k++, t += 67) {
    left.look(sl, { capturedMs: t, view: look(flat, -20, 0) });
    right.look(sr, { capturedMs: t + 5, view: look(flat, 20, 0) });
  }
  const summary = stage.status().people_parallax!;
  assert.equal(summary.people, 3, JSON.stringify(summary));
  assert.ok(summary.p50 >= STEREO_LIMIT, `heads 40° apart stand out of the plane: ${JSON.stringify(summary)}`);
  assert.equal(summary.limit, Math.round(STEREO_LIMIT * 1e4) / 1e4);
});

test("door: each camera's clock and latency, and how far apart the latencies are (a camera not measured is on arrival time)", () => {
  const cameras = ['left', 'middle', 'right'].map((name) => ({ name, fps: 15 }) as CameraConfig);
  const clocks: Record<string, CaptureClockStatus | undefined> = { left: { clock: 'camera', latency_ms: 4 }, middle: undefined, right: { clock: 'camera', latency_ms: 304 } };
  const stage = new DoorStage({ door: { name: 'hall', cameras: ['left', 'middle', 'right'] }, cameras, eyeFps: 15, threshold: () => 0.45, monoNow: () => 0, clockOf: (c) => clocks[c], logger: createLogger({ level: 'silent' }) });
  const s = stage.status();
  assert.deepEqual(s.clocks, [
    { camera: 'left', clock: 'camera', latency_ms: 4 },
    { camera: 'middle', clock: 'arrival', latency_ms: null },
    { camera: 'right', clock: 'camera', latency_ms: 304 },
  ]);
  assert.equal(s.latency_spread_ms, 300);
  clocks.right = { clock: 'arrival', latency_ms: null };
  assert.equal(stage.status().latency_spread_ms, null, 'fewer than two cameras on their own clocks: nothing to compare');
});
