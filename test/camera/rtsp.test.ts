// Real FFmpeg against a real RTSP server (GStreamer) on 127.0.0.1, misbehaving on purpose.
import '../support/paced-tier.js';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { yuv420Layout } from '../../daemon/base/yuv.js';
import { FakeCamera } from '../support/fake-camera.js';
import { media, mediaMissing } from '../support/media.js';
import { cameraConfig, consume, realCamera, sleep, waitFor } from './helpers.js';

let server: FakeCamera;
before(async () => {
  server = await FakeCamera.start({ width: 1280, height: 720, fps: 5 });
});
after(async () => {
  await server?.stop();
});

test('frames arrive at the configured size and rate, scaled and rate-converted by FFmpeg', async () => {
  const a = realCamera(cameraConfig('full', server.url(), { width: 1280, height: 720, fps: 5 }));
  const b = realCamera(cameraConfig('small', server.url(), { width: 320, height: 180, fps: 2 }));
  const ac = new AbortController();
  const seenA = consume(a.camera, ac);
  const seenB = consume(b.camera, ac);
  a.camera.start();
  b.camera.start();
  try {
    await waitFor('first frames', () => seenA.seen.length > 0 && seenB.seen.length > 0, 15_000);
    await sleep(4_000);
    const rate = (s: { monoMs: number }[]) => (s.length - 1) / (((s.at(-1)?.monoMs ?? 0) - (s[0]?.monoMs ?? 0)) / 1000);
    console.log(`# 1280x720@5: ${rate(seenA.seen).toFixed(2)} fps; 320x180@2: ${rate(seenB.seen).toFixed(2)} fps; time to first frame ${a.camera.health().time_to_first_frame_ms} ms`);
    assert.ok(seenA.seen.every((f) => f.bytes === (1280 * 720 * 3) / 2));
    assert.ok(seenB.seen.every((f) => f.bytes === (320 * 180 * 3) / 2));
    assert.ok(Math.abs(rate(seenA.seen) - 5) < 1, `rate ${rate(seenA.seen)}`);
    assert.ok(Math.abs(rate(seenB.seen) - 2) < 0.6, `rate ${rate(seenB.seen)}`);
    const h = a.camera.health();
    assert.equal(h.state, 'streaming');
    assert.ok(h.fps_in > 3.5 && h.fps_in < 6.5, `fps_in ${h.fps_in}`);
    // The rate read beside the rate asked for and the one the stream declares: as asked, nothing flagged.
    assert.deepEqual([h.fps_asked, h.fps_source, h.attention, b.camera.health().fps_source, b.camera.health().attention], [5, 5, null, 5, null]);
    assert.equal(h.last_error, null);
    assert.ok(!a.lines.some((l) => l.includes('black bars')), 'a stream in the frame\'s proportion is not boxed');
  } finally {
    ac.abort();
    await Promise.all([a.camera.stop(), b.camera.stop()]);
    await Promise.all([seenA.done, seenB.done]);
  }
});

