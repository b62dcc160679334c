// The motion mask that gates detection, on synthetic frames whose motion is known exactly: sensor
// noise, a moving square, a change of light, a person who stops. The same gate on real faces and
// real video is in motion-gate.test.ts.
import '../support/fast-tier.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MotionMask } from '../../daemon/vision/motion.js';
import { detectionRegions, fullFrameRegion, planTiles, RELIABLE_FACE_IN_INPUT, type SearchArea } from '../../daemon/vision/tiles.js';
import type { Box, RgbImage, Yuv420Image } from '../../daemon/vision/types.js';

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

const contains = (b: Box, x: number, y: number) => x >= b.x && x < b.x + b.w && y >= b.y && y < b.y + b.h;
const covers = (boxes: Box[], b: Box) => boxes.some((m) => m.x <= b.x && m.y <= b.y && m.x + m.w >= b.x + b.w && m.y + m.h >= b.y + b.h);
/** Every pixel of `b` lies in one of the boxes (checked on a 4 px lattice). */
const coversAll = (boxes: Box[], b: Box) => {
  for (let y = b.y; y < b.y + b.h; y += 4) for (let x = b.x; x < b.x + b.w; x += 4) if (!boxes.some((m) => contains(m, x, y))) return false;
  return true;
};
const area = (boxes: Box[]) => boxes.reduce((s, b) => s + b.w * b.h, 0);
const arrival = (b: Box): SearchArea => ({ kind: 'arrival', ...b });

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

/** The same picture as a camera's YUV 4:2:0 frame: its grey as the luma bytes, no colour. */
function asYuv(rgb: RgbImage): Yuv420Image {
  const data = new Uint8Array((W * H * 3) / 2).fill(128);
  for (let p = 0; p < W * H; p++) data[p] = rgb.data[3 * p]!;
  return { format: 'yuv420p', matrix: 'bt709', width: W, height: H, data };
}

