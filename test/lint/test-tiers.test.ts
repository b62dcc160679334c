// The fast tier's guard (test/support/fast-tier.ts) and the media rule (test/support/media.ts):
// a fast-tier file that starts a process or loads a model fails, in its own thread and in a worker
// thread it starts; media missing in a CI run fails instead of skipping.
import '../support/fast-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as childProcess from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { InferenceSession } from 'onnxruntime-node';
import { mediaMissing } from '../support/media.js';

const REFUSED = /in a fast-tier test: .*drop that import/;

test('fast tier: every way to start a process throws, with the way out in the message', () => {
  const attempts: Record<string, () => unknown> = {
    spawn: () => childProcess.spawn('true'),
    spawnSync: () => childProcess.spawnSync('true'),
    exec: () => childProcess.exec('true'),
    execSync: () => childProcess.execSync('true'),
    execFile: () => childProcess.execFile('true'),
    execFileSync: () => childProcess.execFileSync('true'),
    fork: () => childProcess.fork('-e'),
  };
  for (const [name, attempt] of Object.entries(attempts)) assert.throws(attempt, (e: Error) => e.message.startsWith(`child_process.${name} `) && REFUSED.test(e.message), name);
});

test('fast tier: loading a model throws before ONNX Runtime reads the file', async () => {
  await assert.rejects(async () => InferenceSession.create('/nonexistent/model.onnx'), (e: Error) => /loading a model/.test(e.message) && REFUSED.test(e.message));
});

test('fast tier: a worker thread, eval or from a file, is held to the same', async (t) => {
  const probe = "try { require('node:child_process').execFileSync('true'); parentPort.postMessage('spawned'); } catch (e) { parentPort.postMessage(e.message); }";
  const dir = mkdtempSync(join(tmpdir(), 'fg-tier-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'probe.cjs');
  writeFileSync(file, `const { parentPort } = require('node:worker_threads');\n${probe}\n`);
  // One at a time, each listened to from its start: a worker's message with no listener yet is lost.
  for (const start of [() => new Worker(`const { parentPort } = require('node:worker_threads');\n${probe}`, { eval: true }), () => new Worker(file)]) {
    const worker = start();
    const [message] = (await once(worker, 'message')) as [string];
    await worker.terminate();
    assert.match(message, REFUSED);
  }
});

test('media: missing media is a reason to skip on a developer machine, and an error in a CI run', (t) => {
  const saved = process.env.CI;
  t.after(() => (saved === undefined ? delete process.env.CI : (process.env.CI = saved)));
  for (const off of [undefined, '', '0', 'false']) {
    if (off === undefined) delete process.env.CI;
    else process.env.CI = off;
    assert.match(String(mediaMissing('no/such/clip.mp4')), /test media (missing: no\/such\/clip\.mp4|not found at)/);
  }
  for (const on of ['1', 'true']) {
    process.env.CI = on;
    assert.throws(() => mediaMissing('no/such/clip.mp4'), /test media .*a CI run \(CI=.*\) runs the tests on the media instead of skipping them/);
  }
});
