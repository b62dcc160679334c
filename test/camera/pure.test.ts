import '../support/fast-tier.js';
import { placeLabels } from '../../daemon/camera/labels.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelayMs } from '../../daemon/camera/backoff.js';
import { carriesSecret, ffmpegCommand, letterbox, splitInputArgs, type FfmpegInput, type FfmpegOutput } from '../../daemon/camera/ffmpeg-args.js';
import { classifyFfmpegStderr, ffmpegLogLine, oneLine, StderrTail } from '../../daemon/camera/ffmpeg-errors.js';
import { displayRotation, interlacedStream, parseVideoStream, sampleAspect, streamMatrix } from '../../daemon/camera/probe.js';
import { FramePool } from '../../daemon/camera/frame-pool.js';
import { FrameAssembler } from '../../daemon/camera/frame-reader.js';
import { FrameQueue } from '../../daemon/camera/frame-queue.js';
import { HourCounter, rateAttention, RateMeter } from '../../daemon/camera/health.js';
import { FfmpegLog } from '../../daemon/camera/ffmpeg-log.js';
import { sourceKind } from '../../daemon/camera/source.js';
import { cameraConfigIssues } from '../../daemon/camera/config.js';
import { ConfigError } from '../../daemon/base/config-types.js';
import { parseConfig } from '../../daemon/config/load.js';
import { redactText } from '../../daemon/base/log.js';

const base: FfmpegInput & FfmpegOutput = { url: 'rtsp://127.0.0.1/s', transport: 'tcp', hwaccel: 'none', input_args: [], watchdog_s: 10, loop: false, width: 1280, height: 720, fps: 5 };

const ffmpegArgs = (camera: FfmpegInput & FfmpegOutput) => {
  const command = ffmpegCommand(camera);
  assert.equal(command.stdin, null, 'a URL without secrets goes to -i');
  return command.args;
};

test('ffmpeg args: tcp, low start-up delay, timeout longer than the watchdog, exact raw output', () => {
  const args = ffmpegArgs({ ...base, input_args: ['-max_delay', '500000'] });
  const at = (flag: string) => args[args.indexOf(flag) + 1];
  assert.equal(at('-rtsp_transport'), 'tcp');
  assert.equal(at('-timeout'), '15000000');
  assert.equal(at('-analyzeduration'), '100000');
  assert.ok(args.indexOf('-max_delay') < args.indexOf('-i'), 'extra input args go before -i');
  assert.equal(at('-vf'), "fps=5,scale=w='max(2,trunc(min(1280,round(720*dar))/2)*2)':h='max(2,trunc(min(720,round(1280/dar))/2)*2)',setsar=1,pad=1280:720:(ow-iw)/2:(oh-ih)/2", 'fitted by its aspect as shown, never stretched');
  assert.equal(at('-fps_mode'), 'passthrough');
  assert.equal(at('-pix_fmt'), 'yuv420p');
  assert.equal(args.at(-1), 'pipe:1');
  assert.ok(!args.includes('-hwaccel'));
  assert.equal(at('-threads'), '1', 'one decoding thread per camera');
  const more = ffmpegArgs({ ...base, input_args: ['-threads', '4'] });
  const input = more.slice(0, more.indexOf('-i'));
  assert.equal(input[input.lastIndexOf('-threads') + 1], '4', "input_args come later: FFmpeg keeps the last value, the camera's own");
  const output = args.slice(args.indexOf('-i'));
  assert.equal(output[output.indexOf('-threads') + 1], '1', 'one encoder thread: a frame thread per core would each hold a frame');
});

test('letterbox: a stream of another aspect fitted inside the frame, centred, rounded to even as FFmpeg rounds', () => {
  const frame = { width: 1280, height: 720 };
  assert.deepEqual(letterbox({ width: 1920, height: 1080 }, frame), { x: 0, y: 0, width: 1280, height: 720 });
  assert.deepEqual(letterbox({ width: 640, height: 480 }, frame), { x: 160, y: 0, width: 960, height: 720 }, '4:3 pillarboxed');
  assert.deepEqual(letterbox({ width: 1080, height: 1920 }, frame), { x: 438, y: 0, width: 404, height: 720 }, 'corridor mode (9:16)');
  assert.deepEqual(letterbox({ width: 2560, height: 1080 }, frame), { x: 0, y: 90, width: 1280, height: 540 }, '21:9 letterboxed');
  assert.deepEqual(letterbox({ width: 1920, height: 1088 }, frame), { x: 4, y: 0, width: 1270, height: 720 }, 'an uncropped 1088-line stream: thin bars');
});

