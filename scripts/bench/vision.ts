// `npm run bench -- vision [--iterations N] [--rounds R] [--provider cpu|webgpu|cuda] [--threads T] [--batch 1,2,4,10] [--concurrent 1,8,32]`:
// milliseconds per stage of the vision core (by default on the CPU at one ONNX Runtime thread), median
// of N runs after a warm-up, on real photos from ../shared/media (the tiled detection also on the
// 1080p frame as a camera's comes, YUV 4:2:0, and its inputs sampled alone; the motion mask on it). `--batch` adds each model's time
// per input when it runs that many inputs in one call (the models' batch dimension set to it, as
// models/rewrite's setBatch sets it): what batching across faces and cameras would buy on this
// provider. `--concurrent` runs the vision core as the daemon's worker does, with that many cameras
// calling it at once (their inputs batched in its model queues, vision.batch): faces a second and
// each face's share of the time, and the same for tiled 1080p detections. It ends with the box's
// speed before and after (box-speed.ts): a figure compares with another day's at like speeds.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger } from '../../daemon/base/log.js';
import { alignment, ALIGNED_SIZE, fivePoints, toAlignedFrame } from '../../daemon/vision/align.js';
import type { Logger } from '../../daemon/base/log.js';
import { defaultConfig } from '../../daemon/config/load.js';
import { FaceAnalyzer } from '../../daemon/vision/analyzer.js';
import { batchPolicy } from '../../daemon/vision/config.js';
import { AntiSpoofModel } from '../../daemon/vision/antispoof.js';
import { FaceDetector, type DetectOptions } from '../../daemon/vision/detector.js';
import { Embedder, EMBEDDER_INPUT, EMBEDDER_INPUT_SIZE } from '../../daemon/vision/embedder.js';
import { EyeModel } from '../../daemon/vision/eyes.js';
import { decodeImage } from '../../daemon/vision/image.js';
import { LandmarkModel } from '../../daemon/vision/landmarks.js';
import { MotionMask } from '../../daemon/vision/motion.js';
import { OrtModel, usableSettings } from '../../daemon/vision/ort.js';
import { verifyModels, type ModelPaths } from '../../daemon/vision/model-files.js';
import { faceQuality } from '../../daemon/vision/quality.js';
import { planarToGray, sampleAffine } from '../../daemon/vision/sampling.js';
import { DETECT_H, DETECT_W, detectionRegions } from '../../daemon/vision/tiles.js';
import { rectToAffine } from '../../daemon/vision/geometry.js';
import type { Detection, RgbImage, Yuv420Image } from '../../daemon/vision/types.js';
import { decodeModel, encodeModel, setBatch } from '../../models/rewrite/onnx-graph.js';
import { media, mediaMissing } from '../../test/support/media.js';
import { boxSpeed, speedLine } from './box-speed.js';

