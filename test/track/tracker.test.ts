import '../support/fast-tier.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultConfig } from '../../daemon/config/load.js';
import { CameraTracker } from '../../daemon/track/camera-tracker.js';
import type { TrackConfig } from '../../daemon/track/config.js';
import type { TrackEvent } from '../../daemon/track/events.js';
import type { MatchResult } from '../../daemon/track/identity.js';
import { UnknownRegistry } from '../../daemon/track/unknowns.js';
import type { Box } from '../../daemon/vision/types.js';
import { unitVector } from '../gallery/helpers.js';
import { FakeEngine, blinkAt, frameAt, openEyes, type FakeFace } from './fake-engine.js';

const ENROLLED = 1;
const config = defaultConfig();

/** A gallery of one person (the fake engine's person 1). */
function identify(fused: Float32Array): MatchResult {
  const ref = unitVector(ENROLLED);
  let score = 0;
  for (let i = 0; i < ref.length; i++) score += ref[i]! * fused[i]!;
  return score >= 0.45 ? { person: { id: 'p1', name: 'Ada' }, score, margin: score, near: false } : { person: null, score, margin: 0, near: false };
}

const still = (x: number, h = 120) => () => ({ x, y: 100, w: h * 0.8, h });
/** A face at an access terminal's range, large enough for the passive anti-spoof model. */
const CLOSE = 240;
const between = (from: number, to: number, x: number, h = 120) => (t: number) => (t >= from && t < to ? { x, y: 100, w: h * 0.8, h } : undefined);

async function run(faces: FakeFace[], seconds: number, options: { fps?: number; track?: Partial<TrackConfig>; unknowns?: UnknownRegistry; frozen?: boolean; identify?: (fused: Float32Array) => MatchResult } = {}) {
  const engine = new FakeEngine(faces);
  let n = 0;
  const tracker = new CameraTracker({
    camera: 'door',
    engine,
    config: { ...config.track, ...options.track },
    identify: options.identify ?? identify,
    unknowns: options.unknowns ?? new UnknownRegistry({ similarity: 0.5, retentionS: 3600, maxFrames: 3 }, () => `anon-${++n}`),
  });
  const fps = options.fps ?? 15;
  const events: TrackEvent[] = [];
  let t = 0;
  for (let i = 0; i * (1 / fps) <= seconds; i++) {
    t = i / fps;
    engine.t = t;
    events.push(...(await tracker.process(frameAt(t, options.frozen, faces.flatMap((f) => f.box(t) ?? [])), t)));
  }
  events.push(...(await tracker.finish(t)));
  return { events, tracker, engine };
}

const types = (events: TrackEvent[]) => events.map((e) => e.type);

test('an enrolled person who blinks: recognised (not yet live), the blink, recognised live once, ended live', async () => {
  const { events, tracker } = await run([{ box: still(100), eyes: blinkAt(2.0, 2.15), person: ENROLLED }], 4);
  assert.deepEqual(types(events), ['track_started', 'recognized', 'blink', 'recognized', 'track_ended']);
  const [started, first, blink, live, ended] = events as [Extract<TrackEvent, { type: 'track_started' }>, Extract<TrackEvent, { type: 'recognized' }>, Extract<TrackEvent, { type: 'blink' }>, Extract<TrackEvent, { type: 'recognized' }>, Extract<TrackEvent, { type: 'track_ended' }>];
  assert.equal(started.face_px, 120, 'a track begins with the height of its face');
  assert.equal(first.live, false);
  assert.equal(first.assurance, 'recognised', 'named, not proven yet');
  assert.equal(first.person.name, 'Ada');
  assert.ok(first.thumbnail && first.thumbnail.subarray(0, 2).equals(Buffer.from([0xff, 0xd8])), 'JPEG thumbnail');
  assert.ok(Math.abs(blink.t - 2.0) < 0.07);
  assert.equal(live.live, true);
  assert.equal(live.assurance, 'live', 'proven by the single camera: no door');
  assert.equal(live.blink_t, blink.t);
  assert.equal(live.antispoof, null, 'a 120 px face is below the passive model’s range: the blink decides');
  assert.equal(ended.live, true);
  assert.equal(ended.blinks, 1);
  assert.ok(events.every((e) => e.track === 1 && e.camera === 'door'));
  // detect at 5 fps, follow at 15 fps
  assert.equal(tracker.stats.detectFrames, 21);
  assert.equal(tracker.stats.followFrames, 40);
});

