import '../support/fast-tier.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FAR_FIELD, farGrid } from '../../daemon/liveness/far-field.js';
import { applySimilarity, fitSimilarity } from '../../daemon/liveness/patches.js';
import { onHead, SURROUND, SurroundCue, surroundGrid, surroundVerdict, SURROUND_VERDICT } from '../../daemon/liveness/surround.js';
import type { Point, RgbImage } from '../../daemon/vision/types.js';

const W = 320;
const H = 240;
const FACE_H = 60;

/** The grey level of a textured scene (a pseudo-random pattern of 6 px blobs) at (x, y), shifted by (dx, dy). */
function texture(x: number, y: number, dx: number, dy: number, seed: number, contrast: number): number {
  const u = Math.floor((x - dx) / 6);
  const v = Math.floor((y - dy) / 6);
  const level = Math.imul((u * 73856093) ^ (v * 19349663) ^ seed, 2654435761) >>> 24;
  return Math.round(128 + ((level - 128) * contrast));
}

/** A textured scene shifted by (dx, dy); `contrast` scales its grey levels about mid-grey. */
function scene(dx: number, dy: number, seed = 1, contrast = 1, width = W, height = H): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const level = texture(x, y, dx, dy, seed, contrast);
      data.set([level, level, level], (y * width + x) * 3);
    }
  }
  return { width, height, data };
}

/** 68 points spread over a face FACE_H tall centred at (cx, cy): only their layout matters here. */
function landmarks(cx: number, cy: number): Point[] {
  return Array.from({ length: 68 }, (_, i) => ({ x: cx + FACE_H * 0.35 * Math.cos(i * 2.4), y: cy + FACE_H * 0.4 * Math.sin(i * 1.7) }));
}

function run(frames: Array<{ img: RgbImage; face: { x: number; y: number } }>): { rigid: number; still: number } {
  const cue = new SurroundCue();
  frames.forEach(({ img, face }, i) => cue.push({ t: i * 0.2, img, landmarks: landmarks(face.x, face.y), faceHeight: FACE_H }));
  return cue.evidence;
}

const path = (i: number) => ({ dx: 6 * Math.sin(i * 0.9) + 2 * i, dy: 3 * Math.cos(i * 0.7) });

test('a face moved with everything around it (a held picture) makes the surround follow', () => {
  const frames = Array.from({ length: 12 }, (_, i) => {
    const { dx, dy } = path(i);
    return { img: scene(dx, dy), face: { x: 160 + dx, y: 120 + dy } };
  });
  const e = run(frames);
  assert.ok(e.rigid >= SURROUND_VERDICT.heldRigid, JSON.stringify(e));
  assert.equal(e.still, 0);
});

test('a face that moves against a world that stays put makes the surround stay', () => {
  const frames = Array.from({ length: 12 }, (_, i) => {
    const { dx, dy } = path(i);
    return { img: scene(0, 0), face: { x: 160 + dx, y: 120 + dy } };
  });
  const e = run(frames);
  assert.equal(e.rigid, 0);
  assert.ok(e.still >= SURROUND_VERDICT.clearStill, JSON.stringify(e));
});

test('a face that does not move, or a plain surround, says nothing', () => {
  const still = run(Array.from({ length: 12 }, () => ({ img: scene(0, 0), face: { x: 160, y: 120 } })));
  assert.deepEqual(still, { rigid: 0, still: 0 });
  const plain: RgbImage = { width: W, height: H, data: new Uint8Array(W * H * 3).fill(90) };
  const moving = run(Array.from({ length: 12 }, (_, i) => ({ img: plain, face: { x: 160 + path(i).dx, y: 120 + path(i).dy } })));
  assert.deepEqual(moving, { rigid: 0, still: 0 });
});

test('a new scene between looks (a cut, the light switched) is neither', () => {
  const frames = Array.from({ length: 12 }, (_, i) => ({ img: scene(path(i).dx, 0, i + 1), face: { x: 160 + path(i).dx, y: 120 } }));
  assert.deepEqual(run(frames), { rigid: 0, still: 0 });
});

test('bad input is ignored: too few landmarks, no height, a short buffer', () => {
  const cue = new SurroundCue();
  cue.push({ t: 0, img: scene(0, 0), landmarks: landmarks(160, 120).slice(0, 30), faceHeight: FACE_H });
  cue.push({ t: 0.5, img: scene(0, 0), landmarks: landmarks(160, 120), faceHeight: 0 });
  cue.push({ t: 1, img: { width: W, height: H, data: new Uint8Array(10) }, landmarks: landmarks(160, 120), faceHeight: FACE_H });
  assert.deepEqual(cue.evidence, { rigid: 0, still: 0 });
});

test('surroundGrid leaves out the head and everything below the eyes, and stays in the frame', () => {
  const points = surroundGrid(landmarks(160, 120), FACE_H, { width: W, height: H });
  assert.ok(points.length > 50);
  for (const p of points) {
    const u = (p.x - 160) / FACE_H;
    const v = (p.y - 120) / FACE_H;
    assert.ok(!onHead(u, v), 'not on the head');
    assert.ok(v <= -0.3 + 1e-9, 'not at or below the eyes (shoulders, a microphone, a phone at the ear, a hand on the chin)');
  }
  // Ears and hair at the head's sides are the head's.
  assert.ok(onHead(0.7, -0.5) && onHead(-0.7, -0.5));
  // A face at the frame's edge keeps only the points inside it.
  for (const p of surroundGrid(landmarks(10, 10), FACE_H, { width: W, height: H })) assert.ok(p.x >= 0 && p.y >= 0);
});

