// The camera's FFmpeg output (outputArgs) run by real FFmpeg on a stream fed by hand: a picture
// reaches the pipe as soon as it is decoded, not when a later one is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { outputArgs } from '../../daemon/camera/ffmpeg-args.js';
import { yuv420Layout } from '../../daemon/base/yuv.js';

test('a quiet camera\'s key frame reaches the pipe once decoded, not when the next key frame comes (one encoder thread)', { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-ffmpeg-out-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // One GOP as a camera sends it over MPEG-TS: a key frame, then 14 frames that are not.
  const gop = join(dir, 'gop.ts');
  execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=s=320x180:r=15:d=1', '-c:v', 'libx264', '-preset', 'veryfast', '-g', '15', '-bf', '0', '-f', 'mpegts', gop]);
  const frame = yuv420Layout(320, 180).bytes;
  const ff = spawn('ffmpeg', ['-v', 'error', '-analyzeduration', '100000', '-probesize', '32768', '-skip_frame', 'nokey', '-f', 'mpegts', '-i', 'pipe:0', ...outputArgs({ width: 320, height: 180, fps: 15 }, 'keyframes')], { stdio: ['pipe', 'pipe', 'ignore'] });
  t.after(() => ff.kill('SIGKILL'));
  let read = 0;
  const first = new Promise<void>((resolve) => ff.stdout.on('data', (chunk: Buffer) => (read += chunk.length) >= frame && resolve()));
  // The stream stays open, as a live camera's does: nothing more is decoded after the key frame.
  ff.stdin.write(readFileSync(gop));
  const outcome = await Promise.race([first.then(() => 'the key frame'), new Promise((r) => setTimeout(() => r('nothing'), 20_000))]);
  assert.equal(outcome, 'the key frame', 'with a frame thread per core the encoder held it until later frames came');
  assert.equal(read, frame, 'one picture: the key frame, handed over as it came');
});
