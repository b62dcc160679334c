// `facegate camera test` against the real fake camera, through the CLI's own entry point.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Socket } from 'node:net';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { runCli } from '../support/cli.js';
import { FakeCamera } from '../support/fake-camera.js';

let camera: FakeCamera;
let dir: string;
before(async () => {
  camera = await FakeCamera.start({ width: 1280, height: 720, fps: 5, password: 'secret' });
  dir = mkdtempSync(join(tmpdir(), 'facegate-camera-cli-'));
});
after(async () => {
  await camera?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The built CLI as its own process. A URL with a password goes on stdin ('-'): the command refuses it on its command line. */
async function cli(...argv: string[]) {
  const secret = argv[0]?.includes('@');
  const args = secret ? ['-', ...argv.slice(1)] : argv;
  return runCli(['camera', 'test', ...args], { input: `${argv[0]}\n` });
}

test('camera test: codec, resolution, fps, time to first frame, and one frame saved as JPEG', async () => {
  const file = join(dir, 'frame.jpg');
  const r = await cli(camera.url('/pattern', 'admin:secret'), '--save', file, '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.codec, 'h264');
  assert.equal(out.width, 1280);
  assert.equal(out.height, 720);
  assert.deepEqual([out.shown_width, out.shown_height], [1280, 720], 'square pixels: shown as stored');
  assert.equal(out.fps, 5);
  assert.ok(out.time_to_first_frame_ms > 0 && out.time_to_first_frame_ms < 15_000);
  assert.equal(out.source, `rtsp://***@127.0.0.1:${camera.port}/pattern`);
  const meta = await sharp(file).metadata();
  assert.equal(meta.format, 'jpeg');
  assert.equal(meta.width, 1280);
  console.log(`# camera test: time to first frame ${out.time_to_first_frame_ms} ms`);

  const text = await cli(camera.url('/pattern', 'admin:secret'));
  assert.equal(text.code, 0);
  assert.match(text.stdout, /resolution\s+1280x720\n/);
  assert.ok(!text.stdout.includes('secret'));
});

test('camera test: a stream of non-square pixels says its size as shown, the size to set, and saves its frame as shown', async () => {
  // HDV's 1440×1080 with 4:3 pixels: shown 1920×1080.
  const clip = join(dir, 'hdv.mp4');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=s=1920x1080:r=5:d=2,scale=1440:1080,setsar=4/3', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'veryfast', clip]);
  const hdv = await FakeCamera.start({ width: 1440, height: 1080, fps: 5, video: clip });
  try {
    const file = join(dir, 'hdv.jpg');
    const r = await cli(hdv.url('/video'), '--save', file, '--json');
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual([out.width, out.height, out.shown_width, out.shown_height], [1440, 1080, 1920, 1080]);
    const meta = await sharp(file).metadata();
    assert.deepEqual([meta.width, meta.height], [1920, 1080], 'the frame saved as it is shown, not squeezed');
    const text = await cli(hdv.url('/video'));
    assert.match(text.stdout, /resolution\s+1440x1080, shown 1920x1080 \(non-square pixels: set width and height in that proportion\)/);
  } finally {
    await hdv.stop();
  }
});

test('camera test --camera NAME says when the camera\'s width and height leave its stream\'s picture black bars, as doctor does', async () => {
  const config = join(dir, 'aspect.yaml');
  // The fake camera's 16:9 stream, into a 4:3 frame and into its own shape.
  writeFileSync(config, ['cameras:', `  - { name: porch, url: "${camera.url('/pattern', 'admin:secret')}", width: 1280, height: 960 }`, `  - { name: hall, url: "${camera.url('/pattern', 'admin:secret')}", width: 1280, height: 720 }`].join('\n') + '\n');
  const porch = await runCli(['camera', 'test', '--camera', 'porch', '--config', config]);
  assert.equal(porch.code, 0, porch.stderr);
  assert.match(porch.stdout, /^warning\s+FG_WARN_CAMERA_ASPECT: camera "porch" shows 1280x720, fitted into 1280x960 with black bars: the picture is 1280x720\nfix\s+set width: 1706, height: 960 for camera "porch"/m);
  const json = JSON.parse((await runCli(['camera', 'test', '--camera', 'porch', '--config', config, '--json'])).stdout);
  assert.deepEqual(json.warnings.map((w: { code: string }) => w.code), ['FG_WARN_CAMERA_ASPECT']);
  const hall = await runCli(['camera', 'test', '--camera', 'hall', '--config', config, '--json']);
  assert.deepEqual(JSON.parse(hall.stdout).warnings, [], 'its own shape: nothing to say');
  assert.ok(!porch.stdout.includes('secret'));
});

test('camera test: wrong path, wrong password, refused, silent host and non-video each have their own message', async () => {
  const sockets: Socket[] = [];
  const silent = createServer((s) => sockets.push(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const silentPort = (silent.address() as { port: number }).port;
  const web = createHttpServer((_req, res) => res.end('<html><body>camera login</body></html>'));
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
  const webPort = (web.address() as { port: number }).port;
  // A port nothing listens on: open one, note it, close it.
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const closedPort = (closed.address() as { port: number }).port;
  await new Promise((r) => closed.close(r));
  try {
    const cases: [string[], string, RegExp][] = [
      [[camera.url('/nope', 'admin:secret')], 'FG_ERR_CAMERA_NOT_FOUND', /404 stream not found.* — check the stream path in the URL/],
      [[camera.url('/pattern', 'admin:Wr0ngPw')], 'FG_ERR_CAMERA_UNAUTHORIZED', /401 unauthorized/],
      [[`rtsp://127.0.0.1:${closedPort}/stream`], 'FG_ERR_CAMERA_UNREACHABLE', /connection refused/],
      [[`rtsp://127.0.0.1:${silentPort}/stream`, '--timeout', '2'], 'FG_ERR_CAMERA_TIMEOUT', /no frame within 2 s|timeout/],
      [[`http://127.0.0.1:${webPort}/index.html`], 'FG_ERR_CAMERA_NOT_VIDEO', /not a video stream/],
      // A file's fix is its path, not a camera's stream path.
      [[join(dir, 'missing.mp4')], 'FG_ERR_CAMERA_NOT_FOUND', /file not found — check the path of the file/],
    ];
    for (const [argv, code, message] of cases) {
      const r = await cli(...argv);
      assert.equal(r.code, 1, argv.join(' '));
      assert.equal(r.stdout, '');
      assert.ok(r.stderr.startsWith(code + ':'), `${argv.join(' ')} → ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, 'one line, no stack');
      assert.ok(!r.stderr.includes('Wr0ngPw') && !r.stderr.includes('secret'), 'no credentials');
      console.log(`# ${r.stderr.trim()}`);
    }
    const usage = await cli();
    assert.equal(usage.code, 2);
  } finally {
    for (const s of sockets) s.destroy();
    silent.close();
    web.close();
  }
});