test('a camera that is behind (its queue dropped frames) follows the faces in view on the frames its rates put between two detections, instead of detecting on every frame; an empty one detects by the clock; a camera that keeps up, as before', async () => {
  /** 15 fps sent, `kept` of every `of` frames reach the tracker, each saying whether frames were dropped before it. */
  const feed = async (face: boolean, kept: number, of: number) => {
    const engine = new FakeEngine(face ? [{ box: still(100), eyes: openEyes, person: ENROLLED }] : []);
    const tracker = new CameraTracker({ camera: 'door', engine, config: config.track, identify, unknowns: new UnknownRegistry({ similarity: 0.5, retentionS: 3600, maxFrames: 3 }, () => 'anon-1') });
    const kinds: string[] = [];
    for (let i = 0; i < 60; i++) {
      if (i % of >= kept) continue;
      const t = i / 15;
      engine.t = t;
      const before = tracker.stats.detectFrames;
      await tracker.process(frameAt(t, false, face ? [still(100)()] : []), t, { behind: i > 0 && i % of === 0 && kept < of });
      kinds.push(tracker.stats.detectFrames > before ? 'D' : 'f');
    }
    return kinds.join('');
  };
  // One frame of three reaches the tracker: 0.2 s apart, each a detection by the clock.
  assert.equal(await feed(true, 1, 3), 'D' + 'ffD'.repeat(6) + 'f', 'a face in view: two follows between detections');
  assert.equal(await feed(false, 1, 3), 'D'.repeat(20), 'nothing to follow: every frame is a detection, as due');
  assert.equal(await feed(true, 3, 3), 'Dff'.repeat(20), 'keeping up: a detection every 1/detect_fps s');
});

test('eyes read shut on follows that the next detection does not confirm (the face is not where, or not as large as, the follow had it) make no blink', async () => {
  // A print jerked about: between two detections the follow's landmarks slide off the face or pull
  // together onto part of it, and the eye crops cut from them read shut and change as lids would;
  // the detection after finds the whole face where it is, eyes open. The same closure on a face the
  // follow held is a blink.
  const slid = (t: number) => t > 2.1 && t < 2.17;
  const eyes = (t: number): [number, number] => (slid(t) ? [0.002, 0.004] : [0.97, 0.95]);
  // Each step within what a follow accepts from the last (×1.25 in size), together beyond it.
  const shrunk: FakeFace = { box: (t) => ({ x: 100, y: 100, w: 96, h: t > 2.03 && t < 2.1 ? 104 : slid(t) ? 90 : 120 }), eyes, person: ENROLLED };
  const moved: FakeFace = { box: (t) => ({ x: t > 2.03 && t < 2.1 ? 112 : slid(t) ? 124 : 100, y: 100, w: 96, h: 120 }), eyes, person: ENROLLED };
  const held: FakeFace = { box: still(100), eyes, person: ENROLLED };
  const blinks = async (face: FakeFace) => types((await run([face], 4)).events).filter((e) => e === 'blink');
  assert.deepEqual(await blinks(shrunk), []);
  assert.deepEqual(await blinks(moved), []);
  assert.deepEqual(await blinks(held), ['blink']);
});

test('a decided, scored track is embedded again once every reembed_s, and anti-spoofed on every detection only until it is live; eyes on every frame', async () => {
  const faces = [{ box: still(100, CLOSE), eyes: blinkAt(2.0, 2.15), person: ENROLLED }];
  const gated = await run(faces, 6);
  const every = await run(faces, 6, { track: { reembed_s: 0 } });
  assert.deepEqual(types(gated.events), types(every.events), 'the same events');
  assert.equal(every.engine.calls.embed, every.tracker.stats.detectFrames);
  // decide_frames (3) and antispoof_min_samples (3) first, then one every reembed_s (3 s) over the 5.4 s left.
  assert.ok(gated.engine.calls.embed <= 3 + 2, `embedded ${gated.engine.calls.embed} times of ${gated.tracker.stats.detectFrames}`);
  // Live after the blink that ends at 2.15 s: every detection until then (5 fps), then only with the embeddings.
  const untilLive = Math.ceil(2.2 * 5) + 1;
  assert.ok(gated.engine.calls.antispoof > gated.engine.calls.embed && gated.engine.calls.antispoof <= untilLive + 2, `anti-spoofed ${gated.engine.calls.antispoof} times`);
  assert.equal(gated.engine.calls.analyze, every.engine.calls.analyze, 'eyes are read on every frame either way');
  for (const { engine, tracker } of [gated, every]) {
    assert.deepEqual(tracker.stats.runs, { landmarks: engine.calls.analyze, embedder: engine.calls.embed, antispoof: engine.calls.antispoof }, 'the runs the metrics count are the runs made');
  }
});

