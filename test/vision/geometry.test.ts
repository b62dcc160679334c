import '../support/fast-tier.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { alignment, fivePoints, REFERENCE_5 } from '../../daemon/vision/align.js';
import { contextCrop } from '../../daemon/vision/antispoof.js';
import { dropNested } from '../../daemon/vision/detector.js';
import { applyAffine, invertAffine, iou, nms, rectToAffine, umeyamaSimilarity, type Affine } from '../../daemon/vision/geometry.js';
import { laplacianVariance } from '../../daemon/vision/quality.js';
import { lumaAt, toRgb, yuv420Layout } from '../../daemon/base/yuv.js';
import { packChw, packGray, planarToGray, sampleAffine } from '../../daemon/vision/sampling.js';
import { fullFrameRegion, needsTiles, planTiles } from '../../daemon/vision/tiles.js';
import type { Point } from '../../daemon/vision/types.js';

const close = (a: number, b: number, eps = 1e-6) => assert.ok(Math.abs(a - b) < eps, `${a} ≉ ${b}`);

test('Umeyama recovers a known similarity exactly and never reflects', () => {
  const angle = 0.3, scale = 2.5;
  const truth: Affine = {
    a: scale * Math.cos(angle), b: -scale * Math.sin(angle), c: scale * Math.sin(angle), d: scale * Math.cos(angle), tx: 10, ty: -4,
  };
  const src: Point[] = [{ x: 1, y: 2 }, { x: 5, y: 1 }, { x: 3, y: 4 }, { x: 2, y: 7 }, { x: 6, y: 6 }];
  const m = umeyamaSimilarity(src, src.map((p) => applyAffine(truth, p)));
  for (const k of ['a', 'b', 'c', 'd', 'tx', 'ty'] as const) close(m[k], truth[k]);
  // Mirrored targets: the best rotation+scale, with a positive determinant.
  const mirrored = umeyamaSimilarity(src, src.map((p) => ({ x: -p.x, y: p.y })));
  assert.ok(mirrored.a * mirrored.d - mirrored.b * mirrored.c >= 0);
});

test('Umeyama refuses degenerate landmarks', () => {
  const p = { x: 3, y: 3 };
  assert.throws(() => umeyamaSimilarity([p, p, p], REFERENCE_5.slice(0, 3)), /degenerate/);
});

test('affine inverse round-trips', () => {
  const m: Affine = { a: 1.2, b: 0.3, c: -0.4, d: 0.9, tx: 5, ty: 7 };
  const p = applyAffine(invertAffine(m), applyAffine(m, { x: 3, y: -2 }));
  close(p.x, 3);
  close(p.y, -2);
});

test('five points come from the eyelids, nose tip and mouth corners; alignment maps them onto the reference', () => {
  // 68 points that are the reference itself, placed where fivePoints reads them.
  const lm: Point[] = Array.from({ length: 68 }, () => ({ x: 0, y: 0 }));
  for (const i of [37, 38, 40, 41]) lm[i] = REFERENCE_5[0];
  for (const i of [43, 44, 46, 47]) lm[i] = REFERENCE_5[1];
  lm[30] = REFERENCE_5[2];
  for (const i of [48, 60]) lm[i] = REFERENCE_5[3];
  for (const i of [54, 64]) lm[i] = REFERENCE_5[4];
  const five = fivePoints(lm);
  five.forEach((p, i) => { close(p.x, REFERENCE_5[i]!.x); close(p.y, REFERENCE_5[i]!.y); });
  const a = alignment(five.map((p) => ({ x: p.x * 3 + 100, y: p.y * 3 + 50 })) as unknown as typeof five);
  const mapped = applyAffine(a.toAligned, { x: REFERENCE_5[2].x * 3 + 100, y: REFERENCE_5[2].y * 3 + 50 });
  close(mapped.x, REFERENCE_5[2].x, 1e-4);
  close(mapped.y, REFERENCE_5[2].y, 1e-4);
});

test('IoU and NMS keep the best of overlapping boxes', () => {
  const a = { x: 0, y: 0, w: 10, h: 10 };
  close(iou(a, a), 1);
  close(iou(a, { x: 5, y: 0, w: 10, h: 10 }), 50 / 150);
  assert.equal(iou(a, { x: 20, y: 20, w: 5, h: 5 }), 0);
  const kept = nms([
    { box: a, score: 0.7 },
    { box: { x: 1, y: 1, w: 10, h: 10 }, score: 0.9 },
    { box: { x: 30, y: 30, w: 10, h: 10 }, score: 0.8 },
  ], 0.4);
  assert.deepEqual(kept.map((d) => d.score), [0.9, 0.8]);
});

