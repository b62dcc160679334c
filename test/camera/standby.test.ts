// A quiet camera's FFmpeg for every frame, started ahead and waiting for its input on stdin: the
// camera's state machine on virtual time with scripted FFmpegs. Real FFmpeg and a real RTSP server
// switch the same way in rtsp.test.ts.
import '../support/fast-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FfmpegCamera } from '../../daemon/camera/camera.js';
import type { CameraConfig } from '../../daemon/camera/config.js';
import { FakeFfmpeg, fakeSpawner, flush, given, scriptedCamera } from './fakes.js';
import { cameraConfig } from './helpers.js';

const W = 4;
const H = 2;
const FRAME = (W * H * 3) / 2;
const URL = 'rtsp://127.0.0.1:554/stream';

function setup(overrides: Partial<CameraConfig> = {}, make?: (args: readonly string[]) => FakeFfmpeg) {
  return scriptedCamera(cameraConfig('door', URL, { width: W, height: H, idle_keyframes_after_s: 5, ...overrides }), make);
}

/** A started camera gone quiet: the key-frame FFmpeg (spawned second), its first frame written. */
async function quietCamera(camera: FfmpegCamera, ffmpeg: ReturnType<typeof fakeSpawner>): Promise<FakeFfmpeg> {
  camera.start();
  ffmpeg.last().frame(FRAME);
  camera.setQuiet(true);
  await flush();
  const quiet = ffmpeg.spawned[1]!;
  quiet.frame(FRAME);
  return quiet;
}

test('a quiet camera starts its FFmpeg for every frame ahead, waiting for its input; when something moves it reads the stream as soon as the quiet one has gone', async () => {
  const { camera, time, ffmpeg, lines } = setup();
  camera.start();
  const main = ffmpeg.last();
  main.frame(FRAME, 1);
  assert.equal((await camera.next())?.pts, 0);

  camera.setQuiet(true);
  await flush();
  assert.equal(ffmpeg.spawned.length, 3, 'the key-frame FFmpeg and the one started ahead');
  const [quiet, ahead] = [ffmpeg.spawned[1]!, ffmpeg.spawned[2]!];
  assert.ok(quiet.args.includes('nokey'), 'key frames only while quiet');
  assert.ok(!ahead.args.includes('nokey') && ahead.args.includes('pipe:0'), 'every frame, its input read from stdin');
  assert.ok(!ahead.args.includes(URL), 'the URL is not in its argv either');
  assert.equal(await given(ffmpeg.stdins[2]), undefined, 'it waits: nothing written on its stdin yet');
  time.advance(1_000);
  quiet.frame(FRAME, 2);
  assert.equal((await camera.next())?.image.data[0], 2);
  assert.equal(camera.health().decoding, 'keyframes');

  time.advance(3_000);
  camera.setQuiet(false);
  assert.equal(ffmpeg.spawned.length, 3, 'no FFmpeg started when something moves');
  assert.match((await given(ffmpeg.stdins[2])) ?? '', /^ffconcat version 1\.0\nfile 'rtsp:\/\/127\.0\.0\.1:554\/stream'\n/, 'told which stream to read');
  assert.deepEqual(quiet.signals, ['SIGTERM'], 'the quiet FFmpeg stopped');
  quiet.frame(FRAME, 3); // written after its exit: not the camera's any more
  ahead.frame(FRAME, 4);
  const next = await camera.next();
  assert.deepEqual([next?.image.data[0], next?.pts], [4, 4], "the standby's first frame, timed by the real time since the last");
  assert.equal(camera.health().decoding, 'all');
  await flush();
  assert.deepEqual([camera.health().state, camera.health().reconnects_last_hour], ['streaming', 0]);
  assert.ok(lines.some((l) => l.includes('"camera streaming"') && l.includes('"started_ahead":true')), 'the log says the FFmpeg was started ahead');

  // The next quiet spell starts another one ahead.
  camera.setQuiet(true);
  await flush();
  assert.equal(ffmpeg.spawned.length, 5);
  assert.ok(ffmpeg.spawned[4]!.args.includes('pipe:0'));
  await camera.stop();
  assert.ok(ffmpeg.spawned.every((p) => p.exited), 'stop ends every FFmpeg, the one waiting too');
});