test('a camera that sends fewer frames than asked for (FFmpeg repeats them up to the rate): health names the camera as the cause and what to do', async () => {
  const { camera } = realCamera(cameraConfig('slow', server.url(), { width: 320, height: 180, fps: 15 }));
  const ac = new AbortController();
  const { done } = consume(camera, ac);
  camera.start();
  try {
    await waitFor('streaming', () => camera.health().state === 'streaming', 15_000);
    const h = camera.health();
    assert.deepEqual([h.fps_asked, h.fps_source], [15, 5]);
    assert.match(h.attention?.message ?? '', /^the camera itself sends 5 fps, fewer than the 15 fps asked for: FFmpeg repeats frames to make up the rate/);
    assert.match(h.attention?.hint ?? '', /raise the frame rate in the camera's own video settings to 15 fps, or set fps: 5 for camera "slow"/);
  } finally {
    ac.abort();
    await camera.stop();
    await done;
  }
});

test('server killed and restarted: frames again within 5 s of its return', async () => {
  const { camera } = realCamera(cameraConfig('door', server.url(), { watchdog_s: 5 }));
  const ac = new AbortController();
  const { seen } = consume(camera, ac);
  camera.start();
  try {
    await waitFor('streaming', () => camera.health().state === 'streaming', 15_000);
    await server.kill();
    await waitFor('disconnect noticed', () => camera.health().state !== 'streaming', 5_000);
    const lastSeq = seen.at(-1)?.seq ?? 0;
    await sleep(1_500);
    await server.restart();
    const back = await waitFor('frames after the restart', () => (seen.at(-1)?.seq ?? 0) > lastSeq, 10_000, 20);
    console.log(`# frames again ${Math.round(back)} ms after the RTSP server came back (last error: ${camera.health().last_error?.message})`);
    assert.ok(back < 5_000, `${back} ms`);
    assert.ok(camera.health().reconnects_last_hour >= 1);
  } finally {
    ac.abort();
    await camera.stop();
  }
});

test('server frozen (SIGSTOP): stalled within the watchdog time, streaming again after SIGCONT', async () => {
  const watchdogS = 3;
  const { camera } = realCamera(cameraConfig('frozen', server.url(), { watchdog_s: watchdogS }));
  let stalledAt = 0;
  camera.onState((h) => {
    if (h.state === 'stalled' && !stalledAt) stalledAt = performance.now();
  });
  camera.start();
  try {
    await waitFor('streaming', () => camera.health().state === 'streaming', 15_000);
    const lastFrame = camera.latest()?.monoMs ?? 0;
    server.freeze();
    try {
      await waitFor('stalled', () => stalledAt > 0, (watchdogS + 2) * 1000);
      const detected = stalledAt - lastFrame;
      console.log(`# stall detected ${Math.round(detected)} ms after the last frame (watchdog ${watchdogS} s)`);
      assert.ok(detected <= watchdogS * 1000 + 500, `${detected} ms`);
      assert.equal(camera.health().stalls_last_hour, 1);
      assert.equal(camera.health().last_error?.kind, 'stalled');
    } finally {
      server.resume();
    }
    const recovered = await waitFor('streaming after SIGCONT', () => camera.health().state === 'streaming', 20_000);
    console.log(`# streaming again ${Math.round(recovered)} ms after SIGCONT`);
  } finally {
    await camera.stop();
  }
});

test('a camera that never answers backs off while another keeps streaming', async () => {
  // Accepts TCP and then says nothing, like a camera whose RTSP service hangs.
  const sockets: Socket[] = [];
  const silent = createServer((s) => sockets.push(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const port = (silent.address() as { port: number }).port;
  const dead = realCamera(cameraConfig('dead', `rtsp://127.0.0.1:${port}/stream`, { watchdog_s: 2, backoff_max_s: 2 }));
  const live = realCamera(cameraConfig('live', server.url()));
  const ac = new AbortController();
  const { seen } = consume(live.camera, ac);
  dead.camera.start();
  live.camera.start();
  try {
    await waitFor('live streaming', () => live.camera.health().state === 'streaming', 15_000);
    const from = seen.length;
    await sleep(6_000);
    const d = dead.camera.health();
    assert.ok(['backoff', 'connecting', 'failed'].includes(d.state), d.state);
    assert.equal(d.last_error?.kind, 'timeout');
    assert.ok(d.reconnects_last_hour >= 1, `reconnects ${d.reconnects_last_hour}`);
    const got = seen.length - from;
    console.log(`# dead camera: ${d.state}, ${d.reconnects_last_hour} reconnects, "${d.last_error?.message}"; live camera: ${got} frames in 6 s`);
    assert.ok(got >= 24, `live camera got ${got} frames in 6 s`);
  } finally {
    ac.abort();
    await Promise.all([dead.camera.stop(), live.camera.stop()]);
    for (const s of sockets) s.destroy();
    silent.close();
  }
});

test('wrong path and wrong password give distinct errors; the password is never logged', async () => {
  const secure = await FakeCamera.start({ width: 320, height: 180, password: 'secret' });
  const path = realCamera(cameraConfig('path', secure.url('/nope', 'admin:secret')));
  const pass = realCamera(cameraConfig('pass', secure.url('/pattern', 'admin:wrong-pass')));
  const good = realCamera(cameraConfig('good', secure.url('/pattern', 'admin:secret'), { width: 320, height: 180 }));
  try {
    for (const c of [path, pass, good]) c.camera.start();
    await waitFor('both failed', () => path.camera.health().state === 'failed' && pass.camera.health().state === 'failed', 10_000);
    await waitFor('good streaming', () => good.camera.health().state === 'streaming', 15_000);
    assert.equal(path.camera.health().last_error?.kind, 'not_found');
    assert.equal(pass.camera.health().last_error?.kind, 'unauthorized');
    console.log(`# wrong path: "${path.camera.health().last_error?.message}"; wrong password: "${pass.camera.health().last_error?.message}"`);
    const logged = [...path.lines, ...pass.lines, ...good.lines].join('');
    assert.ok(!logged.includes('wrong-pass') && !logged.includes('secret'), 'credentials in the log');
    assert.ok(logged.includes('rtsp://***@127.0.0.1'));
  } finally {
    await Promise.all([path.camera.stop(), pass.camera.stop(), good.camera.stop()]);
    await secure.stop();
  }
});

test('a quiet camera decodes key frames only (one a GOP, no disconnect, no rate warning), and every frame again from the next key frame', async () => {
  // The test server sends a key frame every second (a GOP of fps frames).
  const { camera, lines } = realCamera(cameraConfig('idle', server.url(), { width: 320, height: 180, fps: 5 }));
  const ac = new AbortController();
  const { seen } = consume(camera, ac);
  const rateSince = (ms: number) => {
    const s = seen.filter((f) => f.monoMs >= ms);
    return s.length < 2 ? 0 : (s.length - 1) / ((s.at(-1)!.monoMs - s[0]!.monoMs) / 1000);
  };
  camera.start();
  try {
    await waitFor('streaming', () => camera.health().state === 'streaming', 15_000);
    camera.setQuiet(true);
    const switched = performance.now();
    // Key frames have begun once two frames come about a GOP apart (FFmpeg's restart takes its time).
    const begun = () => seen.find((f, i) => f.monoMs >= switched && i > 0 && f.monoMs - seen[i - 1]!.monoMs > 600);
    await waitFor('key frames alone', () => begun() !== undefined, 15_000);
    const from = begun()!.monoMs;
    await sleep(3_000);
    const keyframes = seen.filter((f) => f.monoMs >= from && f.monoMs < from + 3_000);
    const h = camera.health();
    assert.equal(h.decoding, 'keyframes');
    assert.ok(keyframes.length >= 2 && keyframes.length <= 5, `${keyframes.length} frames in 3 s of key frames, one a second sent (15 on every frame)`);
    assert.ok(keyframes.every((f, i) => i === 0 || f.pts > keyframes[i - 1]!.pts), 'key frames timed by their arrival');
    assert.deepEqual([h.state, h.reconnects_last_hour, h.last_error, h.attention], ['streaming', 0, null, null]);

    camera.setQuiet(false);
    const back = performance.now();
    // Every frame again: frames a frame interval apart (the last key frames of the old FFmpeg may come first).
    const restarted = () => seen.find((f, i) => f.monoMs >= back && Math.abs((seen[i + 1]?.pts ?? 0) - f.pts - 0.2) < 0.01);
    const again = await waitFor('every frame again', () => restarted() !== undefined, 10_000);
    await sleep(2_000);
    const rate = rateSince(restarted()!.monoMs);
    console.log(`# key frames: ${keyframes.length} in 3 s; every frame again ${Math.round(again)} ms after the switch (FFmpeg's time to first frame ${camera.health().time_to_first_frame_ms} ms), then ${rate.toFixed(1)} fps`);
    // Frame times go on across both switches by the real time between, as the tracker needs them:
    // without, each switch would lose its gap (more than a second here) from the frames' times.
    assert.ok(seen.every((f, i) => i === 0 || f.pts > seen[i - 1]!.pts), 'frame times increase');
    const [first, last] = [seen[0]!, seen.at(-1)!];
    const lost = (last.monoMs - first.monoMs) / 1000 - (last.pts - first.pts);
    assert.ok(Math.abs(lost) < 1, `frame times ${(last.pts - first.pts).toFixed(2)} s over ${((last.monoMs - first.monoMs) / 1000).toFixed(2)} s of frames`);
    assert.equal(camera.health().decoding, 'all');
    assert.equal(camera.health().reconnects_last_hour, 0);
    assert.ok(lines.some((l) => l.includes('decoding key frames only')) && lines.some((l) => l.includes('decoding every frame')));
    // The FFmpeg for every frame was started while the scene was quiet, waiting on stdin for its input.
    assert.equal(streamsRead(lines).length, 3);
    assert.ok(lines.filter((l) => l.includes('"camera streaming"')).at(-1)!.includes('"started_ahead":true'), 'the switch back read the stream with the FFmpeg started ahead');
    const cut = seen.filter((f) => f.chroma > 40);
    assert.equal(cut.length, 0, `every frame cut at its first byte (chroma near grey on a black and white pattern): ${cut.length} of ${seen.length} strayed, as far as ${Math.max(0, ...cut.map((f) => f.chroma))}`);
  } finally {
    ac.abort();
    await camera.stop();
  }
});

/** The stream each FFmpeg started reads, in order, as the camera logs it at its first frame. */
function streamsRead(lines: readonly string[]): string[] {
  return lines.filter((l) => l.includes('"camera streaming"')).map((l) => (JSON.parse(l) as { stream: string }).stream);
}

test('a quiet camera with a sub stream watches every frame of it, and the main stream again once something moves; a sub stream that fails leaves it on key frames, never blind', async () => {
  // The sub stream is another server, smaller (320×180 against 1280×720), behind a password.
  const sub = await FakeCamera.start({ width: 320, height: 180, fps: 5, password: 'sub-secret' });
  const { camera, lines } = realCamera(cameraConfig('two', server.url(), { width: 320, height: 180, fps: 5, idle_keyframes_after_s: 5, sub_url: sub.url('/pattern', 'admin:sub-secret') }));
  const ac = new AbortController();
  const { seen } = consume(camera, ac);
  const streams = () => streamsRead(lines);
  const states: string[] = [];
  camera.onState((h) => states.push(h.state));
  camera.start();
  try {
    await waitFor('streaming', () => camera.health().state === 'streaming', 15_000);
    const since = states.length;
    camera.setQuiet(true);
    await waitFor('the sub stream', () => streams().length === 2, 15_000);
    // The main stream was read until the sub stream's first frame: the camera never reconnected,
    // and its log says how long it saw nothing at the switch.
    assert.deepEqual(states.slice(since), [], 'no state change: the main stream went on until the sub stream had a frame');
    assert.match(lines.filter((l) => l.includes('"camera streaming"'))[1]!, /"since_last_frame_ms":\d+/);
    const from = seen.at(-1)!.monoMs;
    await sleep(2_000);
    const onSub = seen.filter((f) => f.monoMs > from);
    const h = camera.health();
    assert.deepEqual(streams(), ['1280x720', '320x180'], 'the sub stream read while quiet');
    assert.equal(h.decoding, 'sub_stream');
    assert.ok(onSub.length >= 7, `${onSub.length} frames in 2 s of the sub stream at 5 fps: every frame, not key frames`);
    assert.deepEqual([h.state, h.reconnects_last_hour, h.last_error, h.attention], ['streaming', 0, null, null]);
    assert.ok(lines.some((l) => l.includes('watching the sub stream')));

    camera.setQuiet(false);
    await waitFor('the main stream again', () => streams().length === 3, 15_000);
    assert.deepEqual([streams()[2], camera.health().decoding], ['1280x720', 'all']);
    assert.ok(lines.filter((l) => l.includes('"camera streaming"'))[2]!.includes('"started_ahead":true'), 'the main stream read by the FFmpeg started ahead');
    assert.deepEqual(states.slice(since), [], 'back on the main stream without connecting again: two streams, the one started ahead told its input at once');

    // The sub stream gone: the next quiet spell tries it, says why it failed, and is watched on key frames.
    await sub.stop();
    camera.setQuiet(true);
    await waitFor('key frames after the sub stream failed', () => camera.health().decoding === 'keyframes' && streams().length === 4, 20_000);
    const failed = camera.health();
    assert.match(failed.last_error?.message ?? '', /^sub stream: /);
    assert.equal(streams()[3], '1280x720', 'key frames of the main stream');
    assert.ok(seen.every((f, i) => i === 0 || f.pts > seen[i - 1]!.pts), 'frame times increase across every switch');
    assert.ok(!lines.join('').includes('sub-secret'), "the sub stream's password is never logged");
  } finally {
    ac.abort();
    await camera.stop();
    await sub.stop();
  }
});

test('a sub stream that refuses its password: the quiet camera reads key frames of the main stream at once, is never shown failed, and last_error says what to fix', async () => {
  const sub = await FakeCamera.start({ width: 320, height: 180, fps: 5, password: 'sub-secret' });
  const { camera, lines } = realCamera(cameraConfig('refused', server.url(), { width: 320, height: 180, fps: 5, idle_keyframes_after_s: 5, sub_url: sub.url('/pattern', 'admin:not-the-password') }));
  const ac = new AbortController();
  const { seen } = consume(camera, ac);
  const states: string[] = [];
  camera.onState((h) => states.push(h.state));
  const streams = () => streamsRead(lines);
  camera.start();
  try {
    await waitFor('streaming', () => camera.health().state === 'streaming', 15_000);
    const since = states.length;
    camera.setQuiet(true);
    await waitFor('key frames after the refusal', () => camera.health().decoding === 'keyframes' && streams().length === 2, 20_000);
    const h = camera.health();
    assert.deepEqual(streams(), ['1280x720', '1280x720'], 'the main stream, then its key frames: the sub stream gave no frame');
    assert.deepEqual(states.slice(since), ['connecting', 'streaming'], `states while quiet: ${states.slice(since).join(' → ')}`);
    assert.equal(h.state, 'streaming');
    assert.equal(h.last_error?.kind, 'unauthorized');
    assert.match(h.last_error?.message ?? '', /^sub stream: 401 unauthorized/);
    assert.equal(h.reconnects_last_hour, 0, 'no backoff and no reconnect counted against the camera');
    assert.ok(seen.every((f, i) => i === 0 || f.pts > seen[i - 1]!.pts), 'frame times increase across the fallback');
    assert.ok(!lines.join('').includes('not-the-password'), "the sub stream's password is never logged");
  } finally {
    ac.abort();
    await camera.stop();
    await sub.stop();
  }
});

test('hwaccel naming a GPU decoder this box lacks: the camera fails as one a person must fix, with a reason that says hwaccel: none', async () => {
  // CI boxes have neither; where one is there, FFmpeg would decode on it and the test says nothing.
  const lacks = { cuda: !existsSync('/dev/nvidiactl'), vaapi: !existsSync('/dev/dri') };
  const cams = (['cuda', 'vaapi'] as const).filter((h) => lacks[h]).map((hwaccel) => realCamera(cameraConfig(hwaccel, server.url('/pattern'), { width: 320, height: 180, hwaccel })));
  try {
    for (const c of cams) c.camera.start();
    await waitFor('failed', () => cams.every((c) => c.camera.health().state === 'failed'), 15_000);
    for (const { camera } of cams) {
      const h = camera.health();
      assert.equal(h.last_error?.kind, 'codec');
      assert.match(h.last_error?.message ?? '', /hardware decoding unavailable.*hwaccel: none/);
    }
  } finally {
    await Promise.all(cams.map((c) => c.camera.stop()));
  }
});

const CLIP = 'video_cctv/short_hamilton_clip.mp4';
const STILL = 'identities/face_recognition/biden.jpg';

test('a video file plays in real time and loops; the same clip and a still image also come over RTSP', { skip: mediaMissing(CLIP, STILL) }, async () => {
  const file = realCamera(cameraConfig('file', media(CLIP), { width: 640, height: 360, fps: 10, loop: true }));
  const ac = new AbortController();
  const { seen } = consume(file.camera, ac);
  const rtsp = await FakeCamera.start({ width: 640, height: 360, fps: 5, image: media(STILL), video: media(CLIP) });
  const overVideo = realCamera(cameraConfig('video', rtsp.url('/video')));
  const overStill = realCamera(cameraConfig('still', rtsp.url('/still')));
  try {
    file.camera.start();
    overVideo.camera.start();
    overStill.camera.start();
    await waitFor('file frames', () => seen.length > 0, 10_000);
    const t0 = performance.now();
    // The clip is 9.2 s of video: 11 s covers a loop.
    await sleep(11_000);
    const seconds = (performance.now() - t0) / 1000;
    const rate = seen.length / seconds;
    assert.ok(rate > 8 && rate < 12, `file played at ${rate.toFixed(1)} fps, not in real time`);
    assert.ok(seen.every((f, i) => i === 0 || f.pts > (seen[i - 1]?.pts ?? 0)), 'pts grows, across the loop too');
    assert.ok((seen.at(-1)?.pts ?? 0) > 9.5, `pts ${seen.at(-1)?.pts}: the file looped`);
    assert.equal(file.camera.health().reconnects_last_hour, 0, 'looping is not a reconnect');
    assert.equal(overVideo.camera.health().state, 'streaming');
    assert.equal(overStill.camera.health().state, 'streaming');
    assert.equal(overStill.camera.latest()?.image.data.length, yuv420Layout(640, 360).bytes, 'a 640×360 frame, in YUV 4:2:0');
  } finally {
    ac.abort();
    await Promise.all([file.camera.stop(), overVideo.camera.stop(), overStill.camera.stop()]);
    await rtsp.stop();
  }
});

test('a file that is not looped ends the camera at its end', { skip: mediaMissing(CLIP) }, async () => {
  const { camera } = realCamera(cameraConfig('once', media(CLIP), { width: 160, height: 90, fps: 2 }));
  const ac = new AbortController();
  const { seen, done } = consume(camera, ac);
  camera.start();
  await done; // ends by itself
  assert.equal(camera.health().state, 'stopped');
  assert.equal(camera.health().last_error?.kind, 'ended');
  // 9.2 s at 2 fps: ~18 frames, all of them taken since the test consumes faster than 2 fps.
  assert.ok(seen.length >= 16 && seen.length <= 20, `${seen.length} frames`);
});

/** An H.264 clip of a white square on grey, `width`×`height`, its square `side` px and centred. */
function squareClip(dir: string, width: number, height: number, side: number): string {
  const out = join(dir, `square-${width}x${height}.mp4`);
  const box = `drawbox=x=${(width - side) / 2}:y=${(height - side) / 2}:w=${side}:h=${side}:color=white:t=fill`;
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `color=c=0x808080:s=${width}x${height}:r=5:d=4,${box}`, '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-crf', '18', out]);
  return out;
}

/**
 * `clip` stored with non-square pixels, as HDV and analog encoders store their pictures: squeezed
 * to `width` across, with the sample aspect ratio `sar` that shows it as it was.
 */
function nonSquare(clip: string, width: number, sar: string): string {
  const out = clip.replace(/\.mp4$/, `-${width}-sar.mp4`);
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', clip, '-vf', `scale=${width}:ih,setsar=${sar}`, '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-crf', '18', out]);
  return out;
}

/** `clip` stored on its side, as a phone stores a portrait video: the same pixels, with a display matrix turning them by 90°. */
function onItsSide(clip: string): string {
  const out = clip.replace(/\.mp4$/, '-side.mp4');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', clip, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', out]);
  return out;
}

