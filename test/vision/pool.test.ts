import '../support/cli-tier.js';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { defaultConfig } from '../../daemon/config/load.js';
import { isFacegateError } from '../../daemon/base/errors.js';
import { createLogger } from '../../daemon/base/log.js';
import { decodeImageFile } from '../../daemon/vision/image.js';
import { verifyModels, type ModelPaths } from '../../daemon/vision/model-files.js';
import { VisionPool } from '../../daemon/vision/pool.js';
import { detectionPlan, type SearchArea } from '../../daemon/vision/tiles.js';
import type { CountedEngine } from '../../daemon/vision/engine.js';
import type { Detection, FaceAnalysis, RgbImage } from '../../daemon/vision/types.js';
import { testAnalyzer } from '../support/analyzer.js';
import { media, mediaMissing } from '../support/media.js';
import { memoryLogger } from '../gallery/helpers.js';

const PHOTOS = [
  'identities/deepface/img1.jpg',
  'identities/deepface/img20.jpg',
  'identities/deepface/couple.jpg',
  'identities/face_recognition/kit_harington_1.jpeg',
  'identities/face_recognition/alex_lacamoire_3.png',
];
const ALL = { embed: true, eyes: true, antispoof: true };
const skip = mediaMissing(...PHOTOS);
const vision = { ...defaultConfig().vision, workers: 2 };
const quiet = () => createLogger({ level: 'warn' });

let pool: VisionPool;
before(async () => {
  if (!skip) pool = await VisionPool.create({ vision, logger: quiet() });
});
after(async () => {
  await pool?.close();
});

/** A 1920×1080 camera frame on a SharedArrayBuffer (as the camera's frame reader makes them) with the photo in its middle, cut to fit. */
function cameraFrame(img: RgbImage): RgbImage {
  const W = 1920;
  const H = 1080;
  const data = new Uint8Array(new SharedArrayBuffer(W * H * 3));
  const [sx, dx, w] = fit(img.width, W);
  const [sy, dy, h] = fit(img.height, H);
  for (let y = 0; y < h; y++) data.set(img.data.subarray(((sy + y) * img.width + sx) * 3, ((sy + y) * img.width + sx + w) * 3), ((dy + y) * W + dx) * 3);
  return { width: W, height: H, data };
}

/** Where a span of `size` centred on one of `room` starts in each and how much of it fits. */
function fit(size: number, room: number): [from: number, to: number, length: number] {
  const offset = (room - size) >> 1;
  return [Math.max(0, -offset), Math.max(0, offset), Math.min(size, room)];
}

