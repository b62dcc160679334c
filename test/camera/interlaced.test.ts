// An interlaced camera (as analog encoders and 1080i cameras send): a real RTSP server on 127.0.0.1
// serving a real broadcast clip woven into fields by FFmpeg, read by the real camera stage with and
// without `deinterlace`, and named by `facegate camera test` (test/ops/doctor.test.ts: by doctor); the
// same clip as a file, as a scan or an enrolment from a video reads it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { videoFrames } from '../../daemon/camera/video-file.js';
import { runCli } from '../support/cli.js';
import { FakeCamera } from '../support/fake-camera.js';
import { media, mediaMissing } from '../support/media.js';
import { cameraConfig, realCamera } from './helpers.js';

const CLIP = 'video_cctv/short_hamilton_clip.mp4';
const skip = mediaMissing(CLIP) ? `needs ../shared/media/${CLIP}` : false;
const W = 640;
const H = 360;

let dir: string;
let camera: FakeCamera;
before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'fg-interlaced-'));
  // Two frames of the 29.97 fps clip woven into one, top field first, coded as interlaced H.264:
  // the fields of a frame are 1/30 s apart, as a 1080i60 camera's are 1/60 s apart. From 1.2 s in,
  // past the clip's still title.
  const clip = join(dir, 'interlaced.mp4');
  execFileSync('ffmpeg', ['-v', 'error', '-ss', '1.2', '-i', media(CLIP), '-t', '4', '-an', '-vf', 'tinterlace=interleave_top', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-flags', '+ildct+ilme', '-x264-params', 'tff=1', '-g', '15', '-pix_fmt', 'yuv420p', clip]);
  camera = await FakeCamera.start({ width: W, height: H, fps: 15, video: clip });
});
after(async () => {
  await camera?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/**
 * How much each row differs from the rows beside it (the other field's) against the rows two away
 * (its own field's), over the luma plane: ~0.5 on a progressive picture, where neighbours are
 * alike; far above 1 where the two fields show a scene that moved between them.
 */
function combing(luma: Uint8Array, width: number, height: number): number {
  let across = 0;
  let within = 0;
  for (let y = 2; y < height - 2; y++) {
    for (let x = 0; x < width; x++) {
      const p = luma[y * width + x]!;
      across += Math.abs(p - (luma[(y - 1) * width + x]! + luma[(y + 1) * width + x]!) / 2);
      within += Math.abs(p - (luma[(y - 2) * width + x]! + luma[(y + 2) * width + x]!) / 2);
    }
  }
  return across / within;
}

/** The median combing of a camera's first `n` frames, and its log. */
async function combingOf(deinterlace: boolean, n: number): Promise<{ combing: number; lines: string[] }> {
  const { camera: cam, lines } = realCamera(cameraConfig(deinterlace ? 'whole' : 'woven', camera.url('/video'), { width: W, height: H, fps: 15, deinterlace }));
  const ac = new AbortController();
  const values: number[] = [];
  const frames = cam.frames(ac.signal);
  cam.start();
  try {
    for await (const f of frames) {
      // The frame's buffer goes back to the pool after this step: measured here.
      values.push(combing(f.image.data, f.image.width, f.image.height));
      if (values.length >= n) break;
    }
  } finally {
    ac.abort();
    await cam.stop();
  }
  return { combing: median(values), lines };
}

function median(values: number[]): number {
  values.sort((a, b) => a - b);
  return values[Math.floor(values.length / 2)]!;
}

test('an interlaced camera read with deinterlace gives whole frames; without it, the two fields\' lines show where anything moved, and its log says how to read it whole', { skip, timeout: 120_000 }, async () => {
  const woven = await combingOf(false, 30);
  const whole = await combingOf(true, 30);
  console.log(`# combing (rows against their neighbours over rows two away), median of 30 frames: ${woven.combing.toFixed(2)} without deinterlace, ${whole.combing.toFixed(2)} with it`);
  assert.ok(woven.combing > 2, `the fields' lines show: ${woven.combing.toFixed(2)}`);
  assert.ok(whole.combing < 1, `whole frames: ${whole.combing.toFixed(2)}`);
  // The camera's log says it is interlaced, and tells how to read it whole, once, only where it is not.
  const said = (lines: string[]) => lines.filter((l) => l.includes('FG_WARN_CAMERA_INTERLACED')).length;
  assert.equal(said(woven.lines), 1, woven.lines.join(''));
  assert.match(woven.lines.find((l) => l.includes('FG_WARN_CAMERA_INTERLACED'))!, /set deinterlace: true for this camera/);
  assert.equal(said(whole.lines), 0);
  assert.ok([...woven.lines, ...whole.lines].filter((l) => l.includes('"camera streaming"')).every((l) => l.includes('"interlaced":true')), 'the streaming line says so');
});

test('a video file (a scan, an enrolment from a clip) is read whole when it is interlaced, and as it is when it is progressive', { skip, timeout: 120_000 }, async () => {
  const medianCombing = async (file: string) => {
    const values: number[] = [];
    for await (const { image } of videoFrames(file, { fps: 15 })) {
      values.push(combing(image.data, image.width, image.height));
      if (values.length >= 30) break;
    }
    return median(values);
  };
  const woven = join(dir, 'interlaced.mp4');
  const whole = await medianCombing(woven);
  console.log(`# combing of the woven file read by videoFrames, median of 30 frames: ${whole.toFixed(2)}`);
  assert.ok(whole < 1, `whole frames: ${whole.toFixed(2)}`);

  // A progressive file's frames are the decoder's, byte for byte, as many of them.
  const progressive = join(dir, 'progressive.mp4');
  execFileSync('ffmpeg', ['-v', 'error', '-ss', '1.2', '-i', media(CLIP), '-t', '1', '-an', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-pix_fmt', 'yuv420p', progressive]);
  const plain = execFileSync('ffmpeg', ['-v', 'error', '-i', progressive, '-vf', 'fps=15', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', 'pipe:1'], { maxBuffer: 256 * 1024 * 1024 });
  const read: Buffer[] = [];
  for await (const { image } of videoFrames(progressive, { fps: 15 })) read.push(Buffer.from(image.data));
  assert.ok(read.length >= 14, `${read.length} frames`);
  assert.ok(Buffer.concat(read).equals(plain), 'the same bytes as FFmpeg decodes without the deinterlacer');
});

test('camera test says a camera is interlaced, and tells how to read it whole until deinterlace is set', { skip, timeout: 120_000 }, async () => {
  const url = camera.url('/video');
  const plain = await runCli(['camera', 'test', url]);
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stdout, /^scan\s+interlaced$/m);
  assert.match(plain.stdout, /^warning\s+FG_WARN_CAMERA_INTERLACED: the camera sends interlaced video: a moving face shows the lines of two fields\nfix\s+set deinterlace: true for the camera/m);

  const config = join(dir, 'config.yaml');
  writeFileSync(config, ['cameras:', `  - { name: analog, url: "${url}", width: ${W}, height: ${H} }`, `  - { name: fixed, url: "${url}", width: ${W}, height: ${H}, deinterlace: true }`].join('\n') + '\n');
  const named = JSON.parse((await runCli(['camera', 'test', '--camera', 'analog', '--config', config, '--json'])).stdout);
  assert.equal(named.interlaced, true);
  assert.deepEqual(named.warnings.map((w: { code: string }) => w.code), ['FG_WARN_CAMERA_INTERLACED']);
  assert.match(named.warnings[0].hint, /^set deinterlace: true for camera "analog"/);
  const fixed = JSON.parse((await runCli(['camera', 'test', '--camera', 'fixed', '--config', config, '--json'])).stdout);
  assert.deepEqual([fixed.interlaced, fixed.warnings], [true, []], 'deinterlaced: nothing to say');
});

test('camera test says a progressive stream is progressive, with no warning', { skip, timeout: 60_000 }, async () => {
  const progressive = await FakeCamera.start({ width: 320, height: 180, fps: 5 });
  try {
    const r = await runCli(['camera', 'test', progressive.url(), '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual([out.interlaced, out.warnings], [false, []]);
  } finally {
    await progressive.stop();
  }
});
