import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { defaultConfig } from '../../daemon/config/load.js';
import { createLogger } from '../../daemon/base/log.js';
import { runDoctor } from '../../daemon/system/doctor.js';
import { Mosquitto, freePort, makeTestCa } from '../support/mosquitto.js';
import { media, mediaMissing } from '../support/media.js';
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
  assert.match(out, /^FAIL {2}gallery key +FG_ERR_GALLERY_KEY_MISSING: no key for gallery .*state\.db: tried [^\n]*gallery\.key[^\n]*\n\s+fix: make one with 'facegate keys init' \(it writes .*gallery\.key, mode 0600\)/m);
  // Enrolling needs the key: the gallery's next step says to make it first.
  assert.match(out, /^WARN {2}gallery +.*state\.db does not exist yet[^\n]*\n\s+fix: first make the keys \(facegate keys init\), then enrol people: facegate person add/m);
  assert.match(out, /^FAIL {2}device key[^\n]*\n\s+fix: /m);
  assert.match(out, new RegExp(`^FAIL {2}broker +FG_ERR_MQTT_UNREACHABLE: broker mqtt://127\\.0\\.0\\.1:${brokerPort} unreachable \\(ECONNREFUSED\\)\\n\\s+fix: check that the broker runs and mqtt\\.url`, 'm'));
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