interface Timing {
  /** Median wall-clock ms of one call. */
  wall: number;
  /** Mean CPU ms of one call (user + system of this process): steadier than wall time on a shared machine. */
  cpu: number;
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function timeIt(n: number, fn: () => Promise<unknown> | unknown): Promise<Timing> {
  for (let i = 0; i < 3; i++) await fn();
  const samples: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  const cpu = process.cpuUsage(cpu0);
  return { wall: median(samples), cpu: (cpu.user + cpu.system) / 1000 / n };
}

/** The same frame as a camera's comes to the daemon: YUV 4:2:0, converted by FFmpeg. */
function toYuv420(img: RgbImage): Yuv420Image {
  const size = `${img.width}x${img.height}`;
  const data = execFileSync('ffmpeg', ['-v', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', size, '-i', 'pipe:0', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', 'pipe:1'], { input: img.data, maxBuffer: 16 << 20 });
  return { format: 'yuv420p', matrix: 'bt601', width: img.width, height: img.height, data: new Uint8Array(data) };
}

/** A 1920×1080 frame with the 720p photo in its middle (a face of ~220 px). */
function padTo1080p(img: RgbImage): RgbImage {
  const W = 1920, H = 1080;
  const data = new Uint8Array(W * H * 3);
  const ox = (W - img.width) >> 1, oy = (H - img.height) >> 1;
  for (let y = 0; y < img.height; y++) data.set(img.data.subarray(y * img.width * 3, (y + 1) * img.width * 3), ((y + oy) * W + ox) * 3);
  return { width: W, height: H, data };
}

/** What the box's speed is measured on before and after the stages are timed (box-speed.ts): a day's figures compare with another's at like speeds. */
const SPEED_CLIP = 'video_cctv/short_hamilton_clip.mp4';

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      iterations: { type: 'string', default: '50' },
      rounds: { type: 'string', default: '3' },
      provider: { type: 'string', default: 'cpu' },
      threads: { type: 'string', default: '1' },
      batch: { type: 'string' },
      concurrent: { type: 'string' },
    },
  });
  const batches = values.batch === undefined ? [] : values.batch.split(',').map(Number);
  const concurrent = values.concurrent === undefined ? [] : values.concurrent.split(',').map(Number);
  if (concurrent.some((c) => !Number.isInteger(c) || c < 1 || c > 64)) throw new Error(`--concurrent: callers from 1 to 64, comma-separated, not ${values.concurrent}`);
  if (batches.some((b) => !Number.isInteger(b) || b < 1 || b > 64)) throw new Error(`--batch: batch sizes from 1 to 64, comma-separated, not ${values.batch}`);
  const n = Number(values.iterations);
  const rounds = Number(values.rounds);
  const missing = mediaMissing('identities/face_recognition/obama-720p.jpg', SPEED_CLIP);
  if (missing) throw new Error(missing);
  const speedBefore = boxSpeed(media(SPEED_CLIP));
  const log = createLogger({ level: 'warn' });
  const provider = values.provider;
  if (provider !== 'cpu' && provider !== 'webgpu' && provider !== 'cuda') throw new Error(`--provider: cpu, webgpu or cuda, not ${provider}`);
  const paths = verifyModels();
  const requested = await usableSettings({ provider, threads: Number(values.threads) }, paths.detector, log);
  const detector = await FaceDetector.load(paths.detector, requested, log);
  // What actually runs: a GPU provider that could not load has fallen back to the CPU.
  const settings = { ...requested, provider: detector.provider };
  const landmarker = await LandmarkModel.load(paths.landmarks, settings, log);
  const embedder = await Embedder.load(paths.embedder, settings, log);
  const eyes = await EyeModel.load(paths.eyes, settings, log);
  const antispoof = await AntiSpoofModel.load(paths.antispoof, settings, log);

  const jpeg = await readFile(media('identities/face_recognition/obama-720p.jpg'));
  const frame = await decodeImage(jpeg, 'obama-720p.jpg');
  const frame1080 = padTo1080p(frame);
  const opts = (mode: DetectOptions['mode']): DetectOptions => ({ mode, minScore: 0.65, nmsIou: 0.4, minFacePx: 40 });
  const [det] = await detector.detect(frame, opts('full'));
  if (!det) throw new Error('no face found in the benchmark photo');
  const aligned = new Float32Array(EMBEDDER_INPUT_SIZE);
  const gray = new Float32Array(ALIGNED_SIZE * ALIGNED_SIZE);

  const rows: [string, Timing][] = [];
  rows.push(['decode 720p JPEG (sharp)', await timeIt(n, () => decodeImage(jpeg, 'x'))]);
  rows.push(['detect full frame 1280×720', await timeIt(n, () => detector.detect(frame, opts('full')))]);
  rows.push(['detect full frame 1920×1080', await timeIt(n, () => detector.detect(frame1080, opts('full')))]);
  rows.push(['detect tiled 1920×1080 (full + 3×3 tiles)', await timeIt(n, () => detector.detect(frame1080, opts('tiled')))]);
  // A camera's frame is YUV: the detector's input is sampled from its planes (sample-yuv.ts), the
  // passes of a tiled detection here without the model.
  const yuv1080 = toYuv420(frame1080);
  const input = new Float32Array(DETECT_W * DETECT_H * 3);
  const passes = detectionRegions(yuv1080.width, yuv1080.height, true, opts('tiled').minFacePx).map((region) => rectToAffine(region, DETECT_W, DETECT_H));
  rows.push(['detect tiled 1920×1080, YUV 4:2:0 camera frame', await timeIt(n, () => detector.detect(yuv1080, opts('tiled')))]);
  const sampled = await timeIt(n, () => passes.forEach((map) => sampleAffine(yuv1080, map, DETECT_W, DETECT_H, input, { layout: { planes: 'rgb', mean: 127, div: 128 } })));
  rows.push([`  its inputs alone, a pass (of ${passes.length})`, { wall: sampled.wall / passes.length, cpu: sampled.cpu / passes.length }]);
  // What the tracker runs on the main thread on every detect frame of every camera, before any model.
  const mask = new MotionMask();
  mask.update(yuv1080);
  rows.push(['motion mask, 1080p YUV frame (main thread)', await timeIt(n, () => mask.update(yuv1080))]);
  // Per face: the stages run back to back, as FaceAnalyzer.analyzeFace runs them, each timed
  // inside the chain so that stages and totals share the same moments of this shared machine.
  // Best of `rounds` rounds (by the chain's median), as timeit does: a round that a neighbour's
  // load slowed down says nothing about facegate. The 15 ms goal is set on the five stages of one
  // face's full analysis (landmarks, align, embed, eyes, anti-spoof); the quality record
  // (sharpness, pose) is no model and is timed on its own, and the chain shown with and without it.
  const stageNames = [
    'landmarks (68 points)',
    'align (5 points, Umeyama, 112×112 warp)',
    'quality (sharpness, head pose)',
    'embed (512-d)',
    'eyes (both)',
    'anti-spoof',
  ] as const;
  const QUALITY = 2;
  const chainRound = async () => {
    const laps: number[][] = stageNames.map(() => []);
    const goal: number[] = [];
    const all: number[] = [];
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < n + 3; i++) {
      const t = [performance.now()];
      const points = await landmarker.landmarks(frame, det.box);
      t.push(performance.now());
      const a = alignment(fivePoints(points));
      sampleAffine(frame, a.fromAligned, ALIGNED_SIZE, ALIGNED_SIZE, aligned, { layout: EMBEDDER_INPUT });
      t.push(performance.now());
      faceQuality(det, points, toAlignedFrame(a, points), planarToGray(aligned, ALIGNED_SIZE * ALIGNED_SIZE, EMBEDDER_INPUT, gray));
      t.push(performance.now());
      await embedder.embed(aligned);
      t.push(performance.now());
      await eyes.eyes(frame, points);
      t.push(performance.now());
      await antispoof.pLive(frame, det.box);
      t.push(performance.now());
      if (i < 3) continue; // warm-up
      const lap = laps.map((_, k) => t[k + 1]! - t[k]!);
      lap.forEach((ms, k) => laps[k]!.push(ms));
      all.push(t.at(-1)! - t[0]!);
      goal.push(t.at(-1)! - t[0]! - lap[QUALITY]!);
    }
    const cpu = process.cpuUsage(cpu0);
    const cpuPerChain = (cpu.user + cpu.system) / 1000 / (n + 3);
    // CPU is only counted for the whole chain; each part gets its share by wall time.
    const share = (ms: number) => (cpuPerChain * ms) / median(all);
    return {
      stages: laps.map((lap) => ({ wall: median(lap), cpu: share(median(lap)) })),
      goal: { wall: median(goal), cpu: share(median(goal)) },
      all: { wall: median(all), cpu: cpuPerChain },
    };
  };
  const chainRounds = [];
  for (let r = 0; r < rounds; r++) chainRounds.push(await chainRound());
  const best = chainRounds.reduce((p, q) => (q.goal.wall < p.goal.wall ? q : p));
  const perFace: [string, Timing][] = stageNames.map((name, k) => [name, best.stages[k]!]);
  // Each model alone on a fixed input, in the same run: what a stage costs beyond inference is
  // what facegate's own code adds (crops, packing, decoding outputs).
  const alone: [string, Timing][] = [];
  for (const [name, path] of Object.entries(paths)) {
    const model = await OrtModel.load(name, path, settings, log);
    const input = new Float32Array(model.inputShape.reduce((a, b) => a * b, 1)).fill(0.5);
    alone.push([`  ${name} model alone`, await timeIt(n, () => model.run(input))]);
    await model.close();
  }
  const line = (name: string, t: Timing) => `  ${name.padEnd(48)} ${t.wall.toFixed(2).padStart(7)} ms ${t.cpu.toFixed(2).padStart(8)} ms`;
  console.log(`vision benchmark: ONNX Runtime ${settings.provider}, ${settings.threads} intra-op thread(s), ${n} runs; face ${Math.round(det.box.h)} px in ${frame.width}×${frame.height}`);
  console.log(`  ${'stage'.padEnd(48)} ${'wall p50'.padStart(10)} ${'CPU mean'.padStart(11)}`);
  for (const [name, t] of rows) console.log(line(name, t));
  console.log(`  per face, best of ${rounds} rounds of ${n} (goal's medians of the rounds: ${chainRounds.map((c) => c.goal.wall.toFixed(2)).join(', ')} ms)`);
  for (const [name, t] of perFace) console.log(line(name, t));
  console.log(line('per face: landmarks+align+embed+eyes+anti-spoof', best.goal) + '  (goal ≤ 5 ms, one thread)');
  console.log(line('per face with quality, as analyzeFace runs it', best.all));
  for (const [name, t] of alone) console.log(line(name, t));
  if (batches.length > 0) await batchTable(paths, batches, n, rounds, (name, path) => OrtModel.load(name, path, settings, log));
  if (concurrent.length > 0) await concurrentTable(provider, Number(values.threads), concurrent, n, frame, frame1080, det, log);
  console.log(`  load average while measuring: ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${availableParallelism()} cores`);
  console.log(speedLine(SPEED_CLIP, speedBefore, boxSpeed(media(SPEED_CLIP))));
  await Promise.all([detector.close(), landmarker.close(), embedder.close(), eyes.close(), antispoof.close()]);
}

