// A camera going quiet onto its sub stream: the sub stream's FFmpeg starts beside the main one,
// which the camera reads on until the sub stream's first whole frame. The camera's state machine on
// virtual time with scripted FFmpegs; real FFmpeg and real RTSP servers switch the same way in
// rtsp.test.ts.
import '../support/fast-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeFfmpeg, flush, given, scriptedCamera } from './fakes.js';
import { cameraConfig } from './helpers.js';

const W = 4;
const H = 2;
const FRAME = (W * H * 3) / 2;
const MAIN = 'rtsp://127.0.0.1:554/main';
const SUB = 'rtsp://127.0.0.1:554/sub';

function setup(make?: (args: readonly string[]) => FakeFfmpeg) {
  return scriptedCamera(cameraConfig('door', MAIN, { width: W, height: H, fps: 5, idle_keyframes_after_s: 5, sub_url: SUB, watchdog_s: 10 }), make);
}

const reads = (p: FakeFfmpeg, url: string) => p.args.includes(url);

/** A streaming camera told to go quiet: its main FFmpeg and the sub stream's, started beside it. */
async function goingQuiet(s: ReturnType<typeof setup>): Promise<{ main: FakeFfmpeg; sub: FakeFfmpeg }> {
  s.camera.start();
  const main = s.ffmpeg.last();
  main.frame(FRAME, 1);
  assert.equal((await s.camera.next())?.image.data[0], 1);
  s.camera.setQuiet(true);
  await flush();
  assert.equal(s.ffmpeg.spawned.length, 2, 'the sub stream started beside the main one');
  const sub = s.ffmpeg.spawned[1]!;
  assert.ok(reads(sub, SUB) && !reads(sub, MAIN));
  return { main, sub };
}

/** Every pooled buffer in use again and again (two frames queued while the pipeline holds one): none was kept from the pool. */
async function assertBuffersPooled(camera: ReturnType<typeof setup>['camera'], current: FakeFfmpeg): Promise<void> {
  for (let i = 0; i < 4; i++) {
    current.frame(2 * FRAME, 11);
    await camera.next();
    await camera.next();
  }
  assert.equal(camera.health().frames_unpooled, 0);
}

test('going quiet onto the sub stream, the main stream is read until the sub stream has a whole frame: the camera is never blind, and the main one stops then', async () => {
  const s = setup();
  const { camera, time, ffmpeg, lines, states } = s;
  const { main, sub } = await goingQuiet(s);
  assert.deepEqual(main.signals, [], 'the main stream goes on');
  assert.equal(camera.health().decoding, 'sub_stream');

  time.advance(200);
  main.frame(FRAME, 2);
  assert.equal((await camera.next())?.image.data[0], 2, "the main stream's frames still come while the sub stream starts");
  sub.frame(FRAME / 2, 7); // half of the sub stream's first frame
  main.frame(FRAME, 3);
  assert.equal((await camera.next())?.image.data[0], 3);
  assert.deepEqual(main.signals, []);

  time.advance(200);
  sub.frame(FRAME / 2, 7); // the rest of the sub stream's first frame
  assert.deepEqual(main.signals, ['SIGTERM'], "the main stream stopped at the sub stream's first whole frame");
  const first = await camera.next();
  assert.deepEqual([first?.image.data[0], first?.image.data[FRAME - 1]], [7, 7], "the sub stream's first frame, whole, is the next one");
  assert.ok(first!.pts > 0.6 - 1e-9, `frame times go on across the switch (${first?.pts})`);

  // A read the main FFmpeg had asked for ahead lands after the switch: it touches no frame of the camera's.
  sub.frame(FRAME / 2, 10);
  main.frame(FRAME, 9);
  sub.frame(FRAME / 2, 10);
  const next = await camera.next();
  assert.deepEqual([next?.image.data[0], next?.image.data[FRAME - 1]], [10, 10]);

  await flush();
  assert.deepEqual(states, ['connecting', 'streaming'], 'never connecting again for the switch');
  const streaming = lines.filter((l) => l.includes('"camera streaming"')).at(-1)!;
  assert.match(streaming, /"since_last_frame_ms":200/, 'the log says how long the camera saw nothing at the switch');
  assert.equal(ffmpeg.spawned.length, 3, 'the FFmpeg for every frame started ahead once the sub stream is current');
  assert.ok(reads(ffmpeg.spawned[2]!, 'pipe:0'));
  assert.deepEqual([camera.health().reconnects_last_hour, camera.health().last_error], [0, null]);
  // The buffer set aside goes back to the pool once the main FFmpeg has gone: frames keep coming in pooled buffers.
  await flush();
  await assertBuffersPooled(camera, sub);
  await camera.stop();
  assert.ok(ffmpeg.spawned.every((p) => p.exited));
});