test('doctor names a camera too slow for the eye rate (one that sends fewer fps than eye_fps, one configured below it), one whose frame leaves its picture black bars and an interlaced one read without deinterlace', { timeout: 90_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-doctor-rate-'));
  mkdirSync(join(dir, 'empty-models'));
  // Woven into fields, top first, as an analog encoder sends them.
  const woven = join(dir, 'interlaced.mp4');
  execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=s=320x180:r=30:d=2', '-vf', 'tinterlace=interleave_top', '-c:v', 'libx264', '-preset', 'veryfast', '-flags', '+ildct+ilme', '-x264-params', 'tff=1', '-pix_fmt', 'yuv420p', woven]);
  const slow = await FakeCamera.start({ width: 320, height: 180, fps: 5 });
  const fast = await FakeCamera.start({ width: 320, height: 180, fps: 15 });
  const analog = await FakeCamera.start({ width: 320, height: 180, fps: 15, video: woven });
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
        // A sub stream that answers, and one that does not: quiet spells would be watched on key frames.
        `  - { name: hall, url: "${fast.url()}", sub_url: "${slow.url()}", idle_keyframes_after_s: 10 }`,
        `  - { name: yard, url: "${fast.url()}", sub_url: "rtsp://127.0.0.1:9/gone", idle_keyframes_after_s: 10 }`,
        // A 16:9 stream into a 4:3 frame: fitted with bars above and below.
        `  - { name: porch, url: "${fast.url()}", width: 1280, height: 960 }`,
        `  - { name: analog, url: "${analog.url('/video')}", width: 320, height: 180 }`,
        `  - { name: whole, url: "${analog.url('/video')}", width: 320, height: 180, deinterlace: true }`,
      ].join('\n'),
    );
    const r = await runCli(['doctor', '--config', config], { env: { FACEGATE_PASSPHRASE: '' } });
    const out = r.stdout;
    assert.match(out, /^WARN {2}camera door .* 5 fps, first frame in \d+ ms; FG_WARN_CAMERA_SOURCE_FPS: camera "door" itself sends 5 fps, below track\.eye_fps \(15\)[^\n]*\n\s+fix: raise the frame rate in the camera's own video \(encoder\) settings to at least 15 fps$/m, out);
    assert.match(out, /^ok {4}camera gate .* 15 fps, first frame in/m, out);
    assert.match(out, /^WARN {2}camera lobby .* 15 fps, first frame in \d+ ms; FG_WARN_CAMERA_FPS: camera "lobby" delivers 5 fps[^\n]*\n\s+fix: set fps: 15, or leave fps out/m, out);
    assert.match(out, /^ok {4}camera hall .* 15 fps, first frame in \d+ ms; sub stream rtsp:\/\/127\.0\.0\.1:\d+\/pattern: h264 320x180 5 fps, first frame in \d+ ms$/m, out);
    assert.match(out, /^WARN {2}camera yard .* 15 fps, first frame in \d+ ms; sub stream: [^\n]*\n\s+fix: check cameras\.4\.sub_url \(the camera's second stream\); until it answers, quiet spells are watched on key frames of url$/m, out);
    assert.match(out, /^WARN {2}camera porch .* 15 fps, first frame in \d+ ms; FG_WARN_CAMERA_ASPECT: camera "porch" shows 320x180, fitted into 1280x960 with black bars: the picture is 1280x720\n\s+fix: set width: 1706, height: 960 for camera "porch" \(or another size in the stream's proportion\)$/m, out);
    assert.match(out, /^WARN {2}camera analog .* interlaced, first frame in \d+ ms; FG_WARN_CAMERA_INTERLACED: camera "analog" sends interlaced video[^\n]*\n\s+fix: set deinterlace: true for camera "analog"/m, out);
    assert.match(out, /^ok {4}camera whole .* interlaced, first frame in \d+ ms$/m, out);

    // With a passive policy no blink is needed: the same cameras pass.
    writeFileSync(config, readFileSync(config, 'utf8') + '\ntrack: { liveness: { policy: passive } }\n');
    const passive = await runCli(['doctor', '--config', config], { env: { FACEGATE_PASSPHRASE: '' } });
    assert.match(passive.stdout, /^ok {4}camera door .* 5 fps/m, passive.stdout);
    assert.match(passive.stdout, /^ok {4}camera lobby /m, passive.stdout);
  } finally {
    await slow.stop();
    await fast.stop();
    await analog.stop();
  }
});

const FACE = 'identities/face_recognition/obama.jpg';

test('doctor counts the templates of the gallery and logs in to the broker as the daemon would: password and TLS with a client certificate', { skip: mediaMissing(FACE), timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-doctor-mqtt-'));
  const ca = makeTestCa(dir);
  const broker = await Mosquitto.start({ password: { user: 'gate', pass: 'right-pw' }, tls: { ca: ca.ca, cert: ca.serverCert, key: ca.serverKey, requireClientCert: true } });
  t.after(() => broker.dispose());
  const config = join(dir, 'config.yaml');
  const write = (tls: { ca: string; cert: string; key: string }) =>
    writeFileSync(
      config,
      [
        `gallery: { path: ${dir}/state.db, key_file: ${dir}/gallery.key }`,
        `mqtt: { enabled: true, url: "${broker.url}", username: gate, password_env: DOCTOR_MQTT_PW, device_id: gate-9, device_key_file: ${dir}/device.key, tls: { ca: ${tls.ca}, cert: ${tls.cert}, key: ${tls.key} } }`,
      ].join('\n'),
    );
  write({ ca: ca.ca, cert: ca.clientCert, key: ca.clientKey });
  for (const args of [['keys', 'init'], ['person', 'add', '--name', 'Barack', '--image', media(FACE)]]) {
    const r = await runCli([...args, '--config', config]);
    assert.equal(r.code, 0, r.stderr);
  }
  const doctor = (pw: string) => runCli(['doctor', '--config', config], { env: { DOCTOR_MQTT_PW: pw, FACEGATE_PASSPHRASE: '' } });

  const good = await doctor('right-pw');
  assert.match(good.stdout, /^ok {4}gallery +.*state\.db: 1 person\(s\), 1 template\(s\)$/m, good.stdout);
  assert.match(good.stdout, /^ok {4}broker +mqtts:\/\/127\.0\.0\.1:\d+: connected \(MQTT 5, as gate, over TLS\)$/m, good.stdout);
  // Under its own client id, never the daemon's: that would make the broker drop the running daemon.
  assert.match(broker.log, /as facegate-gate-9-doctor /);
  assert.doesNotMatch(broker.log, /as facegate-gate-9 /);

  const wrong = await doctor('wrong-pw');
  assert.equal(wrong.code, 1);
  assert.match(wrong.stdout, /^FAIL {2}broker +FG_ERR_MQTT_AUTH: broker .* refused the connection: bad user name or password[^\n]*\n\s+fix: check mqtt\.username, the password in the variable named by mqtt\.password_env/m, wrong.stdout);
  assert.doesNotMatch(wrong.stdout + wrong.stderr, /wrong-pw|right-pw/, 'no password in the output');

  const other = makeTestCa(mkdtempSync(join(dir, 'other-')));
  write({ ca: other.ca, cert: ca.clientCert, key: ca.clientKey });
  const untrusted = await doctor('right-pw');
  assert.equal(untrusted.code, 1);
  assert.match(untrusted.stdout, /^FAIL {2}broker +FG_ERR_MQTT_TLS: [^\n]*\n\s+fix: check mqtt\.tls\.ca/m, untrusted.stdout);
});

test('doctor on a door: one frame rate for its cameras; with the daemon running, stereo or why not, skew that drifts, cameras too close in angle by the people who passed', async () => {
  const { checkDoor } = await import('../../daemon/system/doctor.js');
  const door = { name: 'front', cameras: ['l', 'r'] };
  const cameras = [
    { name: 'l', fps: 15 },
    { name: 'r', fps: 15 },
  ];
  const live = { door: 'front', cameras: ['l', 'r'], state: 'stereo' as const, reason: null, pair_limit_ms: 33, pairs: 400, refused_time_skew: 10, last_pair_age_s: 1, skew_ms: { p50: 12, p90: 25 }, people_parallax: { people: 12, p50: 0.061, limit: 0.0432 }, clocks: [{ camera: 'l', clock: 'camera' as const, latency_ms: 3 }, { camera: 'r', clock: 'camera' as const, latency_ms: 15 }], latency_spread_ms: 12 };

  const unmeasured = checkDoor(door, cameras, 15, undefined);
  assert.equal(unmeasured.status, 'ok');
  assert.match(unmeasured.detail, /the daemon is not running, so pairing is not measured/);
  const rates = checkDoor(door, [cameras[0]!, { name: 'r', fps: 10 }], 15, live);
  assert.equal(rates.status, 'warn');
  assert.match(rates.detail, /15, 10 fps/);
  assert.match(rates.fix ?? '', /one frame rate/);

  const fine = checkDoor(door, cameras, 15, live);
  assert.equal(fine.status, 'ok', fine.detail);
  assert.match(fine.detail, /stereo; l on its own clock, latency 3 ms, r on its own clock, latency 15 ms; 400 pairs, 10 refused for skew, median parallax 6\.1 % of 12 people \(limit 4\.3 %\)/);

  const down = checkDoor(door, cameras, 15, { ...live, state: 'single_camera', reason: 'r is stalled' });
  assert.equal(down.status, 'warn');
  assert.match(down.detail, /on single-camera cues: r is stalled/);

  const drift = checkDoor(door, cameras, 15, { ...live, pairs: 60, refused_time_skew: 40, skew_ms: { p50: 40, p90: 60 } });
  assert.equal(drift.status, 'warn');
  assert.match(drift.detail, /frames drift apart: 40 of 100 looks refused for time skew, limit 33 ms \(skew 40 ms median, 60 ms p90\)/);

  const close = checkDoor(door, cameras, 15, { ...live, people_parallax: { people: 8, p50: 0.025, limit: 0.0432 } });
  assert.equal(close.status, 'warn');
  assert.match(close.detail, /too close in angle: the 8 enrolled people who passed showed a median parallax of 2\.5 %/);
  assert.match(close.fix ?? '', /at least 30° apart/);
  // One camera 300 ms behind the other by their own clocks: a lag, or clocks that disagree.
  const lag = checkDoor(door, cameras, 15, { ...live, clocks: [live.clocks[0]!, { camera: 'r', clock: 'camera', latency_ms: 303 }], latency_spread_ms: 300 });
  assert.equal(lag.status, 'warn');
  assert.match(lag.detail, /latencies are 300 ms apart \(l 3 ms, r 303 ms\), more than the 33 ms pairing limit: a camera lags the other, or their clocks disagree/);
  assert.match(lag.fix ?? '', /one NTP server/);
  const arrival = checkDoor(door, cameras, 15, { ...live, clocks: [live.clocks[0]!, { camera: 'r', clock: 'arrival', latency_ms: null }], latency_spread_ms: null });
  assert.equal(arrival.status, 'ok');
  assert.match(arrival.detail, /r on arrival time/);
  const few = checkDoor(door, cameras, 15, { ...live, people_parallax: { people: 2, p50: 0.01, limit: 0.0432 } });
  assert.equal(few.status, 'ok', 'two people are too few to judge the angle by');
});
