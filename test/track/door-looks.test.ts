import '../support/fast-tier.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultConfig } from '../../daemon/config/load.js';
import { STEREO_LIMIT, STEREO_LIVE_LOG_ODDS } from '../../daemon/liveness/stereo.js';
import { CameraTracker } from '../../daemon/track/camera-tracker.js';
import type { DoorLook, DoorSide, DoorSink } from '../../daemon/track/door-link.js';
import type { TrackEvent } from '../../daemon/track/events.js';
import type { MatchResult } from '../../daemon/track/identity.js';
import { UnknownRegistry } from '../../daemon/track/unknowns.js';
import { unitVector } from '../gallery/helpers.js';
import { FakeEngine, frameAt, openEyes, type FakeFace } from './fake-engine.js';

const config = defaultConfig();
const identify = (fused: Float32Array): MatchResult => {
  const ref = unitVector(1);
  const score = ref.reduce((s, v, i) => s + v * fused[i]!, 0);
  return score >= 0.45 ? { person: { id: 'p1', name: 'Ada' }, score, margin: score, near: false } : { person: null, score, margin: 0, near: false };
};
/** A person who holds still and does not blink: what one camera cannot prove, and a door can. */
const stillPerson: FakeFace = { box: () => ({ x: 400, y: 200, w: 96, h: 120 }), eyes: openEyes, person: 1 };
/** The capture clock of the camera's frames (ms): the pipeline's monotonic clock, not the stream's time. */
const capturedAt = (t: number) => 50_000 + t * 1000;

async function run(door: DoorSink | undefined, seconds: number) {
  const engine = new FakeEngine([stillPerson]);
  const tracker = new CameraTracker({ camera: 'left', engine, config: config.track, identify, unknowns: new UnknownRegistry({ similarity: 0.5, retentionS: 3600, maxFrames: 3 }, () => 'anon-1'), door });
  const events: TrackEvent[] = [];
  let t = 0;
  for (let i = 0; i / 15 <= seconds; i++) {
    t = i / 15;
    engine.t = t;
    events.push(...(await tracker.process(frameAt(t, false, [stillPerson.box(t)!]), t, { capturedMs: capturedAt(t) })));
  }
  events.push(...(await tracker.finish(t)));
  return { events, tracker };
}

test('a camera of a door hands its door every look its tracks trust, detections and confirmed follows, at their frames\' capture times', async () => {
  const looks: Array<{ side: DoorSide; look: DoorLook; fused: number | undefined }> = [];
  const { tracker } = await run({ door: 'front-door', look: (side, look) => looks.push({ side, look, fused: side.fused?.length }) }, 2);
  // The last follows wait for a detection that never comes: not trusted, not handed on.
  assert.ok(looks.length >= tracker.stats.frames - 3 && looks.length <= tracker.stats.frames, `${looks.length} looks of ${tracker.stats.frames} frames`);
  const times = looks.map((l) => l.look.capturedMs);
  assert.deepEqual(times, [...times].sort((a, b) => a - b), 'in time order');
  const frameIndex = (ms: number) => ((ms - 50_000) * 15) / 1000;
  assert.ok(times.every((ms) => Math.abs(frameIndex(ms) - Math.round(frameIndex(ms))) < 1e-6), 'each at the capture time of a frame');
  const { side, look, fused } = looks.at(-1)!;
  assert.deepEqual([side.camera, side.id, side.identity?.id, side.frozen, fused], ['left', 1, 'p1', false, 512], 'who the track is, for the door to pair it');
  assert.equal(look.view.landmarks.length, 68);
  assert.deepEqual(look.view.frame, { width: 1280, height: 720 });
  assert.ok(Math.abs(look.view.box.h - 120) < 2, 'the box the landmarks give: the face\'s scale');
});

test('a person who holds still and never blinks: not live on one camera, live once the door\'s pairs prove the face, the stereo share in the decision', async () => {
  const alone = await run(undefined, 3);
  const lastAlone = alone.events.filter((e) => e.type === 'recognized').at(-1) as Extract<TrackEvent, { type: 'recognized' }>;
  assert.equal(lastAlone.live, false);
  assert.equal(lastAlone.liveness.stereo, 0);
  // The door answers once it has two pairs, a second after the track began.
  let answered = false;
  const { events } = await run(
    {
      door: 'front-door',
      look: (side, look) => {
        if (look.capturedMs >= capturedAt(1) && !answered) {
          answered = true;
          side.stereoSeen(STEREO_LIMIT + 0.005);
        }
      },
    },
    3,
  );
  const recognized = events.filter((e): e is Extract<TrackEvent, { type: 'recognized' }> => e.type === 'recognized');
  assert.deepEqual(
    recognized.map((e) => e.live),
    [false, true],
  );
  const live = recognized[1]!;
  assert.ok(live.t >= 1 && live.t <= 1 + 2 / 15, `live at ${live.t} s, the frame after the door's answer`);
  assert.equal(live.liveness.stereo, STEREO_LIVE_LOG_ODDS);
  assert.ok(!events.some((e) => e.type === 'spoof_suspected'), 'never suspected');
  const ended = events.at(-1) as Extract<TrackEvent, { type: 'track_ended' }>;
  assert.equal(ended.live, true);
  // Every event of a door's camera names the door; a camera in no door names none.
  assert.ok(events.length > 0 && events.every((e) => e.door === 'front-door'), 'each event names the door');
  assert.ok(alone.events.every((e) => !('door' in e)), 'a camera in no door names none');
});