test('fitSimilarity recovers a rotation, a scale and a shift, and refuses a degenerate set', () => {
  const from = landmarks(100, 80);
  const m = { a: 1.1 * Math.cos(0.2), b: 1.1 * Math.sin(0.2), tx: 7, ty: -4 };
  const fit = fitSimilarity(from, from.map((p) => applySimilarity(m, p)))!;
  for (const k of ['a', 'b', 'tx', 'ty'] as const) assert.ok(Math.abs(fit[k] - m[k]) < 1e-9, k);
  assert.equal(fitSimilarity([{ x: 1, y: 1 }, { x: 1, y: 1 }], [{ x: 2, y: 2 }, { x: 3, y: 3 }]), undefined);
});

/** A wide frame (FACE_H faces in 960×540) with a far field: `world` shifted by `cam` (the camera's motion), and a held picture (a textured board 2 face heights either side and above the face) at `held`. */
function wide(cam: { dx: number; dy: number }, held?: { dx: number; dy: number }): RgbImage {
  const width = 960;
  const height = 540;
  const img = scene(cam.dx, cam.dy, 1, 1, width, height);
  if (held) {
    const cx = 480 + held.dx;
    const cy = 300 + held.dy;
    for (let y = Math.max(0, Math.round(cy - 2.2 * FACE_H)); y < Math.min(height, Math.round(cy + 2 * FACE_H)); y++) {
      for (let x = Math.max(0, Math.round(cx - 2 * FACE_H)); x < Math.min(width, Math.round(cx + 2 * FACE_H)); x++) {
        const level = texture(x, y, held.dx, held.dy, 7, 1);
        img.data.set([level, level, level], (y * width + x) * 3);
      }
    }
  }
  return img;
}

test('a camera that moves (pans, shakes) with the face moves the far field too: the surround that followed says nothing', () => {
  const frames = Array.from({ length: 12 }, (_, i) => {
    const { dx, dy } = path(i);
    return { img: wide({ dx, dy }), face: { x: 480 + dx, y: 300 + dy } };
  });
  assert.ok(farGrid(landmarks(480, 300), FACE_H, { width: 960, height: 540 }).length > 100, 'the frame has a far field');
  assert.deepEqual(run(frames), { rigid: 0, still: 0 });
});

test('a picture held and moved by a hand before a camera that stays: the surround follows, the far field stays', () => {
  const frames = Array.from({ length: 12 }, (_, i) => {
    const { dx, dy } = path(i);
    return { img: wide({ dx: 0, dy: 0 }, { dx, dy }), face: { x: 480 + dx, y: 300 + dy } };
  });
  const e = run(frames);
  assert.ok(e.rigid >= SURROUND_VERDICT.heldRigid, JSON.stringify(e));
  assert.equal(e.still, 0);
});

test('a faint surround that follows by less than heldFloor grey levels (a plain dark curtain) is no held picture', () => {
  const faint = SURROUND.heldFloor / 64;
  const frames = Array.from({ length: 12 }, (_, i) => {
    const { dx, dy } = path(i);
    return { img: scene(dx, dy, 1, faint), face: { x: 160 + dx, y: 120 + dy } };
  });
  assert.equal(run(frames).rigid, 0);
});

test('the far field leaves out the face, the body and a held picture below and beside it', () => {
  const face = landmarks(480, 300).slice(17, 68);
  const centre = { x: face.reduce((s, p) => s + p.x, 0) / face.length, y: face.reduce((s, p) => s + p.y, 0) / face.length };
  const points = farGrid(face, FACE_H, { width: 960, height: 540 });
  assert.ok(points.length > 100);
  for (const p of points) {
    const u = (p.x - centre.x) / FACE_H;
    const v = (p.y - centre.y) / FACE_H;
    assert.ok(Math.abs(u) > FAR_FIELD.reach || v < -FAR_FIELD.reach, `(${u}, ${v}) is near the face`);
  }
  assert.deepEqual(farGrid(landmarks(160, 120), 200, { width: W, height: H }), [], 'a face that fills the frame has none');
});

test('surroundVerdict: held, world, or not seen yet', () => {
  assert.equal(surroundVerdict({ rigid: SURROUND_VERDICT.heldRigid, still: 20 }, 9), 'held');
  assert.equal(surroundVerdict({ rigid: 0, still: SURROUND_VERDICT.clearStill }, 0.4), 'world');
  assert.equal(surroundVerdict({ rigid: 1, still: SURROUND_VERDICT.clearStill }, 0.4), 'unseen');
  assert.equal(surroundVerdict({ rigid: 1, still: 0 }, SURROUND_VERDICT.clearAfterS), 'world');
  assert.equal(surroundVerdict({ rigid: 0, still: 0 }, SURROUND_VERDICT.clearAfterS - 0.01), 'unseen');
  assert.ok(SURROUND.ratio < 1);
});
