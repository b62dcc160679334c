// The throughput and vision benches' reference for how fast the box is at the moment
// (scripts/bench/box-speed.ts): FFmpeg's CPU time a frame decoding a real H.264 file, and nothing
// where FFmpeg cannot decode it.
import '../support/offline-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { boxSpeed, speedLine } from '../../scripts/bench/box-speed.js';

test('boxSpeed: the CPU time a frame of a real H.264 file, and undefined for a file FFmpeg cannot decode or that is not there', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-box-speed-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const clip = join(dir, 'clip.mp4');
  execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=15', '-t', '12', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '28', '-pix_fmt', 'yuv420p', clip]);
  const ms = boxSpeed(clip);
  assert.ok(ms !== undefined && Number.isFinite(ms) && ms > 0, `a frame's decoding should cost some CPU time: ${ms}`);

  const garbage = join(dir, 'garbage.mp4');
  writeFileSync(garbage, Buffer.alloc(4096, 0x5a));
  assert.equal(boxSpeed(garbage), undefined);
  assert.equal(boxSpeed(join(dir, 'missing.mp4')), undefined);
});

test('speedLine: the speed before and after a run, a dash where it could not be measured', () => {
  assert.match(speedLine('this footage', 3.456, undefined), /decodes this footage in 3\.46 ms a frame before the run, - after/);
});