test('ffmpeg args: udp, hwaccel, and a looped file played in real time', () => {
  const udp = ffmpegArgs({ ...base, transport: 'udp', hwaccel: 'cuda' });
  assert.equal(udp[udp.indexOf('-rtsp_transport') + 1], 'udp');
  assert.equal(udp[udp.indexOf('-hwaccel') + 1], 'cuda');
  const file = ffmpegArgs({ ...base, url: 'file:///media/a%20b.mp4', loop: true });
  assert.ok(file.includes('-re'));
  assert.equal(file[file.indexOf('-stream_loop') + 1], '-1');
  assert.equal(file[file.indexOf('-i') + 1], '/media/a b.mp4');
  assert.ok(!file.includes('-rtsp_transport'));
});

test('ffmpeg args: key frames only are skipped in the decoder and passed as they come, whatever the URL', () => {
  const vf = (args: string[]) => args[args.indexOf('-vf') + 1]!;
  const all = ffmpegCommand(base).args;
  assert.ok(!all.includes('-skip_frame'));
  assert.match(vf(all), /^fps=5,scale=/);
  for (const url of ['rtsp://127.0.0.1/s', 'rtsp://u:p@127.0.0.1/s']) {
    const args = ffmpegCommand({ ...base, url }, false, 'keyframes').args;
    assert.equal(args[args.indexOf('-skip_frame') + 1], 'nokey');
    assert.ok(args.indexOf('-skip_frame') < args.indexOf('-i'), 'a decoder option of the input');
    assert.match(vf(args), /^scale=/, 'no fps filter to repeat each key frame up to the rate');
  }
});

test('ffmpeg args: deinterlace puts bwdif first, on interlaced frames only, and only where every frame of the main stream is read', () => {
  const vf = (args: string[]) => args[args.indexOf('-vf') + 1]!;
  const whole = { ...base, fps: 15, deinterlace: true, sub_url: 'rtsp://127.0.0.1:554/Streaming/Channels/102' };
  assert.match(vf(ffmpegCommand(whole).args), /^bwdif=mode=send_frame:parity=auto:deint=interlaced,fps=15,scale=/, 'before the rate picks frames and before scaling blends the fields');
  assert.match(vf(ffmpegCommand(whole, false, 'keyframes').args), /^scale=/, 'a deinterlacer would hold each key frame a GOP');
  assert.match(vf(ffmpegCommand(whole, false, 'sub_stream').args), /^fps=5,scale=/, 'a quiet spell only watches for the next visitor');
  assert.match(vf(ffmpegCommand({ ...base, deinterlace: false }).args), /^fps=5,scale=/, 'off: as before');
});

test('interlaced stream: a stream line naming a field order is interlaced; progressive, or none said, is not', () => {
  const line = (fmt: string) => `  Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), ${fmt}, 720x576 [SAR 16:15 DAR 4:3], 25 fps`;
  for (const fmt of ['yuv420p(top first)', 'yuv420p(tv, bt470bg, bottom first)', 'yuv420p(top coded first (swapped))', 'yuv420p(bottom coded first (swapped))', 'yuvj420p(pc, bt709/bt709/bt709, top first)']) {
    assert.equal(interlacedStream(line(fmt)), true, fmt);
  }
  for (const fmt of ['yuv420p(progressive)', 'yuv420p(tv, bt709, progressive)', 'yuv420p', 'yuv420p(tv, bt709)']) assert.equal(interlacedStream(line(fmt)), false, fmt);
  assert.equal(parseVideoStream([line('yuv420p(top first)')])?.interlaced, true);
  assert.equal(parseVideoStream([line('yuv420p(progressive)')])?.interlaced, false);
});