test('a box mostly inside a larger one is a part of that face and goes', () => {
  const big = { box: { x: 0, y: 0, w: 100, h: 120 }, score: 1 };
  const part = { box: { x: 20, y: 60, w: 40, h: 40 }, score: 0.9 };
  const beside = { box: { x: 90, y: 0, w: 40, h: 40 }, score: 0.9 };
  assert.deepEqual(dropNested([part, big, beside]), [big, beside]);
});

test('tiles: 1080p at 40 px plans the measured 3×3 grid, overlapping by more than two faces', () => {
  assert.ok(needsTiles(1920, 1080, 40));
  assert.ok(!needsTiles(640, 480, 40));
  const tiles = planTiles(1920, 1080, 40);
  assert.equal(tiles.length, 9);
  for (const t of tiles) {
    close(t.w / t.h, 4 / 3, 0.01);
    assert.ok(t.x >= 0 && t.y >= 0 && t.x + t.w <= 1920 && t.y + t.h <= 1080);
  }
  const xs = [...new Set(tiles.map((t) => t.x))].sort((p, q) => p - q);
  assert.ok(xs[0]! + tiles[0]!.w - xs[1]! >= 80, 'horizontal overlap ≥ 2 faces');
  // The full-frame region pads 1080p to 4:3 at the bottom.
  const full = fullFrameRegion(1920, 1080);
  assert.deepEqual([full.w, full.h], [1920, 1440]);
});

test('sampling: a crop-and-resize reads the right pixels, outside is black, channels pack as asked', () => {
  const width = 4, height = 2;
  const data = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) data.set([p * 10, 100, 200], p * 3);
  const img = { width, height, data };
  // Identity crop of the 2×2 top-left block.
  const rgb = sampleAffine(img, rectToAffine({ x: 0, y: 0, w: 2, h: 2 }, 2, 2), 2, 2);
  assert.deepEqual(Array.from(rgb.filter((_, i) => i % 3 === 0)), [0, 10, 40, 50]);
  // A region twice the image: the right and bottom halves are padding.
  const padded = sampleAffine(img, rectToAffine({ x: 0, y: 0, w: 8, h: 4 }, 2, 2), 2, 2);
  assert.deepEqual(Array.from(padded.slice(9, 12)), [0, 0, 0]);
  const chw = packChw(Float32Array.from([10, 20, 30]), 1, 'bgr', 0, 1);
  assert.deepEqual(Array.from(chw), [30, 20, 10]);
  const gray = packGray(Float32Array.from([255, 255, 255]), 1, 255);
  close(gray[0]!, 1, 1e-5);
});

/** The sampler's definition, written plainly: what every fast path must reproduce. */
function referenceSample(img: { width: number; height: number; data: Uint8Array }, m: Affine, outW: number, outH: number, taps: number): Float32Array {
  const px = (x: number, y: number, c: number) => (x < 0 || y < 0 || x >= img.width || y >= img.height ? 0 : img.data[(y * img.width + x) * 3 + c]!);
  const out = new Float32Array(outW * outH * 3);
  for (let v = 0; v < outH; v++) {
    for (let u = 0; u < outW; u++) {
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        if (taps === 1) {
          const fx = m.a * (u + 0.5) + m.b * (v + 0.5) + m.tx - 0.5;
          const fy = m.c * (u + 0.5) + m.d * (v + 0.5) + m.ty - 0.5;
          const x = Math.floor(fx), y = Math.floor(fy), wx = fx - x, wy = fy - y;
          sum = px(x, y, c) * (1 - wx) * (1 - wy) + px(x + 1, y, c) * wx * (1 - wy) + px(x, y + 1, c) * (1 - wx) * wy + px(x + 1, y + 1, c) * wx * wy;
        } else {
          for (let j = 0; j < taps; j++) {
            for (let i = 0; i < taps; i++) {
              const cx = u + (i + 0.5) / taps, cy = v + (j + 0.5) / taps;
              sum += px(Math.floor(m.a * cx + m.b * cy + m.tx), Math.floor(m.c * cx + m.d * cy + m.ty), c) / (taps * taps);
            }
          }
        }
        out[(v * outW + u) * 3 + c] = sum;
      }
    }
  }
  return out;
}