test('a print whose passive score falls once its identity is decided is still scored on every detection until it is live, and never is', async () => {
  // Scores live while the identity is decided, then not: a print brought into the light, turned.
  const { events, engine } = await run([{ box: still(100, CLOSE), eyes: openEyes, person: ENROLLED, pLive: (t) => (t < 0.7 ? 0.9 : 0.1) }], 4);
  assert.ok(!events.some((e) => 'live' in e && e.live), 'never live');
  const ended = events.find((e) => e.type === 'track_ended');
  assert.ok(ended?.type === 'track_ended' && ended.antispoof! < 0.5, `passive mean ${ended?.type === 'track_ended' && ended.antispoof}`);
  assert.equal(engine.calls.antispoof, engine.calls.detect, 'every detection scored');
});

test('a face that stops short of where it was predicted: landmarks are run again on the box they gave, so its eyes are read where it is', async () => {
  // 300 px/s to the right for a second, then still: the first followed frames after the stop are
  // predicted 20–40 px on.
  const x = (t: number) => 100 + 300 * Math.min(t, 1);
  const { engine } = await run([{ box: (t) => ({ x: x(t), y: 100, w: 96, h: 120 }), eyes: openEyes, person: ENROLLED }], 1.6);
  const byFrame = new Map<number, Box[]>();
  for (const a of engine.analysed) byFrame.set(a.t, [...(byFrame.get(a.t) ?? []), a.box]);
  const rerun = [...byFrame].filter(([, boxes]) => boxes.length > 1);
  // Also as it set off, before its speed was known.
  assert.ok(rerun.some(([t]) => t > 1 && t < 1.2), `run again on frames ${rerun.map(([t]) => t.toFixed(2))}`);
  for (const [t, boxes] of rerun) {
    assert.ok(Math.abs(boxes[0]!.x - x(t)) > 6, 'the predicted box missed the face');
    assert.ok(Math.abs(boxes.at(-1)!.x - x(t)) < 1, `at ${t.toFixed(2)} the eyes were read on the face (box at ${boxes.at(-1)!.x.toFixed(1)}, face at ${x(t)})`);
  }
});

test('frames faster than eye_fps are skipped; detection stays at detect_fps', async () => {
  const { tracker } = await run([{ box: still(100), eyes: openEyes, person: ENROLLED }], 2, { fps: 30 });
  assert.equal(tracker.stats.frames, 31);
  assert.equal(tracker.stats.skipped, 30);
  assert.equal(tracker.stats.detectFrames, 11);
});

test('no blink: recognised but never live; the passive score alone passes with policy passive, on faces large enough for it', async () => {
  const face = { box: still(100, CLOSE), eyes: openEyes, person: ENROLLED };
  const both = await run([face], 3);
  assert.ok(!both.events.some((e) => 'live' in e && e.live));
  const passivePolicy = { track: { liveness: { ...config.track.liveness, policy: 'passive' as const } } };
  const passive = await run([face], 3, passivePolicy);
  assert.ok(passive.events.some((e) => e.type === 'recognized' && e.live));
  const small = await run([{ ...face, box: still(100) }], 3, passivePolicy);
  assert.ok(small.events.some((e) => e.type === 'recognized'), 'recognised');
  assert.ok(!small.events.some((e) => 'live' in e && e.live), 'a face the passive model does not score has nothing to pass it');
  assert.equal(small.engine.calls.antispoof, 0);
});

