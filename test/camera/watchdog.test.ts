// The camera's state machine on virtual time with a scripted FFmpeg: watchdog, backoff, health.
// The same code runs against real FFmpeg and a real RTSP server in rtsp.test.ts.
import '../support/fast-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FfmpegCamera } from '../../daemon/camera/camera.js';
import type { CameraConfig } from '../../daemon/camera/config.js';
import { createLogger } from '../../daemon/base/log.js';
import type { SpawnFfmpeg } from '../../daemon/camera/process.js';
import { FakeFfmpeg, FakeTime, fakeSpawner, flush, scriptedCamera } from './fakes.js';
import { cameraConfig } from './helpers.js';

const W = 4;
const H = 2;
// One YUV 4:2:0 frame: the luma plane and two quarter-size chroma planes.
const FRAME = (W * H * 3) / 2;

function setup(overrides: Partial<CameraConfig> = {}, make?: (args: readonly string[]) => FakeFfmpeg) {
  return scriptedCamera(cameraConfig('door', 'rtsp://admin:hunter2@127.0.0.1:554/stream', { width: W, height: H, ...overrides }), make);
}


test('frames are cut exactly from the pipe and carry seq and pts', async () => {
  const { camera, ffmpeg } = setup();
  camera.start();
  const p = ffmpeg.last();
  // Two and a half frames, then the rest: chunk boundaries never line up with frames.
  p.frame(2 * FRAME + FRAME / 2, 7);
  p.frame(FRAME / 2, 7);
  const a = await camera.next();
  assert.equal(a?.image.data.length, FRAME);
  assert.equal(a?.seq, 2, 'of three unread frames, the oldest is dropped and the next handed over in order');
  assert.equal(a?.pts, 0.2);
  assert.equal(camera.health().frames_skipped, 1);
  assert.equal((await camera.next())?.seq, 3);
  assert.equal(camera.health().state, 'streaming');
  await camera.stop();
});

test('a frame taken is never overwritten while newer frames arrive, even several in one chunk; buffers come back once nothing holds them', async () => {
  const { camera, ffmpeg } = setup();
  camera.start();
  const p = ffmpeg.last();
  p.frame(FRAME, 1);
  const a = await camera.next();
  assert.deepEqual(new Set(a!.image.data), new Set([1]));
  assert.ok(a!.image.data.buffer instanceof SharedArrayBuffer, 'pooled frames live on shared memory (a vision worker reads them in place)');
  // Eight frames in one chunk, each its own value: every pooled buffer but the taken one is reused many times over.
  const chunk = Buffer.concat(Array.from({ length: 8 }, (_, i) => Buffer.alloc(FRAME, 10 + i)));
  p.stdout.emit('data', chunk);
  assert.deepEqual(new Set(a!.image.data), new Set([1]), 'the taken frame is intact');
  // Each finished frame lets go of the unread one it replaces before the next buffer is taken, so
  // a pipeline that lags never pushes the camera onto fresh buffers.
  assert.equal(camera.health().frames_unpooled, 0);
  const b = await camera.next();
  assert.equal(b!.seq, 8, 'the older of the two frames the queue keeps');
  assert.deepEqual(new Set(b!.image.data), new Set([16]));
  assert.equal(camera.health().frames_skipped, 6);
  // The first frame was let go when the next was asked for: its buffer is filled again.
  p.frame(FRAME, 30);
  p.frame(FRAME, 31);
  const c = await camera.next();
  assert.deepEqual(new Set(c!.image.data), new Set([30]), 'the frame left from the chunk was dropped for the newer two');
  assert.deepEqual(new Set(b!.image.data), new Set([16]), 'still intact until the next call');
  const d = await camera.next();
  assert.deepEqual(new Set(d!.image.data), new Set([31]));
  const buffers = new Set([a, b, c, d].map((f) => f!.image.data.buffer));
  assert.ok(buffers.size <= 4, 'four buffers serve the camera');
  await camera.stop();
});

