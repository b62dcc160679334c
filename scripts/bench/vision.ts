// `npm run bench -- vision [--iterations N]`: milliseconds per stage of the vision core at one
// ONNX Runtime thread, median of N runs after a warm-up, on real photos from ../shared/media.
import { readFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { createLogger } from '../../daemon/ops/log.js';
import { alignment, ALIGNED_SIZE, fivePoints, toAlignedFrame } from '../../daemon/vision/align.js';
import { AntiSpoofModel } from '../../daemon/vision/antispoof.js';
import { FaceDetector, type DetectOptions } from '../../daemon/vision/detector.js';
import { Embedder } from '../../daemon/vision/embedder.js';
import { EyeModel } from '../../daemon/vision/eyes.js';
import { decodeImage } from '../../daemon/vision/image.js';
import { LandmarkModel } from '../../daemon/vision/landmarks.js';
import { OrtModel } from '../../daemon/vision/ort.js';
import { verifyModels } from '../../daemon/vision/model-files.js';
import { faceQuality } from '../../daemon/vision/quality.js';
import { sampleAffine } from '../../daemon/vision/sampling.js';
import type { RgbImage } from '../../daemon/vision/types.js';
import { media, mediaMissing } from '../../test/support/media.js';

interface Timing {
  /** Median wall-clock ms of one call. */
  wall: number;
  /** Mean CPU ms of one call (user + system of this process): steadier than wall time on a shared machine. */
  cpu: number;
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
  samples.sort((a, b) => a - b);
  return { wall: samples[Math.floor(samples.length / 2)]!, cpu: (cpu.user + cpu.system) / 1000 / n };
}

/** A 1920×1080 frame with the 720p photo in its middle (a face of ~220 px). */
function padTo1080p(img: RgbImage): RgbImage {
  const W = 1920, H = 1080;
  const data = new Uint8Array(W * H * 3);
  const ox = (W - img.width) >> 1, oy = (H - img.height) >> 1;
  for (let y = 0; y < img.height; y++) data.set(img.data.subarray(y * img.width * 3, (y + 1) * img.width * 3), ((y + oy) * W + ox) * 3);
  return { width: W, height: H, data };
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { iterations: { type: 'string', default: '50' } } });
  const n = Number(values.iterations);
  const missing = mediaMissing('identities/face_recognition/obama-720p.jpg');
  if (missing) throw new Error(missing);
  const log = createLogger({ level: 'warn' });
  const settings = { provider: 'cpu' as const, threads: 1 };
  const paths = verifyModels();
  const detector = await FaceDetector.load(paths.detector, settings, log);
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
  const lm = await landmarker.landmarks(frame, det.box);
  const aligned = new Float32Array(ALIGNED_SIZE * ALIGNED_SIZE * 3);

  const rows: [string, Timing][] = [];
  rows.push(['decode 720p JPEG (sharp)', await timeIt(n, () => decodeImage(jpeg, 'x'))]);
  rows.push(['detect full frame 1280×720', await timeIt(n, () => detector.detect(frame, opts('full')))]);
  rows.push(['detect full frame 1920×1080', await timeIt(n, () => detector.detect(frame1080, opts('full')))]);
  rows.push(['detect tiled 1920×1080 (full + 3×3 tiles)', await timeIt(n, () => detector.detect(frame1080, opts('tiled')))]);
  const perFace: [string, Timing][] = [];
  perFace.push(['landmarks (68 points)', await timeIt(n, () => landmarker.landmarks(frame, det.box))]);
  perFace.push([
    'align (5 points, Umeyama, 112×112 warp) + quality',
    await timeIt(n, () => {
      const a = alignment(fivePoints(lm));
      sampleAffine(frame, a.fromAligned, ALIGNED_SIZE, ALIGNED_SIZE, aligned);
      faceQuality(det, lm, toAlignedFrame(a, lm), aligned);
    }),
  ]);
  perFace.push(['embed (512-d)', await timeIt(n, () => embedder.embed(aligned))]);
  perFace.push(['eyes (both)', await timeIt(n, () => eyes.eyes(frame, lm))]);
  perFace.push(['anti-spoof', await timeIt(n, () => antispoof.pLive(frame, det.box))]);
  const total = {
    wall: perFace.reduce((s, [, t]) => s + t.wall, 0),
    cpu: perFace.reduce((s, [, t]) => s + t.cpu, 0),
  };
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
  console.log(`vision benchmark: ONNX Runtime CPU, 1 intra-op thread, ${n} runs; face ${Math.round(det.box.h)} px in ${frame.width}×${frame.height}`);
  console.log(`  ${'stage'.padEnd(48)} ${'wall p50'.padStart(10)} ${'CPU mean'.padStart(11)}`);
  for (const [name, t] of [...rows, ...perFace]) console.log(line(name, t));
  console.log(line('per face: landmarks+align+embed+eyes+anti-spoof', total) + '  (goal ≤ 15 ms)');
  for (const [name, t] of alone) console.log(line(name, t));
  console.log(`  load average while measuring: ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${availableParallelism()} cores`);
  await Promise.all([detector.close(), landmarker.close(), embedder.close(), eyes.close(), antispoof.close()]);
}