test('a person who never blinks (as the detector sees them) ends not live, not refused; a site that opts in with no_blink_alert_s refuses such a track at its end', async () => {
  const face = { box: still(100), eyes: openEyes, person: ENROLLED };
  const quiet = await run([face], 12);
  assert.ok(quiet.events.some((e) => e.type === 'recognized'), 'recognised');
  assert.ok(!quiet.events.some((e) => e.type === 'spoof_suspected'), 'no blink is no evidence of a picture');
  const ended = quiet.events.find((e) => e.type === 'track_ended');
  assert.ok(ended?.type === 'track_ended' && !ended.live && ended.liveness.blink < 0, 'not live, and its missing blink weighed');
  const optedIn = await run([face], 12, { track: { liveness: { ...config.track.liveness, no_blink_alert_s: 8 } } });
  const spoof = optedIn.events.find((e) => e.type === 'spoof_suspected');
  assert.ok(spoof?.type === 'spoof_suspected' && spoof.reasons.includes('no_blink') && spoof.person?.name === 'Ada', JSON.stringify(spoof));
  assert.deepEqual(types(optedIn.events).slice(-2), ['spoof_suspected', 'track_ended'], 'at its end');
  const short = await run([face], 6, { track: { liveness: { ...config.track.liveness, no_blink_alert_s: 8 } } });
  assert.ok(!short.events.some((e) => e.type === 'spoof_suspected'), 'shorter than the watch asked: not refused');
});

test('policy passive: a printed photo fails the passive check, which says so once, with the person it shows', async () => {
  const passivePolicy = { track: { liveness: { ...config.track.liveness, policy: 'passive' as const } } };
  const { events } = await run([{ box: still(100, CLOSE), eyes: blinkAt(1, 1.15), person: ENROLLED, pLive: 0.05 }], 3, passivePolicy);
  const spoofs = events.filter((e) => e.type === 'spoof_suspected');
  assert.equal(spoofs.length, 1);
  assert.ok(spoofs[0]!.type === 'spoof_suspected' && spoofs[0]!.reasons.includes('antispoof'));
  assert.equal(spoofs[0]!.type === 'spoof_suspected' && spoofs[0]!.person?.name, 'Ada');
  assert.ok(!events.some((e) => 'live' in e && e.live));
});

test('the passive model scores only faces at least antispoof_min_face_px high; under fused a low score is weighed, never a veto: the blink still proves the face', async () => {
  const scoredAs = (pLive: number) => ({ eyes: blinkAt(2.5, 2.65), person: ENROLLED, pLive });
  // At an entrance camera's size: never scored, live on the blink (and said so: no passive mean).
  const far = await run([{ box: still(100), ...scoredAs(0.05) }], 4);
  assert.equal(far.engine.calls.antispoof, 0);
  const farLive = far.events.find((e) => e.type === 'recognized' && e.live);
  assert.ok(farLive?.type === 'recognized' && farLive.antispoof === null && farLive.liveness.passive === 0, 'live on its blink');
  // Walking up to the camera, 120 px to 240 px over two seconds: scored from 200 px on; the low
  // score (as compressed video gives real people) takes a little, and the blink still proves the face.
  const walking = (t: number) => { const h = 120 + 60 * Math.min(t, 2); return { x: 100, y: 100, w: h * 0.8, h }; };
  const near = await run([{ box: walking, ...scoredAs(0.05) }], 4);
  assert.ok(near.engine.calls.antispoof > 0 && near.engine.calls.antispoof < near.engine.calls.detect, `scored ${near.engine.calls.antispoof} of ${near.engine.calls.detect} detections`);
  const nearLive = near.events.find((e) => e.type === 'recognized' && e.live);
  assert.ok(nearLive?.type === 'recognized' && nearLive.liveness.passive < 0 && nearLive.liveness.blink > 0, JSON.stringify(nearLive));
  assert.ok(!near.events.some((e) => e.type === 'spoof_suspected'), 'a real person is never refused on the passive score');
  // 0 scores every face, as before the gate (until the track is live).
  const all = await run([{ box: still(100), ...scoredAs(0.05) }], 4, { track: { liveness: { ...config.track.liveness, antispoof_min_face_px: 0 } } });
  assert.ok(all.engine.calls.antispoof > 0);
  assert.ok(all.events.some((e) => e.type === 'recognized' && e.live && e.liveness.passive < 0));
});

test('a frozen picture (the face region never changes) is suspected even with a passing passive score', async () => {
  const { events } = await run([{ box: still(100), eyes: openEyes, person: ENROLLED }], 3, { frozen: true });
  const spoof = events.find((e) => e.type === 'spoof_suspected');
  assert.ok(spoof && spoof.type === 'spoof_suspected' && spoof.reasons.includes('frozen'));
});

