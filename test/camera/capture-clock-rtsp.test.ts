// Capture times by the cameras' own clocks, through real FFmpeg and a real RTSP server on
// 127.0.0.1: two synchronized views of the four-camera recording served as two cameras, the second
// through a proxy that delays its stream by 300 ms (reports with frames, as a camera's own buffer
// does), and a third whose RTCP sender reports the proxy strips. The first and the third need a
// password, so FFmpeg reads their URLs from its stdin (the concat demuxer), as a real camera's. With camera time a door's pairs
// are of one moment and the lag shows as latency; without reports the camera stays on arrival time
// and says so once.
import '../support/paced-tier.js';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createLogger } from '../../daemon/base/log.js';
import { FfmpegCamera } from '../../daemon/camera/camera.js';
import { DoorStage } from '../../daemon/door/door.js';
import { FakeCamera } from '../support/fake-camera.js';
import { lagProxy } from '../support/lag-proxy.js';
import { media, mediaMissing } from '../support/media.js';
import { cameraConfig, waitFor } from './helpers.js';

const VIEWS = ['video_multiview/charuco_cam_2.mp4', 'video_multiview/charuco_cam_3.mp4'];
const skip = mediaMissing(...VIEWS) ? `needs ../shared/media/${VIEWS.join(' and ')}` : false;
const FPS = 6;
const LAG_MS = 300;
const PASSWORD = 'clock-test';

let dir: string;
const servers: FakeCamera[] = [];
const proxies: Awaited<ReturnType<typeof lagProxy>>[] = [];

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'facegate-capture-clock-'));
  for (const [i, view] of VIEWS.entries()) {
    // As a camera's H.264 (GStreamer's server passes it through), small: the times are the test.
    const out = join(dir, `view${i}.mp4`);
    const r = spawnSync('ffmpeg', ['-v', 'error', '-y', '-i', media(view), '-vf', 'scale=640:360,format=yuv420p', '-c:v', 'libx264', '-profile:v', 'baseline', '-bf', '0', '-g', String(FPS), '-crf', '28', '-r', String(FPS), out]);
    if (r.status !== 0) throw new Error(r.stderr.toString());
    // The first camera asks for a password: its URL reaches FFmpeg through the concat script on stdin, as a real camera's does.
    servers.push(await FakeCamera.start({ video: out, videoLoops: 4, ...(i === 0 ? { password: PASSWORD } : {}) }));
  }
  // The first view with B-frames (main profile), which many encoders use and the MP4 muxer must take.
  const bframes = join(dir, 'bframes.mp4');
  const r = spawnSync('ffmpeg', ['-v', 'error', '-y', '-i', media(VIEWS[0]!), '-vf', 'scale=640:360,format=yuv420p', '-c:v', 'libx264', '-profile:v', 'main', '-bf', '2', '-g', String(2 * FPS), '-crf', '28', '-r', String(FPS), bframes]);
  if (r.status !== 0) throw new Error(r.stderr.toString());
  servers.push(await FakeCamera.start({ video: bframes, videoLoops: 2 }));
});

after(async () => {
  for (const p of proxies) await p.close();
  for (const s of servers) await s.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Seen {
  pts: number;
  monoMs: number;
  capturedMs: number;
  clock: string;
}

function measuredCamera(name: string, url: string) {
  const lines: string[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (s: string) => void lines.push(s) } });
  const camera = new FfmpegCamera(cameraConfig(name, url, { fps: FPS, watchdog_s: 5 }), { logger, captureClock: true });
  const seen: Seen[] = [];
  const ac = new AbortController();
  const done = (async () => {
    for await (const f of camera.frames(ac.signal)) seen.push({ pts: f.pts, monoMs: f.monoMs, capturedMs: f.capturedMs, clock: f.clock });
  })();
  return { camera, lines, seen, stop: async () => (ac.abort(), await camera.stop(), await done) };
}

const median = (values: number[]) => [...values].sort((x, y) => x - y)[values.length >> 1]!;

