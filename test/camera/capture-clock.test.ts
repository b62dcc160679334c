// The camera clock's pure parts: the prft box reader (FFmpeg's fragmented MP4 as it comes through a
// pipe, cut anywhere, and garbage in its place) and the latency estimate over its times.
import '../support/fast-tier.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { CAPTURE_LATENCY, CaptureLatency, trustedLatency } from '../../daemon/camera/capture-latency.js';
import { MAX_BOX_BYTES, PrftReader } from '../../daemon/camera/prft-reader.js';
import { createLogger } from '../../daemon/base/log.js';
import { FfmpegCamera } from '../../daemon/camera/camera.js';
import { CaptureClock } from '../../daemon/camera/capture-clock.js';
import { ffmpegCommand } from '../../daemon/camera/ffmpeg-args.js';
import { fuzzParameters } from '../support/fuzz.js';
import { FakeTime, fakeSpawner } from './fakes.js';
import { cameraConfig } from './helpers.js';

const NTP_UNIX_S = 2_208_988_800;

function box(type: string, payload: Uint8Array | number): Buffer {
  const body = typeof payload === 'number' ? Buffer.alloc(payload, 0xab) : Buffer.from(payload);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(8 + body.length, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, body]);
}

/** A prft box as FFmpeg writes it: version, flags, track 1, the NTP time of `unixMs`, a media time. */
function prft(unixMs: number, version: 0 | 1 = 0): Buffer {
  const body = Buffer.alloc(version === 0 ? 20 : 24);
  body[0] = version;
  body.writeUInt32BE(1, 4);
  const seconds = Math.floor(unixMs / 1000);
  body.writeUInt32BE(seconds + NTP_UNIX_S, 8);
  body.writeUInt32BE(Math.round(((unixMs - seconds * 1000) / 1000) * 2 ** 32), 12);
  return box('prft', body);
}

/** ftyp, moov, then per frame a prft, a moof and an mdat of the frame's size. */
function stream(times: readonly number[], frameBytes = 5000): Buffer {
  const parts = [box('ftyp', 16), box('moov', 600)];
  for (const [i, t] of times.entries()) parts.push(prft(t, i % 2 === 0 ? 0 : 1), box('moof', 100), box('mdat', frameBytes + i));
  return Buffer.concat(parts);
}

function read(chunks: readonly Uint8Array[]): { times: number[]; reader: PrftReader } {
  const times: number[] = [];
  const reader = new PrftReader((t) => times.push(t));
  for (const c of chunks) reader.push(c);
  return { times, reader };
}

const T0 = 1_795_000_000_000;
const TIMES = Array.from({ length: 30 }, (_, i) => T0 + i * 166.667);

test('prft reader: every box time, to the ms, whole or cut into pieces of any size', () => {
  const bytes = stream(TIMES);
  for (const piece of [1, 3, 7, 8, 13, 64, 4096, bytes.length]) {
    const chunks: Buffer[] = [];
    for (let at = 0; at < bytes.length; at += piece) chunks.push(bytes.subarray(at, at + piece));
    const { times, reader } = read(chunks);
    assert.equal(reader.failure(), undefined);
    assert.equal(times.length, TIMES.length, `pieces of ${piece}`);
    times.forEach((t, i) => assert.ok(Math.abs(t - TIMES[i]!) < 0.01, `box ${i}: ${t} against ${TIMES[i]}`));
  }
});

test('prft reader: a 64-bit box size is read; a box over the bound ends it', () => {
  const large = Buffer.alloc(16);
  large.writeUInt32BE(1, 0);
  large.write('mdat', 4, 'latin1');
  large.writeUInt32BE(0, 8);
  large.writeUInt32BE(16 + 10, 12);
  const { times, reader } = read([box('ftyp', 8), large, Buffer.alloc(10), prft(T0)]);
  assert.equal(reader.failure(), undefined);
  assert.equal(times.length, 1);
  const big = Buffer.alloc(8);
  big.writeUInt32BE(MAX_BOX_BYTES + 1, 0);
  big.write('mdat', 4, 'latin1');
  const over = read([box('ftyp', 8), big, prft(T0)]);
  assert.match(over.reader.failure()?.message ?? '', /mdat box of 67108865 bytes/);
  assert.equal(over.times.length, 0);
});