test("back from the sub stream to every frame, the main stream's FFmpeg started ahead is told its input at once, before the sub stream's has gone; the camera never shows connecting", async () => {
  // The sub stream's FFmpeg ignores SIGTERM (frozen): it goes only at SIGKILL, a second later.
  const s = setup((args) => new FakeFfmpeg(args, { obeysSigterm: !args.includes(SUB) }));
  const { camera, time, ffmpeg, lines, states } = s;
  const { sub } = await goingQuiet(s);
  sub.frame(FRAME, 7);
  assert.equal((await camera.next())?.image.data[0], 7);
  await flush();
  const ahead = ffmpeg.spawned[2]!;
  assert.ok(reads(ahead, 'pipe:0'));
  assert.equal(await given(ffmpeg.stdins[2]), undefined, 'the FFmpeg started ahead waits while the sub stream is read');

  time.advance(400);
  camera.setQuiet(false);
  assert.deepEqual(sub.signals, ['SIGTERM']);
  assert.match((await given(ffmpeg.stdins[2])) ?? '', /^ffconcat version 1\.0\nfile 'rtsp:\/\/127\.0\.0\.1:554\/main'\n/, 'told to read the main stream at once');
  assert.equal(sub.exited, false, 'while the sub stream is still going');
  assert.equal(ffmpeg.spawned.length, 3, 'no other FFmpeg started');
  // Half a frame the sub stream still writes lands nowhere the camera reads: it is no longer current.
  sub.frame(FRAME / 2, 8);
  time.advance(300);
  ahead.frame(FRAME, 4);
  const first = await camera.next();
  assert.deepEqual([first?.image.data[0], first?.image.data[FRAME - 1]], [4, 4], "the main stream's first frame, whole");
  assert.ok(Math.abs(first!.pts - 0.7) < 1e-9, `frame times go on across the switch, by the time the camera saw nothing (${first?.pts})`);
  assert.equal(camera.health().decoding, 'all');

  time.advance(1_000);
  assert.deepEqual(sub.signals, ['SIGTERM', 'SIGKILL']);
  await flush();
  assert.deepEqual(states, ['connecting', 'streaming'], 'never connecting again for the switch back');
  assert.deepEqual([camera.health().reconnects_last_hour, camera.health().last_error], [0, null]);
  const streaming = lines.filter((l) => l.includes('"camera streaming"')).at(-1)!;
  assert.ok(streaming.includes('"started_ahead":true') && /"since_last_frame_ms":700/.test(streaming), streaming);
  // The buffer set aside at the switch goes back to the pool once the sub stream's FFmpeg has gone.
  await assertBuffersPooled(camera, ahead);
  await camera.stop();
  assert.ok(ffmpeg.spawned.every((p) => p.exited));
});

test('something moves before the sub stream has a frame: it is stopped, and the main stream reads on', async () => {
  const s = setup();
  const { main, sub } = await goingQuiet(s);
  sub.frame(FRAME - 1, 7);
  s.camera.setQuiet(false);
  assert.deepEqual(sub.signals, ['SIGTERM']);
  assert.deepEqual(main.signals, []);
  await flush();
  main.frame(FRAME, 2);
  assert.equal((await s.camera.next())?.image.data[0], 2);
  assert.deepEqual([s.ffmpeg.spawned.length, s.camera.health().decoding, s.camera.health().last_error], [2, 'all', null]);
  assert.ok(!s.lines.some((l) => l.includes('sub stream failed')), 'its exit is no failure');
  await s.camera.stop();
});

test('a sub stream that exits before its first frame: the main stream is read on key frames at once, and last_error says why', async () => {
  const s = setup();
  const { main, sub } = await goingQuiet(s);
  sub.say('[rtsp @ 0x1] method DESCRIBE failed: 401 Unauthorized');
  sub.exit(1);
  assert.deepEqual(main.signals, ['SIGTERM'], 'the main FFmpeg restarted for its key frames');
  await flush();
  const keyframes = s.ffmpeg.spawned[2]!;
  assert.ok(reads(keyframes, MAIN) && keyframes.args.includes('nokey'), 'key frames of the main stream');
  keyframes.frame(FRAME, 5);
  assert.equal((await s.camera.next())?.image.data[0], 5);
  const h = s.camera.health();
  assert.deepEqual([h.state, h.decoding, h.last_error?.kind, h.reconnects_last_hour], ['streaming', 'keyframes', 'unauthorized', 0]);
  assert.match(h.last_error?.message ?? '', /^sub stream: /);
  assert.ok(!s.states.includes('backoff'));
  await s.camera.stop();
});