/** One crop through each of the sampler's paths: name, map, output width and height, taps. */
function samplingCases(rotation: { angle: number; tx: number; ty: number }): Array<[string, Affine, number, number, number]> {
  const { angle, tx, ty } = rotation;
  const rotated = (scale: number): Affine => ({ a: scale * Math.cos(angle), b: -scale * Math.sin(angle), c: scale * Math.sin(angle), d: scale * Math.cos(angle), tx, ty });
  return [
    ['bilinear, axis-aligned, upscaled and past the edge', rectToAffine({ x: -5, y: 10, w: 40, h: 40 }, 64, 64), 64, 64, 1],
    ['bilinear, rotated', rotated(0.8), 40, 40, 1],
    ['2×2 box, axis-aligned, partly outside', rectToAffine({ x: -10, y: -6, w: 80, h: 60 }, 40, 30), 40, 30, 2],
    ['3×3 box, axis-aligned', rectToAffine({ x: 3, y: 2, w: 54, h: 42 }, 18, 14), 18, 14, 3],
    ['2×2 box, rotated', rotated(2), 24, 24, 2],
    ['3×3 box, rotated, partly outside', rotated(3), 20, 20, 3],
  ];
}

test('sampling: every fast path equals the plain definition, interleaved, as planar model input, and read back as grey', () => {
  const width = 61, height = 47;
  const data = Uint8Array.from({ length: width * height * 3 }, (_, i) => (i * 7919) % 256);
  const img = { width, height, data };
  const cases = samplingCases({ angle: 0.35, tx: 20, ty: -3 });
  for (const [name, map, w, h, taps] of cases) {
    const maxDiff = (p: Float32Array, q: Float32Array) => p.reduce((m, v, i) => Math.max(m, Math.abs(v - q[i]!)), 0);
    const expected = referenceSample(img, map, w, h, taps);
    const rgb = sampleAffine(img, map, w, h, undefined, { maxTaps: taps });
    assert.ok(maxDiff(rgb, expected) < 1e-3, `${name}: interleaved RGB differs by ${maxDiff(rgb, expected)}`);
    const planar = sampleAffine(img, map, w, h, undefined, { maxTaps: taps, layout: { planes: 'bgr', mean: 127, div: 128 } });
    const packed = packChw(expected, w * h, 'bgr', 127, 128);
    assert.ok(maxDiff(planar, packed) < 1e-5, `${name}: planar BGR differs by ${maxDiff(planar, packed)}`);
    const gray = planarToGray(planar, w * h, { planes: 'bgr', mean: 127, div: 128 });
    const expectedGray = packGray(expected, w * h, 1);
    assert.ok(maxDiff(gray, expectedGray) < 1e-3, `${name}: grey read back differs by ${maxDiff(gray, expectedGray)}`);
  }
});

test('sampling a YUV 4:2:0 frame gives what sampling its RGB conversion gives, on every path of a face crop, in either matrix', () => {
  // Odd sizes: the chroma planes round up. Values over the whole range, so that RGB clips too.
  const width = 61, height = 47;
  const { bytes } = yuv420Layout(width, height);
  const data = Uint8Array.from({ length: bytes }, (_, i) => (i * 7919) % 256);
  for (const matrix of ['bt601', 'bt709'] as const) {
    const yuv = { format: 'yuv420p' as const, matrix, width, height, data };
    const rgb = toRgb(yuv);
    for (const [name, map, w, h, taps] of samplingCases({ angle: -0.4, tx: 5, ty: 12 })) {
      const fromYuv = sampleAffine(yuv, map, w, h, undefined, { maxTaps: taps });
      const fromRgb = sampleAffine(rgb, map, w, h, undefined, { maxTaps: taps });
      const diff = fromYuv.reduce((m, v, i) => Math.max(m, Math.abs(v - fromRgb[i]!)), 0);
      // The same pixels: only the arithmetic of a crop taken from a converted part may differ.
      assert.ok(diff < 1e-6, `${matrix}, ${name}: differs by ${diff}`);
    }
    // Grey as the motion mask and the frozen check read it: the luma of the same RGB where the
    // pixel has no colour (its chroma at the centre).
    const grey = { ...yuv, data: Uint8Array.from(data, (v, i) => (i < width * height ? 16 + (v % 220) : 128)) };
    const greyRgb = toRgb(grey);
    for (const [x, y] of [[0, 0], [60, 46], [31, 17]] as const) {
      const i = (y * width + x) * 3;
      const expected = 0.299 * greyRgb.data[i]! + 0.587 * greyRgb.data[i + 1]! + 0.114 * greyRgb.data[i + 2]!;
      assert.ok(Math.abs(lumaAt(grey, x, y) - expected) < 1e-9, `${matrix}: luma at ${x},${y}: ${lumaAt(grey, x, y)} against ${expected}`);
    }
  }
});