test("ffmpeg args: a quiet camera's sub stream is read instead of its URL, every frame decoded, five a second handed over, fitted to the frame; its password never reaches argv", () => {
  const sub = 'rtsp://admin:sub%40pw@127.0.0.1:554/Streaming/Channels/102';
  const command = ffmpegCommand({ ...base, fps: 15, url: 'rtsp://127.0.0.1:554/Streaming/Channels/101', sub_url: sub }, false, 'sub_stream');
  const args = command.args;
  assert.ok(!args.join(' ').includes('sub%40pw') && !args.join(' ').includes('Channels/101'), args.join(' '));
  assert.match(command.stdin ?? '', /^file 'rtsp:\/\/admin:sub%40pw@127\.0\.0\.1:554\/Streaming\/Channels\/102'$/m);
  assert.ok(!args.includes('-skip_frame'), 'every frame of the sub stream');
  assert.match(args[args.indexOf('-vf') + 1]!, /^fps=5,scale=w='max\(2,trunc\(min\(1280,round\(720\*dar\)\)/, 'five looks a second of a camera at 15, fitted to the frame');
  assert.throws(() => ffmpegCommand(base, false, 'sub_stream'), /without sub_url/);
});

test('ffmpeg args: a URL with a password never reaches argv; FFmpeg reads it and the RTSP options from stdin', () => {
  const url = "rtsp://admin:Pl@nt:ed%2540Pw'q@127.0.0.1:554/s";
  const command = ffmpegCommand({ ...base, url, input_args: ['-rtsp_flags', 'prefer_tcp', '-hwaccel_device', '/dev/dri/renderD128', '-re', '-max_delay', '500000'] });
  assert.ok(!command.args.join(' ').includes('Pl@nt'), command.args.join(' '));
  const at = (flag: string) => command.args[command.args.indexOf(flag) + 1];
  assert.equal(at('-i'), 'pipe:0');
  assert.equal(at('-f'), 'concat');
  assert.equal(at('-hwaccel_device'), '/dev/dri/renderD128', "FFmpeg's own options stay on its command line");
  assert.ok(command.args.includes('-re'));
  assert.ok(!command.args.includes('-rtsp_flags') && !command.args.includes('-rtsp_transport'), 'demuxer options are not for the concat demuxer');
  assert.equal(
    command.stdin,
    [
      'ffconcat version 1.0',
      "file 'rtsp://admin:Pl@nt:ed%2540Pw'\\''q@127.0.0.1:554/s'",
      "option analyzeduration '100000'",
      "option probesize '32768'",
      "option rtsp_transport 'tcp'",
      "option timeout '15000000'",
      "option rtsp_flags 'prefer_tcp'",
      "option max_delay '500000'",
      '',
    ].join('\n'),
  );
  // A token in the query is a secret too; a plain URL and a file are given to -i as before.
  assert.equal(ffmpegCommand({ ...base, url: 'http://cam/video.mjpg?user=a&pwd=b' }).stdin?.includes('pwd=b'), true);
  assert.equal(ffmpegCommand({ ...base, url: 'rtsp://cam/s' }).stdin, null);
  assert.deepEqual([carriesSecret('rtsp://u@h/'), carriesSecret('rtsp://h/a?b'), carriesSecret('rtsp://h/a'), carriesSecret('/a@b.mp4')], [true, true, false, false]);
});

test('ffmpeg args: input_args that are not options, an option without its value, and a line break are refused with their codes', () => {
  const url = 'rtsp://u:p@h/s';
  assert.throws(() => ffmpegCommand({ ...base, url, input_args: ['prefer_tcp'] }), (e: unknown) => (e as { code?: string }).code === 'FG_ERR_CAMERA_INPUT_ARGS');
  assert.throws(() => ffmpegCommand({ ...base, url, input_args: ['-rtsp_flags'] }), (e: unknown) => (e as { code?: string }).code === 'FG_ERR_CAMERA_INPUT_ARGS');
  assert.throws(() => ffmpegCommand({ ...base, url: 'rtsp://u:p@h/s\nfile /etc/shadow' }), (e: unknown) => (e as { code?: string }).code === 'FG_ERR_CAMERA_URL');
  assert.deepEqual(splitInputArgs(['-stream_loop', '-1', '-an', '-user_agent', 'x']), { cli: ['-stream_loop', '-1', '-an'], options: [['user_agent', 'x']] });
});

test('source kinds and credential redaction anywhere in a line', () => {
  assert.equal(sourceKind('rtsp://cam/1'), 'rtsp');
  assert.equal(sourceKind('/videos/a.mp4'), 'file');
  assert.equal(sourceKind('file:///a.mp4'), 'file');
  assert.equal(sourceKind('http://127.0.0.1/x.m3u8'), 'stream');
  assert.equal(
    redactText('[tcp] rtsp://admin:p@ss@127.0.0.1:554/a failed; http://u:v@h/x'),
    '[tcp] rtsp://***@127.0.0.1:554/a failed; http://***@h/x',
  );
});

test('stderr reduced to one useful line per cause', () => {
  const cases: [string[], string, RegExp][] = [
    [['[rtsp @ 0x1] method DESCRIBE failed: 401 Unauthorized'], 'unauthorized', /401/],
    [['rtsp://a:b@h/x: Server returned 404 Not Found'], 'not_found', /404 stream not found/],
    [['[tcp @ 0x2] Connection to tcp://127.0.0.1:1?timeout=0 failed: Connection refused'], 'refused', /connection refused/],
    [['rtsp://h/x: Connection timed out'], 'timeout', /timeout/],
    [['Failed to resolve hostname nowhere.invalid: Name or service not known'], 'unreachable', /unreachable/],
    [['/etc/passwd: Invalid data found when processing input'], 'not_video', /not a video/],
    [['Stream map \'0:v:0\' matches no streams.'], 'not_video', /not a video/],
    [['[rtsp @ 0x3] Could not find codec parameters for stream 0 (Video: none): unknown codec'], 'codec', /codec unsupported/],
    // FFmpeg 5.1 with -hwaccel cuda and with -hwaccel vaapi on a box without them (the vaapi line names a missing file).
    [['[AVHWDeviceContext @ 0x5] Cannot load libcuda.so.1', 'Device creation failed: -1.', '[h264 @ 0x6] No device available for decoder: device type cuda needed for codec h264.', 'Device setup failed for decoder on input stream #0:0 : Operation not permitted'], 'codec', /hardware decoding unavailable.*hwaccel: none/],
    [['[AVHWDeviceContext @ 0x7] No VA display found for device /dev/dri/renderD128: No such file or directory', 'Device creation failed: -542398533.'], 'codec', /hardware decoding unavailable/],
  ];
  for (const [lines, kind, message] of cases) {
    const f = classifyFfmpegStderr(lines);
    assert.equal(f.kind, kind, lines[0]);
    assert.match(f.message, message);
  }
  const other = classifyFfmpegStderr(['', '[h264 @ 0xabc] something odd at rtsp://x:y@h/z']);
  assert.equal(other.kind, 'other');
  assert.equal(other.message, 'something odd at rtsp://***@h/z');
  assert.equal(classifyFfmpegStderr([]).message, 'FFmpeg exited without saying why');
  assert.equal(oneLine('x'.repeat(500)).length, 200);
});

test('stderr tail keeps the last lines only, split across chunks', () => {
  const tail = new StderrTail(3);
  tail.push('a\nb\r\nc');
  tail.push('d\ne\n');
  assert.deepEqual(tail.all(), ['b', 'cd', 'e']);
  tail.push('partial');
  assert.deepEqual(tail.all(), ['b', 'cd', 'e', 'partial']);
});

test('backoff: doubles from the base, capped, jitter within [d/2, d]', () => {
  const policy = { baseMs: 500, maxMs: 30_000 };
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 50].map((a) => backoffDelayMs(a, policy, () => 1)), [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  assert.equal(backoffDelayMs(3, policy, () => 0), 1000);
  for (let i = 0; i < 100; i++) {
    const d = backoffDelayMs(4, policy, Math.random);
    assert.ok(d >= 2000 && d <= 4000);
  }
});

test('frame assembler: exact frames from arbitrary chunks, fresh buffer each', () => {
  const frames: Uint8Array[] = [];
  const asm = new FrameAssembler(6, (f) => frames.push(f));
  asm.push(Uint8Array.from([1, 2, 3, 4]));
  asm.push(Uint8Array.from([5, 6, 7, 8, 9, 10, 11, 12, 13]));
  assert.deepEqual(frames.map((f) => [...f]), [[1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12]]);
  assert.notEqual(frames[0]?.buffer, frames[1]?.buffer);
  assert.equal(asm.pending, 1);
  assert.throws(() => new FrameAssembler(0, () => {}), RangeError);
});

test('frame assembler as a sink: a read fills the rest of the frame in place, a frame goes on when full, a count past the free bytes is refused', () => {
  const frames: Uint8Array[] = [];
  const asm = new FrameAssembler(6, (f) => frames.push(f));
  const first = asm.next();
  assert.equal(first.length, 6);
  first.set([1, 2, 3, 4]);
  asm.filled(4);
  const rest = asm.next();
  assert.equal(rest.length, 2);
  assert.equal(rest.buffer, first.buffer, 'the same frame buffer, past what is filled');
  rest.set([5, 6]);
  asm.filled(2);
  assert.deepEqual(frames.map((f) => [...f]), [[1, 2, 3, 4, 5, 6]]);
  assert.equal(asm.next().length, 6, 'a new frame');
  assert.notEqual(asm.next().buffer, first.buffer);
  assert.throws(() => asm.filled(7), RangeError);
  assert.throws(() => asm.filled(-1), RangeError);
  assert.equal(asm.pending, 0);
});

test('frame queue of depth 1: the newest wins, dropped counted, waiters woken, close ends readers', async () => {
  const queue = new FrameQueue<number>(1);
  queue.put(1);
  queue.put(2);
  queue.put(3);
  assert.equal(await queue.take(), 3);
  assert.equal(queue.dropped, 2);
  const waiting = queue.take();
  queue.put(4);
  assert.equal(await waiting, 4);
  assert.equal(queue.peek(), 4);
  const ac = new AbortController();
  const aborted = queue.take(ac.signal);
  ac.abort();
  assert.equal(await aborted, undefined);
  const closed = queue.take();
  queue.close();
  assert.equal(await closed, undefined);
  assert.equal(queue.taken, 2);
  assert.throws(() => new FrameQueue(0), RangeError);
});

test('frame queue of depth 2: a late reader gets the frames in order; one that stays behind loses the oldest', async () => {
  const queue = new FrameQueue<number>(2);
  queue.put(1);
  queue.put(2);
  assert.equal(queue.peek(), 2);
  assert.equal(await queue.take(), 1, 'a moment late: nothing lost');
  queue.put(3);
  assert.equal(await queue.take(), 2);
  assert.equal(await queue.take(), 3);
  assert.equal(queue.dropped, 0);
  queue.put(4);
  queue.put(5);
  queue.put(6);
  assert.equal(queue.dropped, 1);
  assert.deepEqual([await queue.take(), await queue.take()], [5, 6], 'the oldest was dropped, at most two frames behind');
});

test('frame queue hooks: a reader is told synchronously when it takes a value, and the queue when it lets one go', async () => {
  const log: string[] = [];
  const queue = new FrameQueue<number>(1, { onTake: (v) => log.push(`take ${v}`), onEvict: (v) => log.push(`evict ${v}`) });
  queue.put(1);
  queue.put(2);
  assert.deepEqual(log, ['evict 1']);
  assert.equal(await queue.take(), 2);
  const waiting = queue.take();
  queue.put(3);
  // Taken inside put, before anything else can run: a later put in the same turn cannot reuse it first.
  assert.deepEqual(log, ['evict 1', 'take 2', 'evict 2', 'take 3']);
  assert.equal(await waiting, 3);
  queue.close();
  assert.deepEqual(log.slice(4), ['evict 3']);
  queue.put(4);
  assert.deepEqual(log.slice(5), ['evict 4'], 'a value put after close is let go at once');
  assert.equal(queue.peek(), undefined);
});

test('frame queue over a frame pool: no buffer is handed out while the queue, the reader or peek() holds it, and all come back at close (random runs)', async () => {
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let run = 0; run < 200; run++) {
    const depth = 1 + Math.floor(random() * 3);
    const pool = new FramePool(4, depth + 2);
    const queue = new FrameQueue<Uint8Array>(depth, { onTake: (b) => pool.retain(b), onEvict: (b) => pool.release(b) });
    let taken: Uint8Array | undefined;
    const inUse = () => new Set([...(taken ? [taken] : []), ...(queue.peek() ? [queue.peek()!] : [])]);
    for (let step = 0; step < 60; step++) {
      if (random() < 0.6) {
        const b = pool.acquire();
        assert.ok(!inUse().has(b), `run ${run} step ${step}: a held buffer was handed out`);
        queue.put(b);
      } else {
        if (taken) pool.release(taken);
        taken = undefined;
        const ac = new AbortController();
        const next = queue.take(ac.signal);
        ac.abort();
        taken = await next;
      }
    }
    if (taken) pool.release(taken);
    queue.close();
    assert.equal(pool.held, 0, `run ${run}: every buffer back after close`);
  }
});