test('a sub stream that gives no frame within watchdog_s is stopped, and the main stream is read on key frames', async () => {
  const s = setup();
  const { main, sub } = await goingQuiet(s);
  for (let t = 0; t < 12 && !sub.exited; t++) {
    s.time.advance(1_000);
    main.frame(FRAME, 2); // the main stream's frames do not keep the sub stream's watchdog quiet
    await flush();
  }
  assert.deepEqual(sub.signals, ['SIGTERM']);
  assert.ok(s.ffmpeg.spawned[2]!.args.includes('nokey'));
  assert.equal(s.camera.health().last_error?.kind, 'timeout');
  assert.match(s.camera.health().last_error?.message ?? '', /^sub stream: timeout/);
  await s.camera.stop();
});

test('the main stream failing while the sub stream starts: both are stopped, and the reconnect reads the sub stream alone', async () => {
  const s = setup();
  const { main, sub } = await goingQuiet(s);
  main.exit(1);
  assert.deepEqual(sub.signals, ['SIGTERM'], 'no FFmpeg left reading beside the reconnect');
  await flush();
  assert.equal(s.camera.health().state, 'backoff');
  s.time.advance(1_000);
  const again = s.ffmpeg.spawned[2]!;
  assert.ok(reads(again, SUB), 'the camera is still quiet: its sub stream');
  assert.ok(s.ffmpeg.spawned.slice(3).every((p) => reads(p, 'pipe:0')), 'and no other FFmpeg reading, only the one waiting for the switch back');
  again.frame(FRAME, 6);
  assert.equal((await s.camera.next())?.image.data[0], 6);
  await s.camera.stop();
});

test('stop while the sub stream starts ends both FFmpegs', async () => {
  const s = setup((args) => new FakeFfmpeg(args, { obeysSigterm: !args.includes(SUB) }));
  const { sub } = await goingQuiet(s);
  let stopped = false;
  const stopping = s.camera.stop().then(() => (stopped = true));
  await flush();
  assert.equal(stopped, false, 'the sub stream has not gone yet');
  s.time.advance(1_000);
  await stopping;
  assert.deepEqual(sub.signals, ['SIGTERM', 'SIGKILL']);
  assert.ok(s.ffmpeg.spawned.every((p) => p.exited));
});

test("the main stream stalling while the sub stream starts: the sub stream's first frame does not take over from an FFmpeg being killed; the camera reconnects onto the sub stream alone", async () => {
  // The main FFmpeg is frozen: it goes only at SIGKILL, a second after its watchdog's SIGTERM.
  const s = setup((args) => new FakeFfmpeg(args, { obeysSigterm: !args.includes(MAIN) }));
  s.camera.start();
  const main = s.ffmpeg.last();
  main.frame(FRAME, 1);
  assert.equal((await s.camera.next())?.image.data[0], 1);
  s.time.advance(5_000);
  s.camera.setQuiet(true);
  const sub = s.ffmpeg.spawned[1]!;
  s.time.advance(5_000); // no frame from the main stream for watchdog_s
  assert.deepEqual(main.signals, ['SIGTERM']);
  sub.frame(FRAME, 7); // the sub stream's first frame, while the main one is being killed
  assert.deepEqual(sub.signals, [], 'not taken over, not stopped yet');
  s.time.advance(1_000);
  await flush();
  assert.deepEqual(main.signals, ['SIGTERM', 'SIGKILL']);
  assert.deepEqual(sub.signals, ['SIGTERM'], "stopped with the main one's exit");
  assert.equal(s.camera.health().last_error?.kind, 'stalled');
  s.time.advance(1_000);
  const again = s.ffmpeg.spawned[2]!;
  assert.ok(reads(again, SUB));
  again.frame(FRAME, 8);
  const frame = await s.camera.next();
  assert.deepEqual([frame?.image.data[0], s.camera.health().state], [8, 'streaming']);
  await s.camera.stop();
});
