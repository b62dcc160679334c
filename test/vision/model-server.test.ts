import '../support/cli-tier.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../../daemon/base/log.js';
import { defaultConfig } from '../../daemon/config/load.js';
import { FaceAnalyzer } from '../../daemon/vision/analyzer.js';
import { cosine } from '../../daemon/vision/embedder.js';
import { decodeImageFile } from '../../daemon/vision/image.js';
import { verifyModels } from '../../daemon/vision/model-files.js';
import { ModelServer } from '../../daemon/vision/model-server.js';
import { testAnalyzer } from '../support/analyzer.js';
import { media, mediaMissing } from '../support/media.js';

const PHOTOS = ['identities/deepface/img1.jpg', 'identities/deepface/img20.jpg', 'identities/face_recognition/obama-720p.jpg'];

// The GPU's way of running the models, run here on the CPU (no adapter on this machine): the model
// thread and the analyzers that send it their inputs are the same code whatever it runs on.
test("analyzers whose models run on the model thread: two of them at once, their inputs batched there, each face as an analyzer with its own models finds it", { skip: mediaMissing(...PHOTOS) }, async () => {
  const logger = createLogger({ level: 'warn' });
  const vision = { ...defaultConfig().vision, batch: { max: 8, window_ms: 2 } };
  const models = verifyModels(vision.models_dir);
  const server = await ModelServer.start({ vision, models, provider: 'cpu', logger });
  const remote = await Promise.all([0, 1].map(() => FaceAnalyzer.create({ vision, logger, models, server: server.connect() })));
  try {
    const alone = await testAnalyzer();
    const images = await Promise.all(PHOTOS.map((f) => decodeImageFile(media(f))));
    const options = { embed: true, eyes: true, antispoof: true };
    const expected = await Promise.all(images.map((img) => alone.analyze(img, options)));
    const got = await Promise.all(Array.from({ length: 12 }, (_, k) => ({ i: k % images.length, analyzer: remote[k % 2]! })).map(async ({ i, analyzer }) => ({ i, faces: await analyzer.analyze(images[i]!, options) })));
    for (const { i, faces } of got) {
      assert.equal(faces.length, expected[i]!.length, `${PHOTOS[i]}: faces found`);
      faces.forEach((face, k) => {
        const want = expected[i]![k]!;
        assert.ok(cosine(face.embedding!, want.embedding!) > 0.9999, `${PHOTOS[i]} face ${k}: embedding of another face`);
        assert.ok(Math.abs(face.antispoof!.pLive - want.antispoof!.pLive) < 1e-4, `${PHOTOS[i]} face ${k}: anti-spoof differs`);
        assert.ok(Math.abs(face.eyes!.right.pOpen - want.eyes!.right.pOpen) < 1e-4, `${PHOTOS[i]} face ${k}: eye state differs`);
      });
    }
  } finally {
    await Promise.all(remote.map((a) => a.close()));
    await server.close();
  }
});

test("when the model thread ends, a run waiting on it fails with FG_ERR_VISION_WORKER instead of waiting for ever", { skip: mediaMissing(PHOTOS[0]!) }, async () => {
  const logger = createLogger({ level: 'silent' });
  const vision = defaultConfig().vision;
  const models = verifyModels(vision.models_dir);
  const server = await ModelServer.start({ vision, models, provider: 'cpu', logger });
  const analyzer = await FaceAnalyzer.create({ vision, logger, models, server: server.connect() });
  const img = await decodeImageFile(media(PHOTOS[0]!));
  assert.equal((await analyzer.detect(img)).length, 1);
  await server.close();
  await assert.rejects(analyzer.detect(img), (e: unknown) => (e as { code?: string }).code === 'FG_ERR_VISION_WORKER');
  await analyzer.close();
});

test('a model thread that ends by itself is started again: a run sent meanwhile fails with FG_ERR_VISION_WORKER, and a worker that connects anew runs on the new one', { skip: mediaMissing(PHOTOS[0]!) }, async () => {
  const logger = createLogger({ level: 'silent' });
  const vision = defaultConfig().vision;
  const models = verifyModels(vision.models_dir);
  const server = await ModelServer.start({ vision, models, provider: 'cpu', logger });
  const restarted = new Promise<void>((resolve) => server.onRestarted(resolve));
  const before = await FaceAnalyzer.create({ vision, logger, models, server: server.connect() });
  const img = await decodeImageFile(media(PHOTOS[0]!));
  try {
    assert.equal((await before.detect(img)).length, 1);
    await server.kill();
    await assert.rejects(before.detect(img), (e: unknown) => (e as { code?: string }).code === 'FG_ERR_VISION_WORKER');
    await restarted;
    assert.equal(server.restarts, 1);
    const after = await FaceAnalyzer.create({ vision, logger, models, server: server.connect() });
    try {
      assert.equal((await after.detect(img)).length, 1, 'the new thread runs the models');
    } finally {
      await after.close();
    }
  } finally {
    await before.close();
    await server.close();
  }
});