test('frame pool: held buffers are never handed out; released ones are; a full pool hands out plain buffers', () => {
  const pool = new FramePool(12, 2);
  const a = pool.acquire();
  const b = pool.acquire();
  assert.ok(a.buffer instanceof SharedArrayBuffer && b.buffer instanceof SharedArrayBuffer && a !== b);
  const c = pool.acquire();
  assert.ok(!(c.buffer instanceof SharedArrayBuffer), 'all held: a plain buffer');
  assert.equal(pool.overflows, 1);
  pool.retain(a);
  pool.release(a);
  assert.ok(!(pool.acquire().buffer instanceof SharedArrayBuffer), 'still held once');
  pool.release(a);
  assert.equal(pool.acquire(), a, 'the last holder gave it back');
  pool.release(c); // not the pool's: nothing happens
  assert.equal(pool.held, 2);
  assert.throws(() => new FramePool(0, 1), RangeError);
});

test('rate meter and hour counter forget old events', () => {
  const m = new RateMeter(5000);
  for (let t = 0; t < 10_000; t += 200) m.mark(t);
  assert.equal(m.rate(10_000), 5);
  assert.equal(m.rate(20_000), 0);
  const h = new HourCounter();
  h.mark(0);
  h.mark(1000);
  assert.equal(h.count(2000), 2);
  assert.equal(h.count(3_600_500), 1);
});