test('blurred frames (a person walking in): they name an enrolled person at a lower weight, but make no one unknown before a sharper frame', async () => {
  // Sharpness 10: above the floor (5), below what decides (20). The stranger turns sharp at 2 s.
  const { events } = await run(
    [
      { box: still(100), eyes: openEyes, person: ENROLLED, sharpness: () => 10 },
      { box: still(600), eyes: openEyes, person: 7, sharpness: (t) => (t < 2 ? 10 : 100) },
    ],
    3,
  );
  assert.ok(events.some((e) => e.type === 'recognized' && e.track === 1), 'the blurred enrolled person is named');
  const unknown = events.find((e) => e.type === 'unknown');
  assert.ok(unknown && unknown.track === 2 && unknown.t >= 2, `unknown only from sharp frames: ${JSON.stringify(unknown)}`);
  // Below the floor nothing is used: the track ends undecided, and says why.
  const blurred = await run([{ box: between(0, 1, 100), eyes: openEyes, person: ENROLLED, sharpness: () => 3 }], 4);
  assert.deepEqual(types(blurred.events), ['track_started', 'low_quality', 'track_ended']);
});

test('two people: stable ids; the one who leaves ends after expire_s; a stranger is unknown', async () => {
  const { events } = await run(
    [
      { box: still(100), eyes: openEyes, person: ENROLLED },
      { box: between(0, 2, 600), eyes: openEyes, person: 7 },
    ],
    6,
  );
  const stranger = events.filter((e) => e.track === 2);
  assert.deepEqual(types(stranger), ['track_started', 'unknown', 'track_ended']);
  const unknown = stranger[1]!;
  assert.equal(unknown.type === 'unknown' && unknown.face_px, 120, 'the alert says how large the face was');
  const ended = stranger[2]!;
  // last detected at 1.8 s, ended at the first frame more than expire_s (2 s) later
  assert.ok(ended.t > 3.8 && ended.t < 4.0, `ended at ${ended.t}`);
  assert.ok(events.filter((e) => e.track === 1).every((e) => e.type !== 'unknown'));
});

test('a face that leaves past the top of the frame is looked for in the part of its box inside the frame, then not at all', async () => {
  // Walking up and out at 600 px/s, gone from 1.2 s; its track coasts on, predicted further out.
  const leaving = (t: number) => (t < 1.2 ? { x: 500, y: 420 - 600 * t, w: 96, h: 120 } : undefined);
  const { engine } = await run([{ box: leaving, eyes: openEyes, person: 7 }], 3);
  const tracked = engine.looks.flatMap((l) => l.focus ?? []).filter((a) => a.kind === 'tracked');
  assert.ok(tracked.length > 0);
  for (const a of tracked) assert.ok(a.x >= 0 && a.y >= 0 && a.x + a.w <= 1280 && a.y + a.h <= 720 && a.w > 0 && a.h > 0, JSON.stringify(a));
  assert.ok(tracked.some((a) => a.y === 0), 'looked for at the edge as it left');
});

test('the same stranger seen again (new track) keeps the same anonymous id; another stranger gets another', async () => {
  const unknowns = new UnknownRegistry({ similarity: 0.5, retentionS: 3600, maxFrames: 3 }, (() => { let n = 0; return () => `anon-${++n}`; })());
  const first = await run([{ box: between(0, 2, 300), eyes: openEyes, person: 7 }, { box: between(5, 7, 300), eyes: openEyes, person: 7 }, { box: between(5, 7, 900), eyes: openEyes, person: 8 }], 8, { unknowns });
  const ids = first.events
    .filter((e) => e.type === 'unknown')
    .map((e) => [e.track, e.type === 'unknown' && e.anon_id])
    .sort((a, b) => Number(a[0]) - Number(b[0]));
  assert.deepEqual(ids, [
    [1, 'anon-1'],
    [2, 'anon-1'],
    [3, 'anon-2'],
  ]);
});

test('a face too small to decide is reported too_small, never guessed', async () => {
  const { events } = await run([{ box: still(100, 24), eyes: openEyes, person: ENROLLED }], 2);
  assert.deepEqual(types(events), ['track_started', 'too_small', 'track_ended']);
  assert.match((events[1] as Extract<TrackEvent, { type: 'too_small' }>).reason, /24 px high, needs 32/);
});