test('prft reader: each malformed box ends it with a reason, and what follows is dropped unread', () => {
  const sized = (size: number, type: string) => {
    const b = Buffer.alloc(8);
    b.writeUInt32BE(size, 0);
    b.write(type, 4, 'latin1');
    return b;
  };
  const badVersion = prft(T0);
  badVersion[8] = 2;
  const cases: [string, Buffer[], RegExp][] = [
    ['not ftyp first', [box('moov', 8)], /starts with a moov box, not ftyp/],
    ['a type of control bytes', [box('ftyp', 8), Buffer.from([0, 0, 0, 16, 1, 2, 3, 4])], /not four printable characters \(bytes 01 02 03 04\)/],
    ['a size smaller than its header', [box('ftyp', 8), sized(4, 'moof')], /moof box of 4 bytes/],
    ['a box to the end of the stream', [box('ftyp', 8), sized(0, 'mdat')], /runs to the end of the stream/],
    ['a prft of the wrong size', [box('ftyp', 8), box('prft', 40)], /prft box of 48 bytes/],
    ['a prft of an unknown version', [box('ftyp', 8), badVersion], /prft box of version 2/],
  ];
  for (const [name, chunks, reason] of cases) {
    const { times, reader } = read([...chunks, prft(T0), prft(T0 + 100)]);
    assert.match(reader.failure()?.message ?? '', reason, name);
    assert.equal(times.length, 0, `${name}: nothing read after it`);
  }
});

test('prft reader fuzz: random bytes, or a real stream with bytes flipped or cut, never throw, and every time read is a number', () => {
  const real = stream(TIMES.slice(0, 6), 300);
  const input = fc.oneof(
    fc.uint8Array({ maxLength: 4000 }),
    fc.tuple(fc.array(fc.tuple(fc.nat(real.length - 1), fc.nat(255)), { maxLength: 6 }), fc.nat(real.length)).map(([flips, cut]) => {
      const b = Buffer.from(real.subarray(0, cut));
      for (const [at, v] of flips) if (at < b.length) b[at] = v;
      return new Uint8Array(b);
    }),
  );
  fc.assert(
    fc.property(input, fc.integer({ min: 1, max: 97 }), (bytes, piece) => {
      const times: number[] = [];
      const reader = new PrftReader((t) => times.push(t));
      for (let at = 0; at < bytes.length; at += piece) reader.push(bytes.subarray(at, at + piece));
      assert.ok(times.every((t) => Number.isFinite(t)));
      assert.ok(times.length <= Math.floor(bytes.length / 28));
      if (reader.failure()) assert.ok(reader.failure()!.message.length > 0);
    }),
    fuzzParameters(2000),
  );
});

test('latency: the median of a full window whose samples are nearly all in range, else none', () => {
  const full = Array.from({ length: CAPTURE_LATENCY.window }, (_, i) => 300 + (i % 5));
  assert.equal(trustedLatency(full), 302);
  assert.equal(trustedLatency(full.slice(1)), undefined, 'a window not full yet');
  // Two bad ones of 24 are within the 90 %; three are not.
  const two = [...full.slice(2), -167, -167];
  assert.equal(trustedLatency(two), 302);
  assert.equal(trustedLatency([...full.slice(3), -167, -167, -167]), undefined);
  assert.equal(trustedLatency([...full.slice(3), 5000, 5000, 5000]), undefined, 'beyond a few seconds: a clock set by hand');
  assert.equal(trustedLatency([...full.slice(3), NaN, NaN, NaN]), undefined);
});