/** The white square's extent (Y above 200) along the frame's middle row and column, and the luma at the frame's edges. */
function measureSquare(frame: { width: number; height: number; data: Uint8Array }) {
  const { width, height, data } = frame;
  const row = Math.floor(height / 2) * width;
  const col = Math.floor(width / 2);
  let w = 0;
  let h = 0;
  for (let x = 0; x < width; x++) if (data[row + x]! > 200) w++;
  for (let y = 0; y < height; y++) if (data[y * width + col]! > 200) h++;
  return { w, h, left: data[row + 2]!, top: data[2 * width + col]! };
}

test('a stream of another aspect is fitted inside the frame with black bars, never stretched, and the log says the size to set once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-aspect-'));
  const rtsp = await FakeCamera.start({ width: 640, height: 480, fps: 5, video: squareClip(dir, 640, 480, 200) });
  const fourThree = realCamera(cameraConfig('four-three', rtsp.url('/video'), { width: 1280, height: 720, fps: 5 }));
  const corridor = realCamera(cameraConfig('corridor', squareClip(dir, 360, 640, 120), { width: 1280, height: 720, fps: 5, loop: true }));
  const phone = realCamera(cameraConfig('phone', onItsSide(squareClip(dir, 640, 360, 120)), { width: 1280, height: 720, fps: 5, loop: true }));
  const cameras = [fourThree, corridor, phone];
  try {
    for (const c of cameras) c.camera.start();
    await waitFor('frames from all three', () => cameras.every((c) => c.camera.latest() !== undefined), 15_000);
    await sleep(1_000);
    const a = measureSquare(fourThree.camera.latest()!.image);
    // 640×480 fitted to 1280×720 is scaled by 1.5 into 960×720 at x 160: the 200 px square is 300 px each way.
    assert.ok(Math.abs(a.w - 300) <= 4 && Math.abs(a.h - 300) <= 4, `4:3: the square is ${a.w}×${a.h}, not 300×300`);
    assert.ok(a.left < 24, `4:3: the bar left of the picture is black (luma ${a.left})`);
    assert.ok(a.top > 100, `4:3: the picture reaches the top (luma ${a.top})`);
    const b = measureSquare(corridor.camera.latest()!.image);
    // 360×640 fitted to 1280×720 is scaled by 1.125 into 404×720: the 120 px square is 135 px.
    assert.ok(Math.abs(b.w - 135) <= 4 && Math.abs(b.h - 135) <= 4, `9:16: the square is ${b.w}×${b.h}, not 135×135`);
    assert.ok(b.left < 24, `9:16: black beside the picture (luma ${b.left})`);
    const said = (lines: string[]) => lines.filter((l) => l.includes('black bars')).map((l) => JSON.parse(l) as { msg: string; stream: string; picture: string });
    assert.equal(said(fourThree.lines).length, 1, 'said once');
    assert.equal(said(fourThree.lines)[0]!.stream, '640x480');
    assert.equal(said(fourThree.lines)[0]!.picture, '960x720');
    assert.match(said(fourThree.lines)[0]!.msg, /width: 960, height: 720/);
    assert.match(said(corridor.lines)[0]!.msg, /width: 406, height: 720/);
    // Stored 640×360 on its side, shown 360×640: turned upright, then fitted as the corridor clip is.
    const c = measureSquare(phone.camera.latest()!.image);
    assert.ok(Math.abs(c.w - 135) <= 4 && Math.abs(c.h - 135) <= 4 && c.left < 24, `a phone's portrait video: the square is ${c.w}×${c.h}, luma ${c.left} beside it`);
    assert.equal(said(phone.lines)[0]?.stream, '360x640', 'the size as shown');
    assert.match(said(phone.lines)[0]!.msg, /width: 406, height: 720/);
    assert.ok(fourThree.lines.some((l) => l.includes('"stream":"640x480"') && l.includes('camera streaming')), 'the streaming line names the stream size');
  } finally {
    await Promise.all(cameras.map((c) => c.camera.stop()));
    await rtsp.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a stream of non-square pixels is fitted as it is shown, never squeezed: HDV 1440×1080 fills a 16:9 frame, a PAL encoder\'s 720×576 is 4:3', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-sar-'));
  // Stored 1440×1080 at 4:3 pixels, shown 1920×1080; stored 720×576 at 16:15, shown 768×576 (4:3).
  const hdv = realCamera(cameraConfig('hdv', nonSquare(squareClip(dir, 1920, 1080, 240), 1440, '4/3'), { width: 1280, height: 720, fps: 5, loop: true }));
  const pal = realCamera(cameraConfig('pal', nonSquare(squareClip(dir, 768, 576, 192), 720, '16/15'), { width: 1280, height: 720, fps: 5, loop: true }));
  const cameras = [hdv, pal];
  try {
    for (const c of cameras) c.camera.start();
    await waitFor('frames from both', () => cameras.every((c) => c.camera.latest() !== undefined), 15_000);
    await sleep(1_000);
    // Shown 1920×1080, fitted to 1280×720 at 2/3: the 240 px square is 160 px each way, and no bars.
    const a = measureSquare(hdv.camera.latest()!.image);
    assert.ok(Math.abs(a.w - 160) <= 4 && Math.abs(a.h - 160) <= 4, `HDV: the square is ${a.w}×${a.h}, not 160×160 (squeezed to 120 wide before)`);
    assert.ok(a.left > 100, `HDV: the picture reaches the frame's edge (luma ${a.left})`);
    assert.ok(!hdv.lines.some((l) => l.includes('black bars')), 'nothing to say: it is 16:9 as shown');
    // Shown 768×576, fitted at 1.25 into 960×720 at x 160: the 192 px square is 240 px.
    const b = measureSquare(pal.camera.latest()!.image);
    assert.ok(Math.abs(b.w - 240) <= 4 && Math.abs(b.h - 240) <= 4, `PAL: the square is ${b.w}×${b.h}, not 240×240`);
    assert.ok(b.left < 24, `PAL: black beside the 4:3 picture (luma ${b.left})`);
    const said = pal.lines.filter((l) => l.includes('black bars')).map((l) => JSON.parse(l) as { msg: string; stream: string; picture: string });
    assert.deepEqual([said[0]?.stream, said[0]?.picture], ['768x576', '960x720'], 'the size as shown');
  } finally {
    await Promise.all(cameras.map((c) => c.camera.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
});
