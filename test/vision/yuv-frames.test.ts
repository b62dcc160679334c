import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toRgb } from '../../daemon/base/yuv.js';
import { videoFrames } from '../../daemon/camera/video-file.js';
import { iou } from '../../daemon/vision/geometry.js';
import type { Yuv420Image } from '../../daemon/vision/types.js';
import { testAnalyzer } from '../support/analyzer.js';
import { media, mediaMissing } from '../support/media.js';
import { decodeVideoFrames } from '../support/video.js';

// Camera frames arrive as YUV 4:2:0 and vision converts only what it samples. These check that
// against FFmpeg's own conversion of the same frames, and that the models see the same faces.
const CLIPS = ['video_blink/liveportrait_d0.mp4', 'video_blink/latentsync_demo1_video.mp4'];

async function firstYuvFrames(file: string, count: number): Promise<Yuv420Image[]> {
  const out: Yuv420Image[] = [];
  for await (const frame of videoFrames(file, { fps: 1 })) {
    out.push({ ...frame.image, data: frame.image.data.slice() });
    if (out.length === count) break;
  }
  return out;
}

test('a YUV frame converted by facegate matches FFmpeg converting it to RGB', { skip: mediaMissing('video_blink') }, async () => {
  for (const clip of CLIPS) {
    const [yuv] = await firstYuvFrames(media(clip), 1);
    const [rgb] = decodeVideoFrames(media(clip), { fps: 1 });
    const mine = toRgb(yuv!);
    assert.equal(mine.data.length, rgb!.data.length);
    let abs = 0;
    const bias = [0, 0, 0];
    for (let i = 0; i < mine.data.length; i++) {
      const d = mine.data[i]! - rgb!.data[i]!;
      abs += Math.abs(d);
      bias[i % 3]! += d;
    }
    const pixels = mine.data.length / 3;
    console.log(`# ${clip}: mean |difference| ${(abs / mine.data.length).toFixed(2)}, bias R ${(bias[0]! / pixels).toFixed(2)} G ${(bias[1]! / pixels).toFixed(2)} B ${(bias[2]! / pixels).toFixed(2)}`);
    // FFmpeg interpolates chroma and rounds its own way; a wrong matrix, range or plane order is tens of levels off.
    assert.ok(abs / mine.data.length < 4, `${clip}: mean difference ${abs / mine.data.length}`);
    for (const b of bias) assert.ok(Math.abs(b / pixels) < 4, `${clip}: bias ${b / pixels}`);
  }
});

test('the models find the same faces, landmarks and identity on a YUV frame as on its RGB conversion', { skip: mediaMissing('video_blink') }, async () => {
  const analyzer = await testAnalyzer();
  for (const clip of CLIPS) {
    for (const yuv of await firstYuvFrames(media(clip), 3)) {
      const fromYuv = await analyzer.analyze(yuv, { embed: true, eyes: true });
      const fromRgb = await analyzer.analyze(toRgb(yuv), { embed: true, eyes: true });
      assert.equal(fromYuv.length, fromRgb.length, `${clip}: faces found`);
      for (const [i, a] of fromYuv.entries()) {
        const b = fromRgb[i]!;
        assert.ok(iou(a.detection.box, b.detection.box) > 0.95, `${clip}: box ${JSON.stringify(a.detection.box)} against ${JSON.stringify(b.detection.box)}`);
        let dot = 0;
        for (let k = 0; k < a.embedding!.length; k++) dot += a.embedding![k]! * b.embedding![k]!;
        assert.ok(dot > 0.98, `${clip}: embeddings' cosine ${dot}`);
        // Landmarks within 2 % of the face's height: the same pixels, up to rounding to whole levels.
        const worst = Math.max(...a.landmarks68.map((p, k) => Math.hypot(p.x - b.landmarks68[k]!.x, p.y - b.landmarks68[k]!.y)));
        console.log(`# ${clip}: face ${a.detection.box.h.toFixed(0)} px, landmarks at most ${worst.toFixed(2)} px apart, cosine ${dot.toFixed(4)}, p(open) L ${a.eyes!.left.pOpen.toFixed(2)}/${b.eyes!.left.pOpen.toFixed(2)} R ${a.eyes!.right.pOpen.toFixed(2)}/${b.eyes!.right.pOpen.toFixed(2)}`);
        assert.ok(worst < 0.02 * a.detection.box.h, `${clip}: landmarks ${worst} px apart`);
      }
    }
  }
});