/** Boxes at `fps`, each arriving `lagMs` after its camera time; box k comes out with packet k+1. */
function feed(latency: CaptureLatency, from: number, count: number, fps: number, lagMs: number, cameraTime: (k: number, t: number) => number = (_, t) => t) {
  const news: string[] = [];
  const interval = 1000 / fps;
  for (let k = from; k < from + count; k++) {
    const t = T0 + k * interval;
    const arrival = t + interval + lagMs;
    const n = latency.push(arrival, cameraTime(k, t));
    if (n) news.push(`${k}:${n}`);
  }
  return news;
}

test('latency: the times of muxing before the first report (−1 frame interval) are left out; the lag is read once the window holds reports', () => {
  const latency = new CaptureLatency();
  // The first 15 boxes (2.5 s at 6 fps) carry the time of muxing: a frame interval after their packet's arrival.
  const news = feed(latency, 0, 60, 6, 300, (k, t) => (k < 15 ? t + 1000 / 6 + 300 : t));
  assert.equal(news.length, 1);
  assert.match(news[0]!, /^\d+:trusted$/);
  assert.ok(Number(news[0]!.split(':')[0]) > 15 + CAPTURE_LATENCY.window * 0.9 - 1);
  assert.ok(Math.abs(latency.latencyMs! - 300) < 1, `${latency.latencyMs}`);
});

test('latency: no reports at all is never trusted, said once after untrustedAfterMs; a clock set back starts again and is said', () => {
  const none = new CaptureLatency();
  const placeholder = (_: number, t: number) => t + 2 * (1000 / 6);
  const said = feed(none, 0, 200, 6, 0, placeholder);
  assert.deepEqual(said, [`${Math.ceil((CAPTURE_LATENCY.untrustedAfterMs / 1000) * 6)}:never`]);
  assert.equal(none.latencyMs, undefined);

  const back = new CaptureLatency();
  feed(back, 0, 40, 15, 50);
  assert.ok(back.latencyMs !== undefined);
  // B-frames step back by a few frame intervals: nothing said.
  assert.deepEqual(feed(back, 40, 10, 15, 50, (k, t) => (k % 3 === 0 ? t - 200 : t)), []);
  assert.deepEqual(feed(back, 50, 1, 15, 50, (_, t) => t - 3_600_000), ['50:jumped_back']);
  assert.equal(back.latencyMs, undefined);
  const again = feed(back, 51, 40, 15, 50, (_, t) => t - 3_600_000);
  assert.equal(again.length, 0, 'the set-back clock now reads an hour of latency: not trusted, and the jump was said already');
});

test('the clock output: only for an RTSP camera that asks for it (a door\'s), on fd 3', () => {
  const rtsp = cameraConfig('c', 'rtsp://127.0.0.1/s');
  const clock = ffmpegCommand(rtsp, true).args;
  assert.deepEqual(clock.slice(-11), ['-map', '0:v:0', '-c', 'copy', '-f', 'mp4', '-movflags', 'frag_every_frame+empty_moov', '-write_prft', 'wallclock', 'pipe:3']);
  assert.equal(clock.filter((a) => a === 'pipe:1').length, 1, 'the raw frames stay on stdout');
  assert.ok(!ffmpegCommand(rtsp).args.includes('-write_prft'), 'a camera in no door pays nothing');
  assert.ok(!ffmpegCommand(cameraConfig('f', 'demo.mp4'), true).args.includes('-write_prft'), 'a file has no sender reports');
});