test('config: defaults filled, bad values and duplicate names rejected with their paths', () => {
  const config = parseConfig('cameras:\n  - name: door\n    url: rtsp://127.0.0.1/a\n', 'test.yaml');
  const door = config.cameras[0];
  assert.equal(door?.width, 1280);
  assert.equal(door?.transport, 'tcp');
  assert.equal(door?.watchdog_s, 10);
  assert.equal(door?.backoff_max_s, 30);
  assert.equal(config.live_view.enabled, false);
  assert.throws(() => parseConfig('cameras:\n  - name: Door!\n    url: x\n    transport: quic\n', 't.yaml'), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    const paths = e.issues.map((i) => i.path);
    assert.ok(paths.includes('cameras.0.name') && paths.includes('cameras.0.transport'), paths.join());
    return true;
  });
  const twice = parseConfig('cameras:\n  - { name: a, url: x }\n  - { name: a, url: y }\n', 't.yaml');
  assert.deepEqual(cameraConfigIssues(twice.cameras), [{ path: 'cameras.1.name', message: 'duplicate camera name "a" (also cameras.0.name)' }]);
  const idle = parseConfig('cameras:\n  - { name: a, url: /srv/a.mp4, idle_keyframes_after_s: 30 }\n  - { name: b, url: "rtsp://cam/s", idle_keyframes_after_s: 30 }\n', 't.yaml');
  assert.deepEqual(cameraConfigIssues(idle.cameras).map((i) => i.path), ['cameras.0.idle_keyframes_after_s'], 'a file would play again from its start at each switch');
  const subs = parseConfig(
    'cameras:\n  - { name: a, url: "rtsp://cam/101", sub_url: "rtsp://cam/102", idle_keyframes_after_s: 10 }\n  - { name: b, url: "rtsp://cam/101", sub_url: "rtsp://cam/102" }\n  - { name: c, url: "rtsp://cam/101", sub_url: /srv/c.mp4, idle_keyframes_after_s: 10 }\n',
    't.yaml',
  );
  assert.deepEqual(
    cameraConfigIssues(subs.cameras).map((i) => [i.path, i.message]),
    [
      ['cameras.1.sub_url', 'camera "b": the sub stream is watched only while the scene is quiet, and idle_keyframes_after_s is 0 (never quiet); set idle_keyframes_after_s (e.g. 10), or remove sub_url'],
      ['cameras.2.sub_url', 'camera "c": sub_url names a file; expected the camera\'s second stream (rtsp://...)'],
    ],
  );
  assert.equal(door?.idle_keyframes_after_s, 0, 'every frame, always, unless asked');
});