function waitFor<T>(what: string, fn: () => Promise<T>): Promise<T> {
  return (async () => {
    for (let i = 0; i < 200; i++) {
      try {
        return await fn();
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error(`never: ${what}`);
  })();
}

test('through the pool, every photo gives the same detections, landmarks, embeddings, eyes and p(live) as an analyzer on this thread, bit for bit', { skip }, async () => {
  const analyzer = await testAnalyzer();
  const camera = pool.engineFor('cam-a');
  for (const file of PHOTOS) {
    const img = await decodeImageFile(media(file));
    assert.deepEqual(await pool.analyze(img, ALL), await analyzer.analyze(img, ALL), `${file}: analyze`);
    assert.deepEqual(await pool.detect(img), await analyzer.detect(img), `${file}: detect`);
    const frame = cameraFrame(img);
    const detections = await camera.detect(frame);
    assert.deepEqual(detections, await analyzer.detect(frame), `${file}: detect on the camera's worker`);
    assert.ok(detections.length > 0, `${file}: no face`);
    for (const d of detections) {
      const expected = await analyzer.analyzeFace(frame, d, ALL);
      assert.ok(expected.embedding && expected.eyes && expected.antispoof);
      assert.deepEqual(await camera.analyzeFace(frame, d, ALL), expected, `${file}: analyzeFace`);
      assert.deepEqual(await pool.analyzeFace(frame, d, { eyes: true }), await analyzer.analyzeFace(frame, d, { eyes: true }), `${file}: follow call`);
    }
  }
  pool.release('cam-a');
});

test("a camera's frame crosses to a worker once, however many calls are made on it", { skip }, async () => {
  const camera = pool.engineFor('cam-b');
  const total = () => pool.stats().reduce((n, s) => ({ sent: n.sent + s.framesSent, calls: n.calls + s.calls }), { sent: 0, calls: 0 });
  const photo = await decodeImageFile(media('identities/deepface/couple.jpg'));
  for (const frame of [cameraFrame(photo), { ...photo, data: new Uint8Array(photo.data) }]) {
    const before = total();
    const faces = await camera.detect(frame);
    assert.ok(faces.length >= 2);
    for (const d of faces) await camera.analyzeFace(frame, d, ALL);
    for (const d of faces) await camera.analyzeFace(frame, d, { eyes: true });
    assert.equal(total().sent - before.sent, 1, 'frame sent more than once');
    assert.equal(total().calls - before.calls, 1 + 2 * faces.length);
  }
  // The next frame is sent (a worker keeps only a camera's latest one).
  const sent = total().sent;
  await camera.detect(cameraFrame(photo));
  assert.equal(total().sent - sent, 1);
  pool.release('cam-b');
});

test("a camera's engine counts the detector's runs it asked for: every region the plan for that frame and focus holds, none for an empty focus", { skip }, async () => {
  const camera = pool.engineFor('cam-runs');
  const photo = await decodeImageFile(media('identities/deepface/couple.jpg'));
  const frame = cameraFrame(photo);
  const { mode, min_face_px: minFacePx } = vision.detect;
  assert.equal(camera.detectorRuns, 0);
  const faces = await camera.detect(frame);
  const whole = detectionPlan(frame.width, frame.height, { mode, minFacePx }).length;
  assert.equal(camera.detectorRuns, whole);
  await camera.detect(frame, []);
  assert.equal(camera.detectorRuns, whole, 'nothing to look at, nothing run');
  const focus: SearchArea[] = [{ kind: 'tracked', facePx: faces[0]!.box.h, ...faces[0]!.box }];
  await camera.detect(frame, focus);
  assert.equal(camera.detectorRuns, whole + detectionPlan(frame.width, frame.height, { mode, minFacePx, focus }).length);
  pool.release('cam-runs');
});

test('each new frame goes to the least busy worker: cameras that call at once use both, and a camera moves when its worker is busy', { skip }, async () => {
  const frame = cameraFrame(await decodeImageFile(media('identities/deepface/img1.jpg')));
  const next = () => ({ ...frame, data: new Uint8Array(frame.data) });
  const [a, b, c] = ['cam-1', 'cam-2', 'cam-3'].map((name) => pool.engineFor(name)) as [CountedEngine, CountedEngine, CountedEngine];
  const sent = () => pool.stats().map((s) => s.framesSent);
  const holder = (camera: string) => pool.stats().findIndex((s) => s.cameras.includes(camera));
  // Both idle: the first frame goes to worker 0; one sent while worker 0 is busy goes to worker 1.
  let before = sent();
  await Promise.all([a.detect(next()), c.detect(next())]);
  assert.deepEqual(sent().map((n, i) => n - before[i]!), [1, 1]);
  assert.deepEqual([holder('cam-1'), holder('cam-3')], [0, 1]);
  // Both busy with one call each: cam-3's next frame goes to the first of the two, and cam-3 is
  // held there alone (worker 1 let go of its frame).
  before = sent();
  await Promise.all([a.detect(next()), b.detect(next()), c.detect(next())]);
  assert.deepEqual(sent().map((n, i) => n - before[i]!), [2, 1]);
  assert.deepEqual([holder('cam-1'), holder('cam-2'), holder('cam-3')], [0, 1, 0]);
  for (const name of ['cam-1', 'cam-2', 'cam-3']) pool.release(name);
  assert.deepEqual(pool.stats().map((s) => s.cameras), [[], []]);
});

test('calls that overlap, on one worker and across workers, give what each gives alone', { skip }, async () => {
  // Each worker's analyzer takes its calls one at a time (test/vision/concurrency.test.ts); here two
  // cameras on one worker, a camera on the other, and enrolment-style calls all run at once.
  const images = await Promise.all(['identities/deepface/img1.jpg', 'identities/deepface/img20.jpg'].map(async (f) => cameraFrame(await decodeImageFile(media(f)))));
  const analyzer = await testAnalyzer();
  const detections: Detection[] = [];
  const alone: FaceAnalysis[] = [];
  for (const img of images) {
    detections.push((await analyzer.detect(img))[0]!);
    alone.push(await analyzer.analyzeFace(img, detections.at(-1)!, ALL));
  }
  const cameras = ['cam-x', 'cam-y', 'cam-z'].map((name) => pool.engineFor(name));
  const calls = Array.from({ length: 24 }, (_, k) => {
    const i = k % 2;
    const engine = k % 4 === 3 ? pool : cameras[k % 3]!;
    return engine.analyzeFace(images[i]!, detections[i]!, ALL).then((face) => ({ i, face }));
  });
  for (const { i, face } of await Promise.all(calls)) assert.deepEqual(face, alone[i], `image ${i}: another face's analysis`);
  const found = await Promise.all([0, 1, 0, 1, 0, 1].map((i, k) => cameras[k % 3]!.detect(images[i]!)));
  found.forEach((faces, k) => assert.deepEqual(faces[0], detections[k % 2]));
  for (const name of ['cam-x', 'cam-y', 'cam-z']) pool.release(name);
});

test('a worker that dies fails its pending calls with FG_ERR_VISION_WORKER, is logged, and comes back', { skip }, async () => {
  const { logger, lines } = memoryLogger();
  const own = await VisionPool.create({ vision: { ...vision, workers: 1 }, logger });
  try {
    const camera = own.engineFor('cam');
    const frame = cameraFrame(await decodeImageFile(media('identities/deepface/img1.jpg')));
    const expected = await camera.detect(frame);
    const pending = [camera.detect(frame), own.analyze(frame, ALL), camera.analyzeFace(frame, expected[0]!, ALL)];
    own.kill(0);
    for (const p of pending) {
      await assert.rejects(p, (e: unknown) => isFacegateError(e) && e.code === 'FG_ERR_VISION_WORKER' && /vision worker 0 stopped/.test(e.message));
    }
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.code === 'FG_ERR_VISION_WORKER');
    assert.equal(logged?.level, 50);
    assert.equal(logged?.calls_failed, 3);
    // Restarted: the camera's frame is sent again (the new thread holds none) and answers the same.
    const sent = own.stats()[0]!.framesSent;
    assert.deepEqual(await waitFor('the worker back', () => camera.detect(frame)), expected);
    assert.equal(own.stats()[0]!.restarts, 1);
    assert.ok(own.stats()[0]!.framesSent > sent);
  } finally {
    await own.close();
  }
});

test('while a worker restarts, new frames go to the workers that are up rather than wait for it', { skip }, async () => {
  const own = await VisionPool.create({ vision, logger: createLogger({ level: 'silent' }) });
  try {
    const camera = own.engineFor('cam');
    const frame = cameraFrame(await decodeImageFile(media('identities/deepface/img1.jpg')));
    const expected = await camera.detect(frame);
    own.kill(0);
    // The new thread is started at once and takes a while to load its models.
    await waitFor('worker 0 restarting', async () => {
      if (own.stats()[0]!.restarts !== 1) throw new Error('not yet');
    });
    const sent = own.stats().map((s) => s.framesSent);
    for (let i = 0; i < 3; i++) assert.deepEqual(await camera.detect({ ...frame, data: new Uint8Array(frame.data) }), expected);
    // Worker 0 would have been first on a tie; it was not chosen while it loaded its models.
    assert.deepEqual(own.stats().map((s, i) => s.framesSent - sent[i]!), [0, 3]);
  } finally {
    await own.close();
  }
});

test('a worker that cannot load its models: start-up fails with the coded error; a restart that cannot is retried until it can', { skip }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-pool-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const verified = verifyModels(vision.models_dir);
  const models = Object.fromEntries(Object.entries(verified).map(([name, path]) => [name, join(dir, basename(path))])) as ModelPaths;
  for (const [name, path] of Object.entries(verified)) copyFileSync(path, models[name as keyof ModelPaths]);
  const spoil = () => writeFileSync(models.detector, 'not a model');
  const restore = () => copyFileSync(verified.detector, models.detector);

  spoil();
  await assert.rejects(VisionPool.create({ vision, logger: quiet(), models }), (e: unknown) => isFacegateError(e) && e.code === 'FG_ERR_VISION_WORKER' && /failed to load its models/.test(e.message));

  restore();
  const { logger, lines } = memoryLogger();
  const own = await VisionPool.create({ vision: { ...vision, workers: 1 }, logger, models });
  try {
    spoil();
    own.kill(0);
    // The next thread fails to load: it is reported with the code, and calls fail meanwhile, at once.
    // A plain Error while polling: assert.ok without a message parses this file to build one, ~1 s a poll.
    const failedRestart = () => lines.some((l) => /failed to start/.test(l) && /FG_ERR_VISION_WORKER/.test(l));
    await waitFor('a failed restart logged', async () => {
      if (!failedRestart()) throw new Error('not yet');
    });
    const img = await decodeImageFile(media('identities/deepface/img1.jpg'));
    await assert.rejects(own.analyze(img), (e: unknown) => isFacegateError(e) && e.code === 'FG_ERR_VISION_WORKER');
    restore();
    const faces = await waitFor('the worker back', () => own.analyze(img));
    assert.equal(faces.length, 1);
  } finally {
    await own.close();
  }
});

test('close() ends every worker: nothing keeps the process alive, and later calls fail', { skip }, async () => {
  const script = fileURLToPath(new URL('../support/pool-child.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, media('identities/deepface/img1.jpg')], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  // The child never calls process.exit: it ends only when no thread or handle is left.
  const code = await new Promise<number | null>((resolve) => {
    const guard = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('exit', (c) => (clearTimeout(guard), resolve(c)));
  });
  assert.equal(code, 0, out);
  assert.match(out, /faces 1/);
  assert.match(out, /after close: vision worker 0 is closed/);
});
