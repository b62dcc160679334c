// Real FFmpeg's frames read straight into the frame buffers (spawnFfmpeg with `frames`): the same
// bytes as its pipe gives, whole frames in order, all of them before 'close'; nothing left behind
// in the temporary directory; a kill before the child exists, a missing binary and a temporary
// directory that cannot be written each end as a process would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { yuv420Layout } from '../../daemon/base/yuv.js';
import { FrameAssembler } from '../../daemon/camera/frame-reader.js';
import { spawnFfmpeg, type FfmpegProcess } from '../../daemon/camera/process.js';

const W = 64;
const H = 48;
const FRAMES = 40;
// Every frame differs from the one before (testsrc's counter and moving pattern).
const ARGS = ['-v', 'error', '-f', 'lavfi', '-i', `testsrc=s=${W}x${H}:r=15:d=${FRAMES / 15}`, '-f', 'rawvideo', '-pix_fmt', 'yuv420p', 'pipe:1'];

const closed = (child: FfmpegProcess) => new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('close', (code, signal) => resolve([code, signal])));
const failed = (child: FfmpegProcess) => new Promise<NodeJS.ErrnoException>((resolve) => child.once('error', resolve));

/** Runs FFmpeg through spawnFfmpeg, its frames read into an assembler; the frames as they stood at 'close'. */
async function framesOf(args: readonly string[]): Promise<{ frames: Uint8Array[]; code: number | null; child: FfmpegProcess; fallbacks: Error[] }> {
  const frames: Uint8Array[] = [];
  const fallbacks: Error[] = [];
  const assembler = new FrameAssembler(yuv420Layout(W, H).bytes, (data) => frames.push(data.slice()));
  const child = spawnFfmpeg('ffmpeg', args, null, { frames: assembler, onPipeFallback: (err) => fallbacks.push(err) });
  assert.equal(child.stdout, null, 'no chunks: the frames are read into the assembler');
  const [code] = await closed(child);
  return { frames, code, child, fallbacks };
}

function withTmpdir(t: { after: (fn: () => void) => void }, dir: string): void {
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  t.after(() => (saved === undefined ? delete process.env.TMPDIR : (process.env.TMPDIR = saved)));
}

test('frames read from the socket are the bytes FFmpeg writes to a pipe, every frame in order before close, and the socket leaves nothing behind', { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-frame-socket-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  withTmpdir(t, dir);
  const piped = execFileSync('ffmpeg', ARGS, { maxBuffer: 64 << 20 });
  const frameBytes = yuv420Layout(W, H).bytes;
  assert.equal(piped.length, FRAMES * frameBytes);
  const { frames, code, child, fallbacks } = await framesOf(ARGS);
  assert.equal(code, 0);
  assert.deepEqual(fallbacks, [], 'read from the socket');
  assert.ok(child.pid !== undefined && child.pid > 0);
  assert.equal(frames.length, FRAMES);
  for (let i = 0; i < FRAMES; i++) assert.ok(Buffer.from(frames[i]!).equals(piped.subarray(i * frameBytes, (i + 1) * frameBytes)), `frame ${i}`);
  assert.deepEqual(readdirSync(dir), [], 'the socket and its directory are removed once joined');
});

test('where no socket can be made (the temporary directory does not exist), the frames come through a pipe, the same bytes', { timeout: 60_000 }, async (t) => {
  withTmpdir(t, '/nonexistent/facegate-test');
  const piped = execFileSync('ffmpeg', ARGS, { maxBuffer: 64 << 20 });
  const { frames, code, fallbacks } = await framesOf(ARGS);
  assert.equal(code, 0);
  assert.ok(Buffer.concat(frames).equals(piped));
  assert.equal(fallbacks.length, 1, 'the fallback is told, with why');
  assert.match(fallbacks[0]!.message, /ENOENT.*\/nonexistent\/facegate-test/);
});

test('a kill before the child exists: it is never started, and close says the signal', async () => {
  const frames = new FrameAssembler(16, () => assert.fail('no frame from a process never started'));
  const child = spawnFfmpeg('ffmpeg', ARGS, null, { frames });
  assert.equal(child.kill('SIGTERM'), true);
  const [code, signal] = await closed(child);
  assert.deepEqual([code, signal, child.pid], [null, 'SIGTERM', undefined]);
});

test('a binary that does not exist: error, and no pid (the camera says FFmpeg is missing)', async () => {
  const frames = new FrameAssembler(16, () => assert.fail('no frame'));
  const child = spawnFfmpeg('/nonexistent/ffmpeg', ARGS, null, { frames });
  const err = await failed(child);
  assert.equal(err.code, 'ENOENT');
  assert.equal(child.pid, undefined);
});

test('stderr and the input script pass as before: an input that fails is said on stderr, with a non-zero exit', { timeout: 30_000 }, async () => {
  const frames = new FrameAssembler(yuv420Layout(W, H).bytes, () => assert.fail('no frame'));
  const child = spawnFfmpeg('ffmpeg', ['-v', 'error', '-f', 'concat', '-safe', '0', '-i', 'pipe:0', '-f', 'rawvideo', 'pipe:1'], "ffconcat version 1.0\nfile '/nonexistent/clip.mp4'\n", { frames });
  let said = '';
  child.stderr?.on('data', (chunk: Buffer) => (said += chunk.toString()));
  const [code] = await closed(child);
  assert.notEqual(code, 0);
  assert.match(said, /Impossible to open .*\/nonexistent\/clip\.mp4/, 'the script on stdin was read');
});