test('no frame for watchdog_s while streaming: stalled, FFmpeg killed, restarted after backoff', async () => {
  const { camera, time, ffmpeg, states } = setup({ watchdog_s: 10 });
  camera.start();
  ffmpeg.last().frame(FRAME);
  time.advance(9_000);
  ffmpeg.last().frame(FRAME); // keeps it alive
  time.advance(9_999);
  assert.equal(camera.health().state, 'streaming');
  time.advance(1);
  assert.equal(camera.health().state, 'stalled');
  assert.deepEqual(ffmpeg.last().signals, ['SIGTERM']);
  await flush();
  assert.equal(camera.health().state, 'backoff');
  assert.equal(camera.health().last_error?.kind, 'stalled');
  assert.equal(camera.health().stalls_last_hour, 1);
  time.advance(500); // first retry: base 500 ms (random() = 1 → the top of the jitter range)
  assert.equal(ffmpeg.spawned.length, 2);
  assert.deepEqual(states, ['connecting', 'streaming', 'stalled', 'backoff', 'connecting']);
  await camera.stop();
});

test('a frozen FFmpeg that ignores SIGTERM gets SIGKILL', async () => {
  const { camera, time, ffmpeg } = setup({ watchdog_s: 2 }, (args) => new FakeFfmpeg(args, { obeysSigterm: false }));
  camera.start();
  ffmpeg.last().frame(FRAME);
  time.advance(2_000);
  assert.deepEqual(ffmpeg.last().signals, ['SIGTERM']);
  time.advance(1_000);
  assert.deepEqual(ffmpeg.last().signals, ['SIGTERM', 'SIGKILL']);
  await flush();
  assert.equal(camera.health().state, 'backoff');
  await camera.stop();
});

test('what a stalled FFmpeg writes while it is killed is dropped, and the next one\'s frames start clean', async () => {
  let made = 0;
  // The first one ignores SIGTERM, and so writes on until it is killed.
  const { camera, time, ffmpeg } = setup({ watchdog_s: 2 }, (args) => new FakeFfmpeg(args, { obeysSigterm: made++ > 0 }));
  camera.start();
  const first = ffmpeg.last();
  first.frame(FRAME, 1);
  assert.equal((await camera.next())?.seq, 1);
  first.frame(FRAME / 2, 2); // half a frame, then it stalls
  time.advance(2_000);
  assert.deepEqual(first.signals, ['SIGTERM']);
  first.frame(FRAME * 2, 3); // still writing while it is killed
  time.advance(1_000);
  await flush();
  time.advance(500);
  assert.equal(ffmpeg.spawned.length, 2);
  ffmpeg.last().frame(FRAME, 4);
  const next = await camera.next();
  assert.equal(next?.seq, 2, 'nothing of the killed process became a frame');
  assert.deepEqual(new Set(next!.image.data), new Set([4]));
  await camera.stop();
});

test('frames read from a pipe because no socket could be made: said once a camera, with why and the way out', async () => {
  const config = cameraConfig('door', 'rtsp://127.0.0.1:554/stream', { width: W, height: H, watchdog_s: 2 });
  const time = new FakeTime();
  const ffmpeg = fakeSpawner();
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', destination: { write: (s: string) => void lines.push(s) } });
  const spawn: SpawnFfmpeg = (command, args, stdin, options) => {
    options?.onPipeFallback?.(new Error("ENOENT: no such file or directory, mkdtemp '/gone/facegate-frames-XXXXXX'"));
    return ffmpeg.spawn(command, args, stdin, options);
  };
  const camera = new FfmpegCamera(config, { logger, spawn, clock: time, timers: time, random: () => 1 });
  camera.start();
  ffmpeg.last().frame(FRAME);
  ffmpeg.last().exit(1);
  await flush();
  time.advance(500);
  assert.equal(ffmpeg.spawned.length, 2);
  ffmpeg.last().frame(FRAME);
  const said = lines.filter((l) => l.includes('frames are read from a pipe'));
  assert.equal(said.length, 1);
  assert.match(said[0]!, /"reason":"ENOENT[^"]*\/gone\/facegate-frames/);
  assert.match(said[0]!, /PrivateTmp, or TMPDIR/);
  await camera.stop();
});

