import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { defaultConfig } from '../../daemon/config/load.js';
import { createLogger } from '../../daemon/base/log.js';
import { FaceAnalyzer } from '../../daemon/vision/analyzer.js';
import { decodeImageFile } from '../../daemon/vision/image.js';
import { media, mediaMissing } from '../support/media.js';

for (const provider of ['cuda', 'webgpu'] as const) {
  test(`'${provider}' that cannot load falls back to CPU with one clear log line, and faces are still found`, { skip: mediaMissing('identities/face_recognition/obama.jpg') }, async () => {
    const lines: Record<string, unknown>[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()));
        done();
      },
    });
    const vision = { ...defaultConfig().vision, execution_provider: provider };
    // This machine has no CUDA provider library (onnxruntime-node does not ship it) and no GPU for
    // WebGPU to find: the fallback path.
    const analyzer = await FaceAnalyzer.create({ vision, logger: createLogger({ destination }) });
    try {
      assert.equal(analyzer.provider, 'cpu');
      const warnings = lines.filter((l) => l.level === 40);
      assert.equal(warnings.length, 1, JSON.stringify(lines));
      assert.equal(warnings[0]!.msg, `execution provider '${provider}' could not load; running on CPU`);
      const faces = await analyzer.analyze(await decodeImageFile(media('identities/face_recognition/obama.jpg')));
      assert.equal(faces.length, 1);
    } finally {
      await analyzer.close();
    }
  });
}