test('the detector\'s 2×2 taps on a YUV frame: the RGB path\'s value where the four taps are alike, within a level and a half on a smooth picture, the same at the padding', () => {
  const width = 341, height = 251;
  const { bytes, uOffset, vOffset, chromaWidth } = yuv420Layout(width, height);
  // The detector's input is larger than any face crop: 180×135 here, partly outside, 2 px a tap.
  const W = 180, H = 135;
  const map = rectToAffine({ x: -10, y: -6, w: 2 * W, h: 2 * H }, W, H);
  const taps = (k: number, scale: number, shift: number) => [0, 1].map((i) => Math.floor(scale * (k + (i + 0.5) / 2) + shift));
  const inFrame = (x: number, y: number) => x >= 0 && x < width && y >= 0 && y < height;
  for (const matrix of ['bt601', 'bt709'] as const) {
    // Blocks of 4×4 pixels, each one random colour over the whole range (RGB clips), so that many
    // outputs' taps are alike and the rest straddle two very different colours.
    const blocky = new Uint8Array(bytes);
    const colour = (bx: number, by: number, plane: number) => ((bx * 7 + by * 13 + plane * 5) * 7919) % 256;
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) blocky[y * width + x] = colour(x >> 2, y >> 2, 0);
    for (let y = 0; y < (height + 1) >> 1; y++) {
      for (let x = 0; x < chromaWidth; x++) {
        blocky[uOffset + y * chromaWidth + x] = colour(x >> 1, y >> 1, 1);
        blocky[vOffset + y * chromaWidth + x] = colour(x >> 1, y >> 1, 2);
      }
    }
    const yuv = { format: 'yuv420p' as const, matrix, width, height, data: blocky };
    const fromYuv = sampleAffine(yuv, map, W, H, undefined, { maxTaps: 2 });
    const fromRgb = sampleAffine(toRgb(yuv), map, W, H, undefined, { maxTaps: 2 });
    let alike = 0, edge = 0;
    for (let v = 0; v < H; v++) {
      for (let u = 0; u < W; u++) {
        const xs = taps(u, map.a, map.tx), ys = taps(v, map.d, map.ty);
        const points = ys.flatMap((y) => xs.map((x) => [x, y] as const));
        const blocks = new Set(points.map(([x, y]) => `${x >> 2},${y >> 2}`));
        const outside = points.some(([x, y]) => !inFrame(x, y));
        if (!outside && blocks.size > 1) continue;
        if (outside) edge++;
        else alike++;
        for (let c = 0; c < 3; c++) {
          const i = (v * W + u) * 3 + c;
          assert.ok(Math.abs(fromYuv[i]! - fromRgb[i]!) < 1e-4, `${matrix}: output ${u},${v} (${outside ? 'at the edge' : 'taps alike'}) is ${fromYuv[i]} against ${fromRgb[i]}`);
        }
      }
    }
    assert.ok(alike > 2000 && edge > 200, `${matrix}: ${alike} outputs with alike taps, ${edge} at the edge`);
    // A smooth picture whose colours never clip: every output within a level and a half.
    const smooth = new Uint8Array(bytes);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) smooth[y * width + x] = 40 + ((x + y) >> 2);
    for (let y = 0; y < (height + 1) >> 1; y++) {
      for (let x = 0; x < chromaWidth; x++) {
        smooth[uOffset + y * chromaWidth + x] = 100 + ((x + y) >> 3);
        smooth[vOffset + y * chromaWidth + x] = 150 - (x >> 3);
      }
    }
    const gentle = { format: 'yuv420p' as const, matrix, width, height, data: smooth };
    const a = sampleAffine(gentle, map, W, H, undefined, { maxTaps: 2 });
    const b = sampleAffine(toRgb(gentle), map, W, H, undefined, { maxTaps: 2 });
    const worst = a.reduce((m, value, i) => Math.max(m, Math.abs(value - b[i]!)), 0);
    assert.ok(worst <= 1.5, `${matrix}: a smooth picture's outputs differ by ${worst} levels`);
  }
});

test('the anti-spoof crop is 2.7× the box, shrunk and shifted to stay inside the image', () => {
  const inside = contextCrop({ x: 400, y: 300, w: 100, h: 100 }, 1280, 720);
  close(inside.w, 270);
  close(inside.x + inside.w / 2, 450);
  const edge = contextCrop({ x: 0, y: 0, w: 100, h: 300 }, 640, 480);
  assert.ok(edge.x >= 0 && edge.y >= 0 && edge.x + edge.w <= 640 && edge.y + edge.h <= 480);
  close(edge.h, 479);
});

test('sharpness is zero on a flat face and grows with detail', () => {
  const flat = new Float32Array(16 * 16).fill(128);
  assert.equal(laplacianVariance(flat, 16, 16), 0);
  const checker = flat.map((_, i) => (i % 2) * 255);
  assert.ok(laplacianVariance(checker, 16, 16) > 1000);
});