test('stream matrix: BT.709 only where the stream line says its matrix is, else BT.601 as FFmpeg assumes', () => {
  const line = (fmt: string) => `  Stream #0:0: Video: h264 (Main), ${fmt}, 1920x1080 [SAR 1:1 DAR 16:9], 15 fps`;
  assert.equal(streamMatrix(line('yuv420p(tv, bt709, progressive)')), 'bt709');
  assert.equal(streamMatrix(line('yuv420p(tv, bt709/unknown/unknown)')), 'bt709', 'matrix/primaries/transfer when they differ');
  assert.equal(streamMatrix(line('yuvj420p(pc, bt470bg/bt709/bt709)')), 'bt601', 'BT.709 primaries, BT.601 matrix');
  assert.equal(streamMatrix(line('yuv420p(tv, smpte170m, progressive)')), 'bt601');
  assert.equal(streamMatrix(line('yuv420p(progressive)')), 'bt601');
  assert.equal(streamMatrix(line('yuv420p')), 'bt601');
  assert.equal(parseVideoStream([line('yuv420p(tv, bt709)')])?.matrix, 'bt709');
});

test("display rotation: the degrees of a stream's display matrix line, none on other lines", () => {
  assert.equal(displayRotation('      displaymatrix: rotation of 90.00 degrees'), 90);
  assert.equal(displayRotation('      displaymatrix: rotation of -90.00 degrees'), -90);
  assert.equal(displayRotation('      displaymatrix: rotation of -0.00 degrees'), -0);
  assert.equal(displayRotation('  Stream #0:0: Video: h264 (Main), yuv420p, 1920x1080'), undefined);
});