test('a standby that exits while it waits is said, and the switch back starts an FFmpeg as before', async () => {
  const { camera, ffmpeg, lines } = setup();
  const quiet = await quietCamera(camera, ffmpeg);
  ffmpeg.spawned[2]!.exit(1);
  assert.ok(lines.some((l) => l.includes('started ahead for the switch back to every frame exited')));
  assert.equal(camera.health().state, 'streaming', 'the camera itself is fine');
  camera.setQuiet(false);
  assert.deepEqual(quiet.signals, ['SIGTERM']);
  await flush();
  assert.equal(ffmpeg.spawned.length, 4, 'a new FFmpeg once the quiet one is gone');
  assert.ok(!ffmpeg.last().args.includes('nokey') && ffmpeg.last().args.includes(URL));
  ffmpeg.last().frame(FRAME);
  assert.equal(camera.health().decoding, 'all');
  await camera.stop();
});

test('a quiet camera in backoff takes the standby at its next start once something moved', async () => {
  const { camera, time, ffmpeg } = setup();
  const quiet = await quietCamera(camera, ffmpeg);
  quiet.exit(1); // the camera went away while quiet
  await flush();
  assert.equal(camera.health().state, 'backoff');
  camera.setQuiet(false);
  time.advance(500);
  assert.equal(ffmpeg.spawned.length, 3, 'the standby, not a new FFmpeg');
  assert.ok(typeof (await given(ffmpeg.stdins[2])) === 'string', 'told to read');
  ffmpeg.spawned[2]!.frame(FRAME);
  assert.deepEqual([camera.health().state, camera.health().decoding], ['streaming', 'all']);
  await camera.stop();
});

test('stop while quiet waits for the standby too, killed if SIGTERM is not enough', async () => {
  const { camera, time, ffmpeg } = setup({}, (args) => new FakeFfmpeg(args, { obeysSigterm: !args.includes('pipe:0') }));
  await quietCamera(camera, ffmpeg);
  let stopped = false;
  const stopping = camera.stop().then(() => (stopped = true));
  await flush();
  assert.equal(stopped, false, 'the standby still runs');
  time.advance(1_000);
  await stopping;
  assert.deepEqual(ffmpeg.spawned[2]!.signals, ['SIGTERM', 'SIGKILL']);
  assert.equal(camera.health().state, 'stopped');
});

test('a video file never gets a standby', async () => {
  const { camera, ffmpeg } = setup({ url: 'file:///tmp/clip.mp4', idle_keyframes_after_s: 0 });
  camera.start();
  ffmpeg.last().frame(FRAME);
  camera.setQuiet(true);
  await flush();
  assert.ok(ffmpeg.spawned.every((p) => !p.args.includes('pipe:0')));
  await camera.stop();
});

test('the standby is told its input only once the quiet FFmpeg has gone: one reader of a stream at a time', async () => {
  // The key-frame FFmpeg ignores SIGTERM (frozen), so it goes only at SIGKILL, a second later.
  const { camera, time, ffmpeg } = setup({}, (args) => new FakeFfmpeg(args, { obeysSigterm: !args.includes('nokey') }));
  const quiet = await quietCamera(camera, ffmpeg);
  camera.setQuiet(false);
  assert.deepEqual(quiet.signals, ['SIGTERM']);
  assert.equal(await given(ffmpeg.stdins[2]), undefined, 'still waiting while the quiet one holds the stream');
  time.advance(1_000);
  assert.deepEqual(quiet.signals, ['SIGTERM', 'SIGKILL']);
  assert.ok(typeof (await given(ffmpeg.stdins[2])) === 'string', 'told to read once it has gone');
  assert.equal(ffmpeg.spawned.length, 3);
  await camera.stop();
});

test('a standby that cannot be started (no process to spare) is said, and the quiet camera goes on; the switch back starts FFmpeg as before', async () => {
  const { camera, ffmpeg, lines } = setup({}, (args) => {
    if (args.includes('pipe:0')) throw Object.assign(new Error('spawn EAGAIN'), { code: 'EAGAIN' });
    return new FakeFfmpeg(args);
  });
  camera.start();
  ffmpeg.last().frame(FRAME);
  camera.setQuiet(true);
  await flush();
  assert.ok(lines.some((l) => l.includes('could not start FFmpeg ahead') && l.includes('EAGAIN')));
  const quiet = ffmpeg.last();
  assert.ok(quiet.args.includes('nokey'));
  quiet.frame(FRAME);
  assert.deepEqual([camera.health().state, camera.health().decoding], ['streaming', 'keyframes']);
  camera.setQuiet(false);
  await flush();
  assert.ok(!ffmpeg.last().args.includes('nokey') && ffmpeg.last() !== quiet, 'every frame again, from an FFmpeg started now');
  ffmpeg.last().frame(FRAME);
  assert.deepEqual([camera.health().state, camera.health().decoding], ['streaming', 'all']);
  await camera.stop();
});
