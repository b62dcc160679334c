import '../support/cli-tier.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../../daemon/base/log.js';
import { defaultConfig } from '../../daemon/config/load.js';
import { FaceAnalyzer } from '../../daemon/vision/analyzer.js';
import { ModelBatcher, paddedCount } from '../../daemon/vision/batcher.js';
import { cosine } from '../../daemon/vision/embedder.js';
import { decodeImageFile } from '../../daemon/vision/image.js';
import type { OrtModel } from '../../daemon/vision/ort.js';
import type { Detection, FaceAnalysis } from '../../daemon/vision/types.js';
import { testAnalyzer } from '../support/analyzer.js';
import { media, mediaMissing } from '../support/media.js';

const A = 'identities/deepface/img1.jpg';
const B = 'identities/deepface/img20.jpg';

test('one analyzer shared by cameras: calls that overlap give what each gives alone', { skip: mediaMissing(A, B) }, async () => {
  // The daemon's camera pipelines share one analyzer and its models' queues; a model's input
  // buffer written by one camera while another's run is still pending would mix their faces.
  const analyzer = await testAnalyzer();
  const images = await Promise.all([A, B].map((f) => decodeImageFile(media(f))));
  const detections: Detection[] = [];
  for (const img of images) detections.push((await analyzer.detect(img))[0]!);
  const options = { embed: true, eyes: true, antispoof: true };
  const alone: FaceAnalysis[] = [];
  for (const [i, img] of images.entries()) alone.push(await analyzer.analyzeFace(img, detections[i]!, options));
  const overlapping = await Promise.all(
    Array.from({ length: 12 }, (_, k) => k % 2).map((i) => analyzer.analyzeFace(images[i]!, detections[i]!, options).then((face) => ({ i, face }))),
  );
  for (const { i, face } of overlapping) {
    const expected = alone[i]!;
    assert.ok(cosine(face.embedding!, expected.embedding!) > 0.9999, `image ${i}: embedding of another face`);
    assert.deepEqual(face.landmarks5, expected.landmarks5);
    assert.equal(face.antispoof?.pLive, expected.antispoof?.pLive);
    assert.deepEqual(face.eyes, expected.eyes);
  }
  const overlappingDetect = await Promise.all([0, 1, 0, 1].map((i) => analyzer.detect(images[i]!)));
  overlappingDetect.forEach((found, k) => assert.deepEqual(found[0], detections[k % 2]));
});

test('models that take batches: the faces and tiles of overlapping calls share runs and each gets what it gets alone', { skip: mediaMissing(A, B) }, async () => {
  // The GPU's way (vision.batch.max > 1), run here on the CPU: the same queues, padding aside.
  const vision = { ...defaultConfig().vision, batch: { max: 8, window_ms: 2 } };
  const batched = await FaceAnalyzer.create({ vision, logger: createLogger({ level: 'warn' }) });
  const alone = await testAnalyzer();
  try {
    const images = await Promise.all([A, B].map((f) => decodeImageFile(media(f))));
    const options = { embed: true, eyes: true, antispoof: true };
    const expected = await Promise.all(images.map(async (img) => alone.analyzeFace(img, (await alone.detect(img))[0]!, options)));
    const together = await Promise.all(Array.from({ length: 10 }, (_, k) => k % 2).map(async (i) => ({ i, faces: await batched.analyze(images[i]!, options) })));
    for (const { i, faces } of together) {
      const [face] = faces;
      const want = expected[i]!;
      assert.ok(face, `image ${i}: no face`);
      assert.ok(cosine(face.embedding!, want.embedding!) > 0.9999, `image ${i}: embedding of another face`);
      assert.ok(Math.abs(face.detection.box.x - want.detection.box.x) < 0.01 && Math.abs(face.detection.box.h - want.detection.box.h) < 0.01, `image ${i}: box moved`);
      face.landmarks68.forEach((p, k) => assert.ok(Math.hypot(p.x - want.landmarks68[k]!.x, p.y - want.landmarks68[k]!.y) < 0.01, `image ${i}: landmark ${k} moved`));
      assert.ok(Math.abs(face.antispoof!.pLive - want.antispoof!.pLive) < 1e-4, `image ${i}: anti-spoof differs`);
      assert.ok(Math.abs(face.eyes!.left.pOpen - want.eyes!.left.pOpen) < 1e-4, `image ${i}: eye state differs`);
    }
  } finally {
    await batched.close();
  }
});

test('a model queue gathers what waits into runs of at most max, in order, and pads runs for a GPU', async () => {
  const runs: number[] = [];
  // A stand-in model: outputs each input's first float, so the order of the answers shows.
  const model = {
    name: 'echo',
    batches: true,
    inputSize: 2,
    provider: 'cpu',
    async runMany(inputs: Float32Array, count: number) {
      runs.push(count);
      return [Float32Array.from({ length: count }, (_, i) => inputs[2 * i]!)];
    },
  } as unknown as OrtModel;
  const queue = new ModelBatcher(model, { max: 4, windowMs: 0, padToPowerOfTwo: true });
  const answers = await Promise.all(Array.from({ length: 6 }, (_, k) => queue.run(Float32Array.of(k, 0)).then(([out]) => out![0])));
  assert.deepEqual(answers, [0, 1, 2, 3, 4, 5]);
  // 4 at once, then the 2 that waited behind them, padded to 2 (a power of two already).
  assert.deepEqual(runs, [4, 2]);
  runs.length = 0;
  assert.deepEqual(await Promise.all([0, 1, 2].map((k) => queue.run(Float32Array.of(k, 0)).then(([out]) => out![0]))), [0, 1, 2]);
  assert.deepEqual(runs, [4], 'three inputs are padded to a run of four');
  await assert.rejects(queue.run(new Float32Array(3)), /takes 2 floats/);
  assert.equal(paddedCount(5, true), 8);
  assert.equal(paddedCount(5, false), 5);
  await queue.idle();
});
