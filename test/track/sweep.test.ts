// Where the tracker's detect frames look, on synthetic frames whose motion is known exactly and a
// scripted vision core that records each focus: an empty entrance is looked at whole only on the
// first frame and every half minute; a change next to a tracked face (which the motion gate leaves
// to the sweep) is looked at by the next sweep, and once it stands still, no more.
import '../support/fast-tier.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultConfig } from '../../daemon/config/load.js';
import { CameraTracker } from '../../daemon/track/camera-tracker.js';
import { UnknownRegistry } from '../../daemon/track/unknowns.js';
import type { SearchArea } from '../../daemon/vision/tiles.js';
import type { Box, RgbImage } from '../../daemon/vision/types.js';
import { FakeEngine, openEyes, type FakeFace } from './fake-engine.js';

const W = 640;
const H = 360;
const config = defaultConfig();

/** A grey frame with sensor noise that changes every frame, and dark squares where told. */
function frame(seed: number, squares: Box[] = []): RgbImage {
  const data = new Uint8Array(W * H * 3);
  let x = seed * 2654435761 + 1;
  const rand = () => ((x = (x * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff) - 0.5;
  for (let p = 0; p < W * H; p++) data.fill(Math.round(110 + 8 * (rand() + rand())), p * 3, p * 3 + 3);
  for (const s of squares) for (let y = s.y; y < s.y + s.h; y++) data.fill(30, (y * W + s.x) * 3, (y * W + s.x + s.w) * 3);
  return { width: W, height: H, data };
}

async function run(faces: FakeFace[], seconds: number, squares: (t: number) => Box[], fps = 5) {
  const engine = new FakeEngine(faces);
  const tracker = new CameraTracker({
    camera: 'door',
    engine,
    config: { ...config.track, sweep_s: 2 },
    identify: () => ({ person: null, score: -1, margin: 0, near: false }),
    unknowns: new UnknownRegistry({ similarity: 0.5, retentionS: 60, maxFrames: 1 }),
  });
  for (let i = 0; i / fps <= seconds; i++) {
    engine.t = i / fps;
    await tracker.process(frame(i, squares(engine.t)), engine.t);
  }
  return { looks: engine.looks, stats: tracker.stats };
}

const near = (t: number, at: number) => Math.abs(t - at) < 1e-6;
const covers = (areas: readonly SearchArea[], b: Box) => areas.some((a) => a.x <= b.x + b.w / 2 && a.x + a.w >= b.x + b.w / 2 && a.y <= b.y + b.h / 2 && a.y + a.h >= b.y + b.h / 2);

test('an empty entrance is looked at whole on the first detect frame and every 30 s, and nowhere in between', async () => {
  const { looks, stats } = await run([], 61, () => []);
  const whole = looks.filter((l) => l.focus === undefined).map((l) => l.t);
  assert.equal(whole.length, 3, `whole-frame looks at ${whole.join(', ')} s`);
  assert.ok(near(whole[0]!, 0) && near(whole[1]!, 30) && near(whole[2]!, 60), `whole-frame looks at ${whole.join(', ')} s`);
  assert.ok(looks.every((l) => l.focus === undefined || l.focus.length === 0), 'nothing else looked at');
  assert.equal(stats.changeSweepFrames, 0);
});

test('a change beside a tracked face is left to the next sweep, which looks there and not elsewhere; once it has stood still a while, no sweep looks again', async () => {
  const face: Box = { x: 300, y: 100, w: 64, h: 80 };
  // Something appears at 1.1 s just below the tracked face, inside the area its own motion explains.
  const beside: Box = { x: 300, y: 200, w: 60, h: 60 };
  const { looks, stats } = await run([{ box: () => face, eyes: openEyes, person: 1 }], 7, (t) => (t >= 1.1 ? [beside] : []));
  const at = (t: number) => looks.find((l) => near(l.t, t))!.focus;
  assert.equal(at(0), undefined, 'the first detect frame looks everywhere');
  // Between the arrival and the sweep: the tracked face alone.
  for (const t of [1.2, 1.4, 1.6, 1.8]) assert.deepEqual(at(t)!.map((a) => a.kind), ['tracked'], `at ${t} s`);
  const sweep = at(2)!.filter((a) => a.kind === 'arrival');
  assert.ok(covers(sweep, beside), `the sweep at 2 s looks where it changed: ${JSON.stringify(sweep)}`);
  assert.ok(!covers(sweep, { x: 20, y: 20, w: 40, h: 40 }) && sweep.reduce((s, a) => s + a.w * a.h, 0) < 0.25 * W * H, 'and only there');
  // It stood still from 1.1 s and has melted into the background by 4 s: the sweep at 6 s finds
  // nothing changed since the one before.
  assert.deepEqual(at(6)!.map((a) => a.kind), ['tracked'], 'at 6 s');
  assert.ok(stats.changeSweepFrames >= 1 && stats.changeSweepFrames <= 2, `sweeps of what changed: ${stats.changeSweepFrames}`);
});