test('ffmpeg log lines: the level tag is taken out after the context, untagged lines pass as they are', () => {
  assert.deepEqual(ffmpegLogLine('[tcp @ 0x55e] [error] Connection refused'), { level: 'error', text: '[tcp @ 0x55e] Connection refused' });
  assert.deepEqual(ffmpegLogLine('[info]   Stream #0:0: Video: h264'), { level: 'info', text: '  Stream #0:0: Video: h264' });
  assert.deepEqual(ffmpegLogLine('rtsp://x: 401 Unauthorized'), { level: undefined, text: 'rtsp://x: 401 Unauthorized' });
  const tail = new StderrTail(5, (l) => (ffmpegLogLine(l).level === 'info' ? undefined : ffmpegLogLine(l).text));
  tail.push('[info] Input #0\n[error] bad\nplain\n');
  assert.deepEqual(tail.all(), ['bad', 'plain']);
});

test('ffmpeg log lines from a hostile stream (fuzzed): never throw, stay bounded, say only one of the two matrices', () => {
  let seed = 11;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const pieces = ['[info] ', '[error] ', '[x @ 0x1f] ', 'Stream #0:0: Video: ', 'h264', '(', ')', ', ', 'yuv420p', 'bt709', '/', '1920x1080', '\u0000', '\r', 'é', ' '];
  const tail = new StderrTail(5, (l) => ffmpegLogLine(l).text);
  for (let i = 0; i < 2000; i++) {
    const line = Array.from({ length: Math.floor(random() * 40) }, () => pieces[Math.floor(random() * pieces.length)]!).join('');
    assert.ok(['bt601', 'bt709'].includes(streamMatrix(line)));
    assert.equal(typeof ffmpegLogLine(line).text, 'string');
    tail.push(line + '\n');
  }
  tail.push('x'.repeat(100_000));
  assert.ok(tail.all().length <= 6 && tail.all().every((l) => l.length <= 2000), 'at most five lines and a partial one, each cut to 2000 characters');
});

test('labels: two faces side by side get labels that do not cover each other; one at the right edge stays inside the picture', () => {
  const size = { width: 120, height: 20 };
  const overlap = (a: { x: number; y: number }, b: { x: number; y: number }) => a.x < b.x + size.width && b.x < a.x + size.width && a.y < b.y + size.height && b.y < a.y + size.height;
  const close = placeLabels([{ x: 100, y: 100, w: 60, h: 60 }, { x: 150, y: 105, w: 60, h: 60 }], [size, size], 640, 360);
  assert.ok(!overlap(close[0]!, close[1]!), `labels at ${JSON.stringify(close)} overlap`);
  assert.deepEqual(close[0], { x: 100, y: 78 }, 'the first stays right above its box');
  const edge = placeLabels([{ x: 600, y: 100, w: 40, h: 40 }], [size], 640, 360);
  assert.deepEqual(edge, [{ x: 520, y: 78 }], 'moved left to end at the right edge');
  const top = placeLabels([{ x: 10, y: 0, w: 40, h: 40 }], [size], 640, 360);
  assert.deepEqual(top, [{ x: 10, y: 42 }], 'below a box that touches the top');
});