test('a clean exit (code 0, the server went away) is a disconnect, and backoff doubles up to the cap', async () => {
  const { camera, time, ffmpeg } = setup({ backoff_max_s: 4 });
  camera.start();
  const delays: number[] = [];
  for (let i = 0; i < 5; i++) {
    ffmpeg.last().exit(0);
    assert.equal(camera.health().state, 'backoff');
    assert.equal(camera.health().last_error?.kind, 'ended');
    const before = ffmpeg.spawned.length;
    let waited = 0;
    while (ffmpeg.spawned.length === before) {
      time.advance(50);
      waited += 50;
    }
    delays.push(waited);
  }
  assert.deepEqual(delays, [500, 1000, 2000, 4000, 4000]);
  assert.equal(camera.health().reconnects_last_hour, 5);
  time.advance(3_600_001);
  assert.equal(camera.health().reconnects_last_hour, 0, 'the count covers the last hour only');
  await camera.stop();
});

test('the attempt count resets after a healthy period', async () => {
  const { camera, time, ffmpeg } = setup({ backoff_max_s: 30 });
  camera.start();
  ffmpeg.last().exit(1);
  time.advance(500);
  ffmpeg.last().exit(1);
  time.advance(1000);
  // Now streams for longer than the healthy period (max(30 s, backoff_max)).
  for (let t = 0; t < 31_000; t += 1000) {
    ffmpeg.last().frame(FRAME);
    time.advance(1000);
  }
  ffmpeg.last().exit(0);
  const before = ffmpeg.spawned.length;
  time.advance(500);
  assert.equal(ffmpeg.spawned.length, before + 1, 'back to the base delay');
  await camera.stop();
});

test('no first frame within watchdog_s while connecting: timeout, then backoff', async () => {
  const { camera, time } = setup({ watchdog_s: 5 });
  camera.start();
  time.advance(5_000);
  await flush();
  const h = camera.health();
  assert.equal(h.state, 'backoff');
  assert.equal(h.last_error?.kind, 'timeout');
  await camera.stop();
});

test('401 and 404 put the camera in failed with their own reasons; credentials never appear', async () => {
  const { camera, ffmpeg, lines } = setup();
  camera.start();
  ffmpeg.last().say('[rtsp @ 0x55d] method DESCRIBE failed: 401 Unauthorized');
  ffmpeg.last().say('rtsp://admin:hunter2@127.0.0.1:554/stream: Server returned 401 Unauthorized (authorization failed)');
  ffmpeg.last().exit(1);
  const h = camera.health();
  assert.equal(h.state, 'failed');
  assert.equal(h.last_error?.kind, 'unauthorized');
  assert.match(h.last_error?.message ?? '', /401 unauthorized/);
  assert.equal(h.source, 'rtsp://***@127.0.0.1:554/stream');
  await camera.stop();
  assert.ok(lines.length > 0);
  assert.ok(!lines.join('').includes('hunter2'), 'no password in the log');
});

