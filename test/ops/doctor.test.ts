import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { defaultConfig } from '../../daemon/config/load.js';
import { createLogger } from '../../daemon/ops/log.js';
import { runDoctor } from '../../daemon/ops/doctor.js';
import { freePort } from '../support/mosquitto.js';
import { runCli } from '../support/cli.js';
import { FakeCamera } from '../support/fake-camera.js';

test('doctor on a broken box: each failure is named with its fix, exit 1', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-doctor-'));
  mkdirSync(join(dir, 'empty-models'));
  const [brokerPort, cameraPort] = [await freePort(), await freePort()];
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    [
      'vision:',
      `  models_dir: ${dir}/empty-models`,
      'gallery:',
      `  path: ${dir}/state.db`,
      `  key_file: ${dir}/gallery.key`,
      'mqtt:',
      '  enabled: true',
      `  url: mqtt://127.0.0.1:${brokerPort}`,
      `  device_key_file: ${dir}/device.key`,
      'cameras:',
      `  - { name: door, url: "rtsp://admin:secret@127.0.0.1:${cameraPort}/stream" }`,
    ].join('\n'),
  );
  const r = await runCli(['doctor', '--config', config], { env: { FACEGATE_PASSPHRASE: '' } });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const out = r.stdout;
  assert.match(out, /^ok {4}ffmpeg/m);
  assert.match(out, /^FAIL {2}models .*FG_ERR_MODEL_MISSING[^\n]*\n\s+fix: run `npm run models`/m);
  assert.match(out, /^FAIL {2}gallery key .*none found[^\n]*\n\s+fix: facegate keys init/m);
  assert.match(out, /^FAIL {2}device key[^\n]*\n\s+fix: /m);
  assert.match(out, new RegExp(`^FAIL {2}broker .*127\\.0\\.0\\.1:${brokerPort}: ECONNREFUSED[^\\n]*\\n\\s+fix: start the broker`, 'm'));
  assert.match(out, /^FAIL {2}camera door .*\n\s+fix: /m);
  assert.doesNotMatch(out, /secret/, 'camera credentials are never printed');
  assert.match(out, /^\d+ check\(s\) failed$/m);
});

test('doctor: an unsynchronised clock fails with the NTP fix; ffmpeg missing says how to install it', async () => {
  const config = { ...defaultConfig(), cameras: [] };
  const results = await runDoctor({
    config,
    env: {},
    logger: createLogger({ level: 'silent' }),
    run: (cmd) => (cmd === 'timedatectl' ? { status: 0, stdout: 'no\n' } : { status: null, stdout: '', error: new Error('spawn ffmpeg ENOENT') }),
  });
  const byCheck = Object.fromEntries(results.map((r) => [r.check, r]));
  assert.equal(byCheck.clock!.status, 'fail');
  assert.match(byCheck.clock!.fix!, /timedatectl set-ntp true/);
  assert.equal(byCheck.ffmpeg!.status, 'fail');
  assert.equal(byCheck.ffmpeg!.fix, 'apt-get install ffmpeg');
});

test('doctor names a camera too slow for the eye rate: one that sends fewer fps than eye_fps, one configured below it', { timeout: 90_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-doctor-rate-'));
  mkdirSync(join(dir, 'empty-models'));
  const slow = await FakeCamera.start({ width: 320, height: 180, fps: 5 });
  const fast = await FakeCamera.start({ width: 320, height: 180, fps: 15 });
  try {
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      [
        `vision: { models_dir: ${dir}/empty-models }`,
        `gallery: { path: ${dir}/state.db, key_file: ${dir}/gallery.key }`,
        `mqtt: { device_key_file: ${dir}/device.key }`,
        'cameras:',
        `  - { name: door, url: "${slow.url()}" }`, // fps left out: 15, but the camera sends 5
        `  - { name: gate, url: "${fast.url()}" }`,
        `  - { name: lobby, url: "${fast.url()}", fps: 5 }`,
      ].join('\n'),
    );
    const r = await runCli(['doctor', '--config', config], { env: { FACEGATE_PASSPHRASE: '' } });
    const out = r.stdout;
    assert.match(out, /^WARN {2}camera door .* 5 fps, first frame in \d+ ms; FG_WARN_CAMERA_SOURCE_FPS: camera "door" itself sends 5 fps, below track\.eye_fps \(15\)[^\n]*\n\s+fix: raise the frame rate in the camera's own video \(encoder\) settings to at least 15 fps$/m, out);
    assert.match(out, /^ok {4}camera gate .* 15 fps, first frame in/m, out);
    assert.match(out, /^WARN {2}camera lobby .* 15 fps, first frame in \d+ ms; FG_WARN_CAMERA_FPS: camera "lobby" delivers 5 fps[^\n]*\n\s+fix: set fps: 15, or leave fps out/m, out);

    // With a passive policy no blink is needed: the same cameras pass.
    writeFileSync(config, readFileSync(config, 'utf8') + '\ntrack: { liveness: { policy: passive } }\n');
    const passive = await runCli(['doctor', '--config', config], { env: { FACEGATE_PASSPHRASE: '' } });
    assert.match(passive.stdout, /^ok {4}camera door .* 5 fps/m, passive.stdout);
    assert.match(passive.stdout, /^ok {4}camera lobby /m, passive.stdout);
  } finally {
    await slow.stop();
    await fast.stop();
  }
});
