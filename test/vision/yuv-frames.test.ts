import '../support/offline-tier.js';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { toRgb } from '../../daemon/base/yuv.js';
import { videoFrames } from '../../daemon/camera/video-file.js';
import type { Yuv420Image } from '../../daemon/vision/types.js';
import { testAnalyzer } from '../support/analyzer.js';
import { media, mediaMissing } from '../support/media.js';
import { decodeVideoFrames } from '../support/video.js';

// Camera frames arrive as YUV 4:2:0 and vision converts only what it samples. These check that
// against FFmpeg's own conversion of the same frames, and that the models see the same faces.
// One clip that says nothing of its matrix (FFmpeg converts it as BT.601) and one that says BT.709.
const CLIPS = ['video_blink/liveportrait_d0.mp4', 'video_blink/latentsync_demo1_video.mp4'];

async function firstYuvFrames(file: string, count: number): Promise<Yuv420Image[]> {
  const out: Yuv420Image[] = [];
  for await (const frame of videoFrames(file, { fps: 1 })) {
    out.push({ ...frame.image, data: frame.image.data.slice() });
    if (out.length === count) break;
  }
  return out;
}

test('a YUV frame converted by facegate is FFmpeg\'s own RGB of it, byte for byte', { skip: mediaMissing('video_blink') }, async () => {
  for (const clip of CLIPS) {
    const yuvs = await firstYuvFrames(media(clip), 2);
    const rgbs = decodeVideoFrames(media(clip), { fps: 1 }).slice(0, 2);
    for (const [i, yuv] of yuvs.entries()) {
      const mine = toRgb(yuv);
      const ffmpeg = rgbs[i]!;
      assert.equal(mine.data.length, ffmpeg.data.length);
      let differ = 0, worst = 0;
      for (let k = 0; k < mine.data.length; k++) {
        const d = Math.abs(mine.data[k]! - ffmpeg.data[k]!);
        if (d) differ++;
        worst = Math.max(worst, d);
      }
      console.log(`# ${clip} frame ${i}: ${differ} of ${mine.data.length} bytes differ, by at most ${worst}`);
      // FFmpeg's x86 converter is what the fixed point reproduces; another machine's FFmpeg may
      // round its own way, and a wrong matrix, range or plane order is tens of levels off.
      if (process.arch === 'x64') assert.equal(differ, 0, `${clip}: ${differ} bytes differ from FFmpeg's RGB`);
      else assert.ok(worst <= 2, `${clip}: up to ${worst} levels from FFmpeg's RGB`);
    }
  }
});

test('the models read a YUV frame as they read FFmpeg\'s RGB of it: the same faces, landmarks, eyes and identity', { skip: mediaMissing('video_blink') }, async () => {
  const analyzer = await testAnalyzer();
  for (const clip of CLIPS) {
    const rgbs = decodeVideoFrames(media(clip), { fps: 1 });
    for (const [f, yuv] of (await firstYuvFrames(media(clip), 3)).entries()) {
      const found = await analyzer.detect(yuv);
      const foundInRgb = await analyzer.detect(rgbs[f]!);
      assert.equal(found.length, foundInRgb.length, `${clip}: faces found`);
      for (const [i, detection] of found.entries()) {
        // The detector reads each 2×2 of taps as one conversion of their mean (sample-yuv.ts):
        // within a level of the RGB frame's where the taps differ, so the same face, its box a
        // fraction of a pixel apart.
        const other = foundInRgb[i]!;
        const boxApart = Math.max(...(['x', 'y', 'w', 'h'] as const).map((k) => Math.abs(detection.box[k] - other.box[k])));
        assert.ok(boxApart < 0.01 * detection.box.h, `${clip}: boxes ${boxApart} px apart on a ${detection.box.h} px face`);
        assert.ok(Math.abs(detection.score - other.score) < 0.02, `${clip}: scores ${detection.score} and ${other.score}`);
        // Every other crop is cut from a converted part of the frame: on the same box, the same
        // input but for the last bits of its arithmetic, nothing a model can tell.
        const a = await analyzer.analyzeFace(yuv, detection, { embed: true, eyes: true });
        const b = await analyzer.analyzeFace(rgbs[f]!, detection, { embed: true, eyes: true });
        let dot = 0;
        for (let k = 0; k < a.embedding!.length; k++) dot += a.embedding![k]! * b.embedding![k]!;
        const worst = Math.max(...a.landmarks68.map((p, k) => Math.hypot(p.x - b.landmarks68[k]!.x, p.y - b.landmarks68[k]!.y)));
        const eyes = Math.max(Math.abs(a.eyes!.left.pOpen - b.eyes!.left.pOpen), Math.abs(a.eyes!.right.pOpen - b.eyes!.right.pOpen));
        console.log(`# ${clip}: face ${detection.box.h.toFixed(0)} px, boxes ${boxApart.toExponential(1)} px apart; on one box landmarks at most ${worst.toExponential(1)} px apart, cosine ${dot.toFixed(6)}, p(open) at most ${eyes.toExponential(1)} apart`);
        assert.ok(worst < 1e-3, `${clip}: landmarks ${worst} px apart`);
        assert.ok(eyes < 1e-4, `${clip}: p(open) ${eyes} apart`);
        assert.ok(dot > 0.99999, `${clip}: embeddings' cosine ${dot}`);
      }
    }
  }
});

test('a video stored with non-square pixels is decoded at its size as shown: HDV 1440×1080 comes out 1920×1080, a square still square', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-sar-file-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const clip = join(dir, 'hdv.mp4');
  // A 240 px white square on grey at 1920×1080, stored squeezed to 1440 across with 4:3 pixels.
  const square = 'drawbox=x=840:y=420:w=240:h=240:color=white:t=fill,scale=1440:1080,setsar=4/3';
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `color=c=0x808080:s=1920x1080:r=5:d=1,${square}`, '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-crf', '18', clip]);
  const [frame] = await firstYuvFrames(clip, 1);
  assert.deepEqual([frame!.width, frame!.height], [1920, 1080]);
  const { width, data } = frame!;
  let across = 0;
  let down = 0;
  for (let x = 0; x < width; x++) if (data[540 * width + x]! > 200) across++;
  for (let y = 0; y < 1080; y++) if (data[y * width + 960]! > 200) down++;
  assert.ok(Math.abs(across - 240) <= 4 && Math.abs(down - 240) <= 4, `the square is ${across}×${down}, not 240×240 (180 across as stored)`);
});