test('frames carry the matrix the stream line says; FFmpeg\'s info and warning lines are read, not kept as errors', async () => {
  const { camera, ffmpeg, time } = setup();
  camera.start();
  const p = ffmpeg.last();
  assert.ok(p.args.includes('level+info') && p.args.includes('-nostats'), 'info with level tags, no progress lines');
  p.say("[info] Input #0, rtsp, from 'rtsp://127.0.0.1:554/stream':");
  p.say('[info]   Stream #0:0: Video: h264 (Main), yuv420p(tv, bt709, progressive), 1920x1080 [SAR 1:1 DAR 16:9], 15 fps, 15 tbr, 90k tbn');
  p.say('[rtsp @ 0x55d] [warning] max delay reached. need to consume packet');
  p.frame(FRAME);
  const frame = await camera.next();
  assert.ok(frame?.image.format === 'yuv420p' && frame.image.matrix === 'bt709');
  p.say('[tcp @ 0x55e] [error] Connection to tcp://127.0.0.1:554 failed: Connection refused');
  p.exit(1);
  const h = camera.health();
  assert.equal(h.last_error?.kind, 'refused');
  assert.doesNotMatch(h.last_error?.message ?? '', /\[error\]|max delay|Stream #/);
  // A new connection says nothing yet: FFmpeg's default until it does.
  time.advance(500);
  const again = ffmpeg.last();
  assert.notEqual(again, p);
  again.say('[info]   Stream #0:0: Video: h264 (Main), yuv420p(progressive), 1920x1080, 15 fps');
  again.frame(FRAME);
  const next = await camera.next();
  assert.ok(next?.image.format === 'yuv420p' && next.image.matrix === 'bt601');
  await camera.stop();
});

test('ffmpeg missing is a failed state with the fix', async () => {
  const { camera } = setup({}, (args) => {
    const p = new FakeFfmpeg(args, { started: false });
    queueMicrotask(() => p.emit('error', Object.assign(new Error('spawn ffmpeg ENOENT'), { code: 'ENOENT' })));
    return p;
  });
  camera.start();
  await flush();
  assert.equal(camera.health().state, 'failed');
  assert.match(camera.health().last_error?.message ?? '', /apt-get install ffmpeg/);
  await camera.stop();
});

test('a file that is not looped ends its camera at the end of the file', async () => {
  const { camera, ffmpeg } = setup({ url: '/tmp/clip.mp4' });
  camera.start();
  assert.ok(ffmpeg.last().args.includes('-re'));
  ffmpeg.last().frame(FRAME);
  const iterated: number[] = [];
  const done = (async () => {
    for await (const f of camera.frames()) iterated.push(f.seq);
  })();
  await flush();
  ffmpeg.last().exit(0);
  await done;
  assert.deepEqual(iterated, [1]);
  assert.equal(camera.health().state, 'stopped');
  assert.equal(ffmpeg.spawned.length, 1);
});

test('stop() during backoff spawns nothing more; an abort signal stops the camera', async () => {
  const { camera, time, ffmpeg } = setup();
  const ac = new AbortController();
  camera.start(ac.signal);
  ffmpeg.last().exit(1);
  ac.abort();
  await flush();
  time.advance(60_000);
  assert.equal(ffmpeg.spawned.length, 1);
  assert.equal(camera.health().state, 'stopped');
});

test("a stop asked twice (the abort signal's, then the owner's) returns once FFmpeg is gone, killed if SIGTERM is not enough", async () => {
  const { camera, time, ffmpeg } = setup({}, (args) => new FakeFfmpeg(args, { obeysSigterm: false }));
  const ac = new AbortController();
  camera.start(ac.signal);
  ffmpeg.last().frame(FRAME);
  ac.abort();
  let stopped = false;
  const owners = camera.stop().then(() => (stopped = true));
  await flush();
  assert.equal(stopped, false, 'FFmpeg still runs: the owner may not go on as if it were gone');
  assert.deepEqual(ffmpeg.last().signals, ['SIGTERM']);
  time.advance(1_000);
  await owners;
  assert.deepEqual(ffmpeg.last().signals, ['SIGTERM', 'SIGKILL']);
  assert.equal(ffmpeg.last().exited, true);
  assert.equal(camera.health().state, 'stopped');
});

test('a listener that throws is logged and does not break the camera', async () => {
  const { camera, ffmpeg, lines } = setup();
  camera.onState(() => {
    throw new Error('listener bug');
  });
  camera.start();
  ffmpeg.last().frame(FRAME);
  assert.equal(camera.health().state, 'streaming');
  assert.ok(lines.some((l) => l.includes('camera state listener failed')));
  await camera.stop();
});