test('a camera on its own clock: frames carry their arrival less the latency; garbage on the clock pipe puts it back on arrival time, said once, and its frames go on', async () => {
  const W = 4;
  const H = 2;
  const FRAME = (W * H * 3) / 2;
  const time = new FakeTime();
  const ffmpeg = fakeSpawner();
  const lines: string[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (s: string) => void lines.push(s) } });
  let wall = T0;
  const camera = new FfmpegCamera(cameraConfig('door', 'rtsp://127.0.0.1/s', { width: W, height: H, fps: 15 }), { logger, spawn: ffmpeg.spawn, clock: time, timers: time, captureClock: true, wallNow: () => wall });
  const none = new FfmpegCamera(cameraConfig('alone', 'rtsp://127.0.0.1/s', { width: W, height: H }), { logger, spawn: ffmpeg.spawn, clock: time, timers: time });
  camera.start();
  none.start();
  assert.deepEqual(ffmpeg.clockPipes, [true, false]);
  assert.equal(none.captureClockStatus(), undefined);
  const p = ffmpeg.spawned[0]!;
  p.clockOut.emit('data', Buffer.concat([box('ftyp', 16), box('moov', 200)]));
  // Boxes at 15 fps, each out 250 ms after its camera time plus the frame interval it waits for the next packet.
  for (let k = 0; k < 40; k++) {
    wall = T0 + k * 66.7 + 66.7 + 250;
    p.clockOut.emit('data', Buffer.concat([prft(T0 + k * 66.7), box('moof', 50), box('mdat', 700)]));
  }
  assert.equal(camera.captureClockStatus()?.clock, 'camera');
  assert.ok(Math.abs(camera.captureClockStatus()!.latency_ms! - 250) <= 1);
  time.advance(1000);
  p.frame(FRAME);
  const onCamera = await camera.next();
  assert.equal(onCamera?.clock, 'camera');
  assert.ok(Math.abs(onCamera!.monoMs - onCamera!.capturedMs - 250) < 1);

  p.clockOut.emit('data', Buffer.from([0, 0, 0, 9, 0xff, 0xfe, 0, 1, 2, 3]));
  p.clockOut.emit('data', Buffer.alloc(5000, 0xee));
  p.frame(FRAME);
  const onArrival = await camera.next();
  assert.deepEqual([onArrival?.clock, onArrival?.capturedMs], ['arrival', onArrival?.monoMs]);
  assert.equal(camera.health().state, 'streaming');
  const warned = lines.filter((l) => l.includes('FG_WARN_CAMERA_CLOCK_STREAM'));
  assert.equal(warned.length, 1);
  assert.match(warned[0]!, /not four printable characters/);
  await Promise.all([camera.stop(), none.stop()]);
});

test('capture clock: samples gone bad put the camera back on arrival time, said once however often; steady again, it is back on its own clock', () => {
  const lines: string[] = [];
  let wall = T0;
  const clock = new CaptureClock(createLogger({ level: 'info', destination: { write: (s: string) => void lines.push(s) } }), () => wall);
  clock.session();
  clock.chunk(Buffer.concat([box('ftyp', 16), box('moov', 100)]));
  let k = 0;
  const boxes = (count: number, lagMs: number) => {
    for (const end = k + count; k < end; k++) {
      wall = T0 + k * 100 + 100 + lagMs;
      clock.chunk(Buffer.concat([prft(T0 + k * 100), box('moof', 20), box('mdat', 300)]));
    }
  };
  boxes(30, 40);
  assert.deepEqual(clock.status(), { clock: 'camera', latency_ms: 40 });
  assert.deepEqual(clock.captured(5000), { capturedMs: 4960, clock: 'camera' });
  // The camera's clock runs 10 s ahead now: every sample negative.
  boxes(5, -10_000);
  assert.deepEqual(clock.status(), { clock: 'arrival', latency_ms: null });
  assert.deepEqual(clock.captured(5000), { capturedMs: 5000, clock: 'arrival' });
  boxes(30, 40);
  assert.equal(clock.status().clock, 'camera', 'steady again');
  boxes(5, -10_000);
  assert.equal(clock.status().clock, 'arrival');
  const warned = lines.filter((l) => l.includes('"code":"FG_WARN_CAMERA_CLOCK"'));
  assert.equal(warned.length, 1, warned.join(''));
  assert.match(warned[0]!, /no longer give a steady latency/);
  assert.equal(lines.filter((l) => l.includes("timed by the camera's own clock")).length, 2, 'each return to its own clock is said at info');
});