test('more faces than max_tracks: the extra are dropped and counted', async () => {
  const faces = [0, 1, 2].map((i) => ({ box: still(50 + 300 * i), eyes: openEyes, person: 10 + i }));
  const { tracker, events } = await run(faces, 1, { track: { max_tracks: 2 } });
  assert.equal(new Set(events.map((e) => e.track)).size, 2);
  assert.ok(tracker.stats.droppedDetections > 0);
});

test('an unknown decision needs unknown_frames good frames clearly below the threshold; near it the track stays undecided and says why at its end', async () => {
  const scored = (score: number, near: boolean) => () => ({ person: null, score, margin: 0, near });
  const face = [{ box: still(100), eyes: openEyes, person: 9 }];
  const clear = await run(face, 2, { identify: scored(0.2, false) });
  const unknown = clear.events.find((e) => e.type === 'unknown')!;
  // Detections at 5 fps from t = 0: the fifth good frame is at 0.8 s.
  assert.equal(unknown.t, 0.8);
  const near = await run(face, 4, { identify: scored(0.43, true) });
  assert.deepEqual(types(near.events), ['track_started', 'low_quality', 'track_ended']);
  const end = near.events.find((e) => e.type === 'low_quality') as Extract<TrackEvent, { type: 'low_quality' }>;
  assert.equal(end.reason, 'undecided after 21 good frames: score 0.43 too close to an enrolled person to call unknown');
});

test('a track alerted as unknown and recognised later: unknown_withdrawn names the anonymous id and the person, just before recognized; its anonymous person is gone', async () => {
  let calls = 0;
  // Nobody on the first five good frames (the unknown decision), the enrolled person from then on.
  const later = (): MatchResult => (++calls <= 5 ? { person: null, score: 0.2, margin: 0, near: false } : { person: { id: 'p1', name: 'Ada' }, score: 0.52, margin: 0.52, near: false });
  const unknowns = new UnknownRegistry({ similarity: 0.5, retentionS: 3600, maxFrames: 3 }, () => 'anon-1');
  const { events } = await run([{ box: still(100), eyes: openEyes, person: ENROLLED }], 3, { identify: later, unknowns, track: { reembed_s: 0 } });
  assert.deepEqual(types(events), ['track_started', 'unknown', 'unknown_withdrawn', 'recognized', 'track_ended']);
  const withdrawn = events[2] as Extract<TrackEvent, { type: 'unknown_withdrawn' }>;
  assert.deepEqual([withdrawn.anon_id, withdrawn.person.id, withdrawn.score, withdrawn.cluster], ['anon-1', 'p1', 0.52, 'removed']);
  assert.equal(withdrawn.t, events[3]!.t);
  assert.equal(unknowns.has('anon-1'), false, 'no anonymous person keeps an enrolled face');
  const ended = events[4] as Extract<TrackEvent, { type: 'track_ended' }>;
  assert.deepEqual([ended.person?.id, ended.anon_id], ['p1', null]);
});

test('someone enrolled while their track is unknown (promoted from it) is named at the detections right after, not one embedding every reembed_s', async () => {
  // Nobody in the gallery until 3 s; the person from then on, as a promotion makes them.
  let enrolled = false;
  const gallery = (fused: Float32Array): MatchResult => (enrolled ? identify(fused) : { person: null, score: 0.2, margin: 0, near: false });
  const engine = new FakeEngine([{ box: still(100), eyes: openEyes, person: ENROLLED }]);
  const tracker = new CameraTracker({ camera: 'door', engine, config: config.track, identify: gallery, unknowns: new UnknownRegistry({ similarity: 0.5, retentionS: 3600, maxFrames: 3 }, () => 'anon-1') });
  const events: TrackEvent[] = [];
  const fps = 15;
  for (let i = 0; i * (1 / fps) <= 6; i++) {
    const t = i / fps;
    if (t >= 3 && !enrolled) {
      enrolled = true;
      tracker.rosterGrew();
    }
    engine.t = t;
    events.push(...(await tracker.process(frameAt(t, false, [still(100)()]), t)));
  }
  assert.deepEqual(types(events), ['track_started', 'unknown', 'unknown_withdrawn', 'recognized']);
  const named = events[3]!;
  // decide_frames (3) detections at detect_fps (5): 0.6 s, and a frame or two of rounding, not 3 x reembed_s.
  assert.ok(named.t >= 3 && named.t <= 3 + 3 / 5 + 0.2, `named at ${named.t} s, enrolled at 3 s`);
});