test('motion: a camera\'s YUV frame is read from its luma plane: still noise is none, a moving square is found as on RGB frames', () => {
  const rgbMask = new MotionMask(), yuvMask = new MotionMask();
  const both = (img: RgbImage) => [rgbMask.update(img), yuvMask.update(asYuv(img))] as const;
  assert.deepEqual(both(frame(1, 6))[1], [{ x: 0, y: 0, w: W, h: H }]);
  for (let i = 2; i < 6; i++) assert.deepEqual(both(frame(i, 6))[1], [], `frame ${i}`);
  both(frame(10, 6, { x: 600, y: 400, w: 50, h: 60 }));
  const [rgb, yuv] = both(frame(11, 6, { x: 640, y: 410, w: 50, h: 60 }));
  assert.ok(yuv.length > 0 && coversAll(yuv, { x: 640, y: 410, w: 50, h: 60 }), JSON.stringify(yuv));
  assert.deepEqual(yuv, rgb, 'the same blocks as the grey of the RGB frame');
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

test('motion: someone who comes in and stops, or leaves, is news once, not for the seconds a running average takes to forget them', () => {
  const mask = new MotionMask();
  for (let i = 0; i < 3; i++) mask.update(frame(i, 3));
  mask.takeChanged();
  const standing: Box = { x: 300, y: 300, w: 60, h: 80 };
  assert.ok(coversAll(mask.update(frame(3, 3, standing)), standing), 'arrived: looked at now');
  for (let i = 4; i < 8; i++) assert.deepEqual(mask.update(frame(i, 3, standing)), [], `standing still, frame ${i}`);
  assert.ok(mask.update(frame(8, 3)).length > 0, 'left: the place they stood is looked at once');
  for (let i = 9; i < 13; i++) assert.deepEqual(mask.update(frame(i, 3)), [], `gone, frame ${i}: no ghost`);
  assert.ok(coversAll(mask.takeChanged(), standing), 'the next sweep still looks where they came and went');
});

test('motion: a new frame size starts again with all motion', () => {
  const mask = new MotionMask();
  mask.update(frame(0, 3));
  const small = { width: 640, height: 360, data: new Uint8Array(640 * 360 * 3).fill(100) };
  assert.deepEqual(mask.update(small), [{ x: 0, y: 0, w: 640, h: 360 }]);
  assert.deepEqual(mask.update(small), []);
});

test('regions: no focus is the full sweep, an empty focus runs nothing, an arrival runs the full pass and the tiles it touches', () => {
  const tiles = planTiles(W, H, 40);
  const all = detectionRegions(W, H, true, 40);
  assert.equal(all.length, 1 + tiles.length);
  assert.deepEqual(detectionRegions(W, H, true, 40, []), []);
  const one = detectionRegions(W, H, true, 40, [arrival({ x: 10, y: 10, w: 20, h: 20 })]);
  assert.equal(one.length, 2, 'the full frame and the corner tile');
  assert.equal(one[0]!.tiled, false);
  assert.deepEqual([one[1]!.x, one[1]!.y], [0, 0]);
  // A box on a seam between tiles: every sweep tile that holds part of it, so the face is found as in a sweep.
  const seam = detectionRegions(W, H, true, 40, [arrival({ x: 900, y: 500, w: 60, h: 60 })]);
  for (const t of seam.slice(1)) assert.ok(tiles.some((u) => u.x === t.x && u.y === t.y) && t.x < 960 && t.x + t.w > 900 && t.y < 560 && t.y + t.h > 500);
  assert.ok(seam.length >= 3 && seam.length < all.length);
  assert.equal(detectionRegions(W, H, false, 40, [arrival({ x: 10, y: 10, w: 20, h: 20 })]).length, 1, 'untiled: the full pass only');
});

test('regions: a tracked face is looked for by the one tile that holds it whole, by the full pass alone when that finds it, by both and every tile it touches when no tile holds it', () => {
  const tiles = planTiles(W, H, 40);
  // A 100 px face on the seam between the first two columns, inside both: the one where it sits furthest from an edge.
  const face = { x: tiles[1]!.x + 10, y: 150, w: 100, h: 100 };
  const regions = detectionRegions(W, H, true, 40, [{ kind: 'tracked', facePx: 100, ...face }]);
  // Where something also arrived, the full pass runs too (a large face may have come in).
  assert.equal(detectionRegions(W, H, true, 40, [{ kind: 'tracked', facePx: 100, ...face }, arrival({ x: 10, y: 10, w: 20, h: 20 })])[0]!.tiled, false);
  assert.equal(regions.length, 1, 'one tile and no full pass: nothing else can be there');
  const [tile] = regions;
  assert.equal(tile!.tiled, true);
  assert.ok(tile!.x <= face.x && tile!.y <= face.y && tile!.x + tile!.w >= face.x + face.w && tile!.y + tile!.h >= face.y + face.h, 'the tile holds the face whole');
  const margin = (t: Box) => Math.min(face.x - t.x, face.y - t.y, t.x + t.w - face.x - face.w, t.y + t.h - face.y - face.h);
  for (const t of tiles) assert.ok(margin(t) <= margin(tile!), 'no tile holds it with a wider margin');
  // Large enough for the full pass even after shrinking a fifth before the next detect frame.
  const reliable = (RELIABLE_FACE_IN_INPUT * fullFrameRegion(W, H).h) / 240;
  assert.equal(detectionRegions(W, H, true, 40, [{ kind: 'tracked', facePx: Math.ceil(reliable / 0.8), ...face, w: 200, h: 200 }]).length, 1, 'the full pass alone');
  // Leaving past the top of the frame (the tracker hands in the part inside it): the frame's edge
  // cuts nothing, so the one tile that reaches it holds it.
  const leaving = detectionRegions(W, H, true, 40, [{ kind: 'tracked', facePx: 100, x: 700, y: 0, w: 120, h: 30 }]);
  assert.equal(leaving.length, 1, `${leaving.length} regions`);
  assert.ok(leaving[0]!.tiled && leaving[0]!.y === 0 && leaving[0]!.x <= 700 && leaving[0]!.x + leaving[0]!.w >= 820);
  // Taller than the tiles' overlap and across a seam: no tile holds it whole, so all it touches (as before gating).
  const wide = { x: tiles[1]!.x - 15, y: 150, w: 140, h: 140 };
  const across = detectionRegions(W, H, true, 40, [{ kind: 'tracked', facePx: 140, ...wide }]);
  assert.ok(across.length >= 3 && across[0]!.tiled === false, `${across.length} regions`);
});

test('motion: blocks centred inside an explained region (a tracked face moving) are not reported, the rest are', () => {
  const mask = new MotionMask();
  const unexplained = new MotionMask();
  mask.update(frame(1, 2));
  unexplained.update(frame(1, 2));
  const face = { x: 400, y: 400, w: 120, h: 120 };
  const stranger = { x: 1400, y: 600, w: 120, h: 120 };
  const moved = frame(2, 2);
  for (const sq of [face, stranger]) for (let y = sq.y; y < sq.y + sq.h; y++) moved.data.fill(30, (y * W + sq.x) * 3, (y * W + sq.x + sq.w) * 3);
  const explained = [{ x: face.x - 30, y: face.y - 30, w: 180, h: 180 }];
  const boxes = mask.update(moved, explained);
  assert.ok(unexplained.update(moved).some((b) => contains(b, face.x + 60, face.y + 60)), 'without the track, the face moving is motion');
  assert.ok(boxes.some((b) => b.x < stranger.x + stranger.w && stranger.x < b.x + b.w && b.y < stranger.y + stranger.h && stranger.y < b.y + b.h), 'the stranger is reported');
  assert.ok(!boxes.some((b) => b.x < face.x + face.w && face.x < b.x + b.w && b.y < face.y + face.h && face.y < b.y + b.h && contains(explained[0]!, b.x + b.w / 2, b.y + b.h / 2)), 'no block centred in the tracked face region');
});

test('motion: what changed since the last sweep, explained or not, is kept until taken, then forgotten', () => {
  const mask = new MotionMask();
  for (let i = 0; i < 3; i++) mask.update(frame(i, 4));
  assert.deepEqual(mask.takeChanged(), [], 'a still scene changed nowhere');
  const square: Box = { x: 900, y: 500, w: 60, h: 70 };
  const around: Box = { x: 800, y: 400, w: 300, h: 300 };
  assert.deepEqual(mask.update(frame(3, 4, square), [around]), [], 'explained: no arrival');
  mask.update(frame(4, 4));
  const changed = mask.takeChanged();
  assert.ok(covers(changed, square) || changed.some((c) => contains(c, 930, 535)), JSON.stringify(changed));
  assert.ok(area(changed) < 0.03 * W * H, `only around the square: ${JSON.stringify(changed)}`);
  assert.deepEqual(mask.takeChanged(), [], 'taken once');
});

test('motion: blocks inside a "later" zone (a tracked person\'s arms) are held until a call that is due, then reported with every block held since; others at once', () => {
  const mask = new MotionMask();
  mask.update(frame(1, 2));
  const body: Box = { x: 200, y: 200, w: 700, h: 700 };
  const hand: Box = { x: 300, y: 600, w: 60, h: 60 };
  const stranger: Box = { x: 1500, y: 500, w: 100, h: 100 };
  const now = mask.update(frame(2, 2, hand), [], { zones: [body], due: false });
  assert.deepEqual(now, [], 'the hand moving is held, not reported');
  const stillHeld = mask.update(frame(3, 2, stranger), [], { zones: [body], due: false });
  assert.ok(stillHeld.some((b) => contains(b, stranger.x + 50, stranger.y + 50)), 'motion away from every body is reported at once');
  assert.ok(!stillHeld.some((b) => contains(body, b.x + b.w / 2, b.y + b.h / 2)), 'the hand is still held');
  // The hand stopped moving; the due call still reports where it moved.
  const due = mask.update(frame(4, 2, stranger), [], { zones: [body], due: true });
  assert.ok(due.some((b) => contains(b, hand.x + 30, hand.y + 30)), `held motion reported when due: ${JSON.stringify(due)}`);
  assert.deepEqual(mask.update(frame(5, 2, stranger), [], { zones: [body], due: true }), [], 'held once, reported once');
});

test('motion: a block inside a "later" zone that is also inside an "unless" zone (about a face not yet proven live) is reported at once', () => {
  const mask = new MotionMask();
  mask.update(frame(1, 2));
  const body: Box = { x: 200, y: 200, w: 700, h: 700 };
  const unproven: Box = { x: 250, y: 550, w: 200, h: 200 };
  const hand: Box = { x: 300, y: 600, w: 60, h: 60 };
  const now = mask.update(frame(2, 2, hand), [], { zones: [body], unless: [unproven], due: false });
  assert.ok(now.some((b) => contains(b, hand.x + 30, hand.y + 30)), `reported at once: ${JSON.stringify(now)}`);
});