test('sample aspect: what a stream line declares a pixel to be as shown; square where it says none, unknown or what no camera sends', () => {
  const line = (sar: string) => `  Stream #0:0: Video: h264 (High), yuv420p(progressive), 1440x1080 ${sar}, 25 fps`;
  assert.equal(sampleAspect(line('[SAR 4:3 DAR 16:9]')), 4 / 3, 'HDV');
  assert.equal(sampleAspect(line('[SAR 16:15 DAR 4:3]')), 16 / 15, 'PAL D1 from an analog encoder');
  assert.equal(sampleAspect(line('[SAR 1:1 DAR 4:3]')), 1);
  assert.equal(sampleAspect(line('')), 1, 'none said');
  assert.equal(sampleAspect(line('[SAR 0:1 DAR 0:1]')), 1, 'unknown');
  assert.equal(sampleAspect(line('[SAR 1:0 DAR 1:0]')), 1, 'no ratio at all');
  assert.equal(sampleAspect(line('[SAR 99999:1 DAR 99999:1]')), 1, 'no camera');
  assert.equal(parseVideoStream([line('[SAR 4:3 DAR 16:9]')])?.sar, 4 / 3);
});

test("FfmpegLog: a stream of non-square pixels is sized as shown, so its letterbox is the display aspect's", () => {
  const log = new FfmpegLog();
  log.push('[info]   Stream #0:0: Video: h264 (High), yuv420p(progressive), 1440x1080 [SAR 4:3 DAR 16:9], 25 fps, 25 tbr, 90k tbn\n');
  assert.deepEqual(log.streamSize, { width: 1920, height: 1080 });
  assert.deepEqual(letterbox(log.streamSize!, { width: 1280, height: 720 }), { x: 0, y: 0, width: 1280, height: 720 }, 'no bars: it is 16:9 as shown');
  const pal = new FfmpegLog();
  pal.push('[info]   Stream #0:0: Video: h264 (Main), yuv420p(progressive), 720x576 [SAR 16:15 DAR 4:3], 25 fps\n');
  assert.deepEqual(letterbox(pal.streamSize!, { width: 1280, height: 720 }), { x: 160, y: 0, width: 960, height: 720 }, '4:3 as shown, pillarboxed');
});

test("FfmpegLog: the input stream's declared rate, not the output's asked one", () => {
  const log = new FfmpegLog();
  log.push('[info]   Stream #0:0: Video: h264 (Main), yuv420p(progressive), 1920x1080 [SAR 1:1 DAR 16:9], 5 fps, 5 tbr, 90k tbn\n');
  log.push('[info]   Stream #0:0: Video: rawvideo (I420 / 0x30323449), yuv420p, 1280x720, q=2-31, 15 fps, 15 tbn\n');
  assert.equal(log.sourceFps, 5);
  const next = new FfmpegLog();
  assert.equal(next.sourceFps, null);
  next.push('[info]   Stream #0:0: Video: h264 (Main), yuv420p, 1280x720, 90k tbr, 90k tbn\n');
  assert.equal(next.sourceFps, null, 'a stream that declares no rate says nothing');
});

test('rateAttention: only what needs doing, with the next step; skipped frames and a warming-up meter never alone', () => {
  const h = { camera: 'door', state: 'streaming' as const, decoding: 'all' as const, fps_in: 15, fps_asked: 15, fps_source: 25 };
  assert.equal(rateAttention(h, 60_000), null, 'a camera faster than asked: FFmpeg drops the rest, as it should');
  assert.equal(rateAttention({ ...h, fps_source: 14.99 }, 60_000), null, 'an NTSC-style 15000/1001 is the 15 it means');
  const slowCamera = rateAttention({ ...h, fps_source: 5, fps_in: 16.4 }, 60_000);
  assert.match(slowCamera?.message ?? '', /the camera itself sends 5 fps, fewer than the 15 fps asked for: FFmpeg repeats frames/);
  assert.match(slowCamera?.hint ?? '', /raise the frame rate in the camera's own video settings to 15 fps, or set fps: 5 for camera "door"/);
  const short = rateAttention({ ...h, fps_source: null, fps_in: 9.2 }, 60_000);
  assert.match(short?.message ?? '', /^9\.2 fps read of the 15 fps asked for/);
  assert.match(short?.hint ?? '', /facegate camera test --camera door/);
  assert.equal(rateAttention({ ...h, fps_source: null, fps_in: 9.2 }, 3000), null, 'the rate window not yet full after a (re)connect');
  assert.equal(rateAttention({ ...h, state: 'backoff', fps_source: 5 }, 60_000), null, 'a camera not streaming has its own state and error');
  assert.equal(rateAttention({ ...h, decoding: 'keyframes', fps_source: null, fps_in: 0.5 }, 60_000), null, 'a quiet camera decoding key frames alone reads few, by design');
  assert.equal(rateAttention({ ...h, decoding: 'sub_stream', fps_source: 5 }, 60_000), null, "a sub stream's rate is not the main stream's");
});
