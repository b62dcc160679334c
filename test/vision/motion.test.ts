// The motion mask that gates detection, on synthetic frames whose motion is known exactly: sensor
// noise, a moving square, a change of light, a person who stops. The same gate on real faces and
// real video is in motion-gate.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MotionMask } from '../../daemon/vision/motion.js';
import { detectionRegions, planTiles } from '../../daemon/vision/tiles.js';
import type { Box, RgbImage } from '../../daemon/vision/types.js';

const W = 1920;
const H = 1080;

/** A grey frame with Gaussian-ish sensor noise of `sigma` levels and, optionally, a darker square. */
function frame(seed: number, sigma: number, square?: Box, level = 110): RgbImage {
  const data = new Uint8Array(W * H * 3);
  let x = seed * 2654435761 + 1;
  const rand = () => ((x = (x * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff) - 0.5;
  for (let p = 0; p < W * H; p++) {
    const noise = (rand() + rand() + rand()) * 2 * sigma;
    data.fill(Math.max(0, Math.min(255, Math.round(level + noise))), p * 3, p * 3 + 3);
  }
  if (square) {
    for (let y = square.y; y < square.y + square.h; y++) data.fill(30, (y * W + square.x) * 3, (y * W + square.x + square.w) * 3);
  }
  return { width: W, height: H, data };
}

const covers = (boxes: Box[], b: Box) => boxes.some((m) => m.x <= b.x && m.y <= b.y && m.x + m.w >= b.x + b.w && m.y + m.h >= b.y + b.h);
const area = (boxes: Box[]) => boxes.reduce((s, b) => s + b.w * b.h, 0);

test('motion: the first frame is all motion; a still scene with sensor noise is none', () => {
  const mask = new MotionMask();
  assert.deepEqual(mask.update(frame(1, 6)), [{ x: 0, y: 0, w: W, h: H }]);
  for (let i = 2; i < 8; i++) assert.deepEqual(mask.update(frame(i, 6)), [], `frame ${i}`);
});

test('motion: a face-sized square that moves is covered where it was and where it is, and nowhere far', () => {
  const mask = new MotionMask();
  for (let i = 0; i < 4; i++) mask.update(frame(i, 4));
  const from: Box = { x: 600, y: 400, w: 50, h: 60 };
  const to: Box = { x: 640, y: 410, w: 50, h: 60 };
  mask.update(frame(10, 4, from));
  const moved = mask.update(frame(11, 4, to));
  assert.ok(covers(moved, { x: 640, y: 410, w: 50, h: 60 }) || moved.some((m) => m.x <= 640 && m.x + m.w >= 690), JSON.stringify(moved));
  assert.ok(area(moved) < 0.03 * W * H, `only around the square: ${JSON.stringify(moved)}`);
  for (const m of moved) assert.ok(m.x + m.w > 560 && m.x < 760 && m.y + m.h > 320 && m.y < 560, `far from the square: ${JSON.stringify(m)}`);
});

test('motion: the threshold follows the noise: a noisy night picture is still, a change well above it is not', () => {
  const mask = new MotionMask();
  mask.update(frame(0, 14));
  for (let i = 1; i < 6; i++) assert.deepEqual(mask.update(frame(i, 14)), [], `noisy frame ${i}`);
  const moved = mask.update(frame(20, 14, { x: 1000, y: 200, w: 80, h: 100 }));
  assert.ok(moved.length > 0 && area(moved) < 0.03 * W * H, JSON.stringify(moved));
});

test('motion: a change of light over the whole picture is not motion; a face moving while it changes still is', () => {
  const mask = new MotionMask();
  for (let i = 0; i < 3; i++) mask.update(frame(i, 3));
  assert.deepEqual(mask.update(frame(5, 3, undefined, 160)), []);
  assert.deepEqual(mask.update(frame(6, 3, undefined, 90)), []);
  const moved = mask.update(frame(7, 3, { x: 1200, y: 700, w: 60, h: 70 }, 140));
  assert.ok(moved.length > 0 && area(moved) < 0.03 * W * H, JSON.stringify(moved));
});

test('motion: someone who stops melts into the background (the tracker then keeps looking around their track)', () => {
  const mask = new MotionMask();
  mask.update(frame(0, 3));
  const standing: Box = { x: 300, y: 300, w: 60, h: 80 };
  let moved = mask.update(frame(1, 3, standing));
  assert.ok(moved.length > 0);
  for (let i = 2; i < 40 && moved.length > 0; i++) moved = mask.update(frame(i, 3, standing));
  assert.deepEqual(moved, []);
});

test('motion: a new frame size starts again with all motion', () => {
  const mask = new MotionMask();
  mask.update(frame(0, 3));
  const small = { width: 640, height: 360, data: new Uint8Array(640 * 360 * 3).fill(100) };
  assert.deepEqual(mask.update(small), [{ x: 0, y: 0, w: 640, h: 360 }]);
  assert.deepEqual(mask.update(small), []);
});

test('regions: no focus is the full sweep, an empty focus runs nothing, a focus runs the full pass and the tiles it touches', () => {
  const tiles = planTiles(W, H, 40);
  const all = detectionRegions(W, H, true, 40);
  assert.equal(all.length, 1 + tiles.length);
  assert.deepEqual(detectionRegions(W, H, true, 40, []), []);
  const one = detectionRegions(W, H, true, 40, [{ x: 10, y: 10, w: 20, h: 20 }]);
  assert.equal(one.length, 2, 'the full frame and the corner tile');
  assert.equal(one[0]!.tiled, false);
  assert.deepEqual([one[1]!.x, one[1]!.y], [0, 0]);
  // A box on a seam between tiles: every sweep tile that holds part of it, so the face is found as in a sweep.
  const seam = detectionRegions(W, H, true, 40, [{ x: 900, y: 500, w: 60, h: 60 }]);
  for (const t of seam.slice(1)) assert.ok(tiles.some((u) => u.x === t.x && u.y === t.y) && t.x < 960 && t.x + t.w > 900 && t.y < 560 && t.y + t.h > 500);
  assert.ok(seam.length >= 3 && seam.length < all.length);
  assert.equal(detectionRegions(W, H, false, 40, [{ x: 10, y: 10, w: 20, h: 20 }]).length, 1, 'untiled: the full pass only');
});