/**
 * The vision core as a daemon's worker runs it (FaceAnalyzer, its model queues set by
 * vision.batch's defaults for the provider), with `callers` cameras calling at once: per face, the
 * whole analysis (landmarks, embedding, eyes, anti-spoof) of ~220 px faces; per frame, a tiled
 * 1080p detection. Wall time over everything done, and CPU time of this process (the calling
 * thread waits busy on a GPU).
 */
async function concurrentTable(provider: 'cpu' | 'webgpu' | 'cuda', threads: number, callers: readonly number[], n: number, frame: RgbImage, frame1080: RgbImage, det: Detection, log: Logger): Promise<void> {
  const vision = { ...defaultConfig().vision, execution_provider: provider, threads };
  const analyzer = await FaceAnalyzer.create({ vision, logger: log });
  const policy = batchPolicy(vision, analyzer.provider);
  console.log(`  with callers at once (${analyzer.provider}, runs of up to ${policy.max}${policy.padToPowerOfTwo ? ', padded to a power of two' : ''})`);
  const options = { embed: true, eyes: true, antispoof: true };
  const measure = async (count: number, call: () => Promise<unknown>) => {
    const each = Math.max(3, Math.ceil((4 * n) / count));
    await Promise.all(Array.from({ length: count }, () => call())); // warm-up: kernels for this shape
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(Array.from({ length: count }, async () => {
      for (let i = 0; i < each; i++) await call();
    }));
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const done = count * each;
    return `${(wall / done).toFixed(2)} ms (CPU ${((cpu.user + cpu.system) / 1000 / done).toFixed(2)} ms), ${((1000 * done) / wall).toFixed(0)}/s`;
  };
  for (const count of callers) {
    const face = await measure(count, () => analyzer.analyzeFace(frame, det, options));
    const tiled = await measure(count, () => analyzer.detect(frame1080, 'tiled'));
    console.log(`  ${`  ${count} caller(s): a face's analysis`.padEnd(48)} ${face}; a tiled 1080p detection ${tiled}`);
  }
  await analyzer.close();
}

/**
 * Each model's wall time per input (per face for the eye model, which takes both eyes) at each batch
 * size: the median call on `batch` inputs, divided by `batch`.
 */
async function batchTable(paths: ModelPaths, batches: readonly number[], n: number, rounds: number, load: (name: string, path: string) => Promise<OrtModel>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'fg-bench-batch-'));
  try {
    console.log(`  ${'per input, batched in one call'.padEnd(48)} ${batches.map((b) => `×${b}`.padStart(8)).join('')}`);
    for (const [name, path] of Object.entries(paths)) {
      const perFace = name === 'eyes' ? 2 : 1;
      const bytes = readFileSync(path);
      const cells: string[] = [];
      for (const batch of batches) {
        // Decoded again for each size: setBatch edits the graph it is given.
        const model = decodeModel(bytes);
        setBatch(model.graph, batch * perFace);
        const file = join(dir, `${name}-${batch}.onnx`);
        writeFileSync(file, encodeModel(model));
        const session = await load(name, file);
        const input = new Float32Array(session.inputShape.reduce((a, b) => a * b, 1)).fill(0.5);
        // The same number of inputs at every size (4·N), best of `rounds` rounds: the differences are small.
        let best = Infinity;
        for (let r = 0; r < rounds; r++) best = Math.min(best, (await timeIt(Math.ceil((4 * n) / batch), () => session.run(input))).wall);
        cells.push(`${(best / batch).toFixed(2)}`.padStart(8));
        await session.close();
      }
      console.log(`  ${`  ${name}`.padEnd(48)} ${cells.join('')}  ms`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