test('two cameras, the second 300 ms late: by camera time their frames of one moment pair, and the lag shows as latency; a camera without sender reports stays on arrival time and says so once', { skip, timeout: 120_000 }, async () => {
  const lagged = await lagProxy(servers[1]!.port, LAG_MS);
  const stripped = await lagProxy(servers[0]!.port, 0, true);
  proxies.push(lagged, stripped);
  const a = measuredCamera('left', servers[0]!.url('/video', `admin:${PASSWORD}`));
  const b = measuredCamera('right', `rtsp://127.0.0.1:${lagged.port}/video`);
  const c = measuredCamera('bare', `rtsp://admin:${PASSWORD}@127.0.0.1:${stripped.port}/video`);
  const door = new DoorStage({
    door: { name: 'front', cameras: ['left', 'right'] },
    cameras: [cameraConfig('left', '', { fps: FPS }), cameraConfig('right', '', { fps: FPS })],
    eyeFps: FPS,
    threshold: () => 0.5,
    monoNow: () => performance.now(),
    clockOf: (name) => [a, b].find((x) => x.camera.name === name)?.camera.captureClockStatus(),
    logger: createLogger({ level: 'silent' }),
  });
  for (const x of [a, b, c]) x.camera.start();
  try {
    await waitFor('both cameras on their own clocks', () => a.camera.captureClockStatus()?.clock === 'camera' && b.camera.captureClockStatus()?.clock === 'camera', 40_000, 100);
    // A few seconds of frames on camera time, and the bare camera past the time it is given.
    const from = Math.max(a.seen.length, b.seen.length);
    await waitFor('frames on camera time', () => Math.min(a.seen.length, b.seen.length) >= from + 30, 20_000, 100);
    await waitFor('the bare camera said it', () => c.lines.some((l) => l.includes('FG_WARN_CAMERA_CLOCK')), 30_000, 100);

    const onCamera = (s: Seen[]) => s.filter((f) => f.clock === 'camera');
    const left = onCamera(a.seen);
    const right = new Map(onCamera(b.seen).map((f) => [f.pts, f]));
    const both = left.filter((f) => right.has(f.pts));
    assert.ok(both.length >= 20, `${both.length} frames of one moment on camera time in both`);
    // The server starts a session's file at its PLAY, so frame k of the two sessions is as far apart
    // as their PLAYs (23–120 ms here), and the camera's time of a frame is when the server sent it.
    const cameraSkew = both.map((f) => right.get(f.pts)!.capturedMs - f.capturedMs);
    const arrivalSkew = both.map((f) => right.get(f.pts)!.monoMs - f.monoMs);
    const lagTaken = median(both.map((_, i) => arrivalSkew[i]! - cameraSkew[i]!));
    // As a door pairs: each left frame with the right frame nearest in time; how far apart the two
    // moments truly are is their camera times' difference.
    const rights = [...right.values()];
    const nearest = (f: Seen, time: (s: Seen) => number) => rights.reduce((best, r) => (Math.abs(time(r) - time(f)) < Math.abs(time(best) - time(f)) ? r : best));
    // Left frames inside the right ones' span (the right camera's latest frames are still on their way).
    const inside = left.filter((f) => f.capturedMs >= rights[0]!.capturedMs && f.capturedMs <= rights.at(-1)!.capturedMs && f.monoMs >= rights[0]!.monoMs && f.monoMs <= rights.at(-1)!.monoMs);
    const apartByCamera = inside.map((f) => Math.abs(nearest(f, (s) => s.capturedMs).capturedMs - f.capturedMs));
    const apartByArrival = inside.map((f) => Math.abs(nearest(f, (s) => s.monoMs).capturedMs - f.capturedMs));
    const status = door.status();
    const limit = status.pair_limit_ms;
    console.log(
      `# frame k of right − left over ${both.length} frames: camera time median ${median(cameraSkew).toFixed(1)} ms (min ${Math.min(...cameraSkew).toFixed(1)}, max ${Math.max(...cameraSkew).toFixed(1)}), ` +
        `arrival median ${median(arrivalSkew).toFixed(1)} ms, lag taken away ${lagTaken.toFixed(1)} ms; the moments paired are apart by camera time at most ${Math.max(...apartByCamera).toFixed(1)} ms, ` +
        `by arrival median ${median(apartByArrival).toFixed(1)} ms (limit ${limit}); door clocks ${JSON.stringify(status.clocks)}, spread ${status.latency_spread_ms} ms`,
    );
    assert.ok(Math.abs(lagTaken - LAG_MS) < 25, `camera time takes the lag away: ${lagTaken} ms`);
    // A frame's capture time keeps its arrival's jitter (the proxy's timers add some): p10 to p90.
    const sorted = [...cameraSkew].sort((x, y) => x - y);
    const spread = sorted[Math.floor(0.9 * sorted.length)]! - sorted[Math.floor(0.1 * sorted.length)]!;
    assert.ok(spread < 30, `by camera time one session stays a steady distance from the other: p10–p90 ${spread} ms`);
    // Frames come every 2 × limit ms: the nearest by camera time is at most half of that from a
    // frame's moment, plus how far one session's camera times wander against the other's (their
    // whole range over the run). Whether that comes near the limit depends on how far apart the
    // two PLAYs fell, which a busy machine widens (90 ms in one run).
    const wander = Math.max(...cameraSkew) - Math.min(...cameraSkew);
    assert.ok(apartByCamera.every((ms) => ms <= limit + wander + 1), `paired by camera time, every pair is of one moment within the pairing limit and the times' wander (${wander.toFixed(1)} ms)`);
    assert.ok(median(apartByArrival) > LAG_MS - limit - 20, 'paired by arrival, the pairs are moments a lag apart');

    const [lc, rc] = status.clocks;
    assert.deepEqual([lc!.camera, lc!.clock, rc!.camera, rc!.clock], ['left', 'camera', 'right', 'camera']);
    assert.ok(lc!.latency_ms! >= 0 && lc!.latency_ms! < 50, `left latency ${lc!.latency_ms}`);
    assert.ok(Math.abs(rc!.latency_ms! - LAG_MS) < 50, `right latency ${rc!.latency_ms}`);
    assert.ok(status.latency_spread_ms! > status.pair_limit_ms, 'the door reports latencies further apart than its pairing limit');

    // No reports: every frame on arrival time, and one coded warning.
    assert.ok(c.seen.length > 50 && c.seen.every((f) => f.clock === 'arrival' && f.capturedMs === f.monoMs));
    assert.deepEqual(c.camera.captureClockStatus(), { clock: 'arrival', latency_ms: null });
    const warned = c.lines.filter((l) => l.includes('FG_WARN_CAMERA_CLOCK'));
    assert.equal(warned.length, 1, warned.join('\n'));
    assert.match(warned[0]!, /RTCP sender reports/);
    assert.ok(![a, b].some((x) => x.lines.some((l) => l.includes('FG_WARN_CAMERA_CLOCK'))), 'the cameras with reports said nothing');
    assert.ok([a, b, c].every((x) => x.camera.health().state === 'streaming'));
  } finally {
    await Promise.all([a.stop(), b.stop(), c.stop()]);
  }
});

test('a stream with B-frames: FFmpeg with the clock output streams on, and its frames are timed as they can be', { skip, timeout: 60_000 }, async () => {
  const x = measuredCamera('bframes', servers[2]!.url('/video'));
  x.camera.start();
  try {
    await waitFor('frames', () => x.seen.length >= 30, 30_000, 100);
    const h = x.camera.health();
    console.log(`# B-frames: ${x.seen.length} frames, clock ${JSON.stringify(x.camera.captureClockStatus())}`);
    assert.deepEqual([h.state, h.reconnects_total, h.last_error], ['streaming', 0, null], 'the MP4 output took the B-frame packets');
    // On the tests' server every box reads before its camera time (−1 to −4 frame intervals), so the
    // camera stays on arrival time; with a trusted latency it would be on its own clock. Either way, one clock per frame.
    const clock = x.camera.captureClockStatus()!.clock;
    assert.ok(x.seen.slice(-5).every((f) => f.clock === clock));
  } finally {
    await x.stop();
  }
});
