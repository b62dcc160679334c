import '../support/cli-tier.js';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { defaultConfig } from '../../daemon/config/load.js';
import { createLogger } from '../../daemon/base/log.js';
import { FaceAnalyzer } from '../../daemon/vision/analyzer.js';
import { decodeImageFile } from '../../daemon/vision/image.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli.js';
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
      const expected = provider === 'webgpu' ? "execution provider 'webgpu' found no GPU adapter; running on CPU" : `execution provider '${provider}' could not load; running on CPU`;
      assert.equal(warnings[0]!.msg, expected);
      const faces = await analyzer.analyze(await decodeImageFile(media('identities/face_recognition/obama.jpg')));
      assert.equal(faces.length, 1);
    } finally {
      await analyzer.close();
    }
  });
}

test("'webgpu' on a machine with no GPU adapter: the built CLI falls back, finds the face and exits 0 (ONNX Runtime's WebGPU, once started without an adapter, crashed the process at exit)", { skip: mediaMissing('identities/face_recognition/obama.jpg') }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-webgpu-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = join(dir, 'facegate.yaml');
  writeFileSync(config, 'vision:\n  execution_provider: webgpu\n');
  const r = await runCli(['analyze', media('identities/face_recognition/obama.jpg'), '--json', '--config', config]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n').length, 1, r.stdout);
  assert.match(r.stderr, /found no GPU adapter; running on CPU/);
});
