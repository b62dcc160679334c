import '../support/fast-tier.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applySimilarity, fitSimilarity, onHead, SURROUND, SurroundCue, surroundGrid, surroundVerdict, SURROUND_VERDICT } from '../../daemon/liveness/surround.js';
import type { Point, RgbImage } from '../../daemon/vision/types.js';

const W = 320;
const H = 240;
const FACE_H = 60;

/** A textured scene (a pseudo-random pattern of 6 px blobs), shifted by (dx, dy). */
function scene(dx: number, dy: number, seed = 1): RgbImage {
  const data = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const u = Math.floor((x - dx) / 6);
      const v = Math.floor((y - dy) / 6);
      const level = Math.imul((u * 73856093) ^ (v * 19349663) ^ seed, 2654435761) >>> 24;
      data.set([level, level, level], (y * W + x) * 3);
    }
  }
  return { width: W, height: H, data };
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

test('surroundGrid leaves out the head and what is below the chin, and stays in the frame', () => {
  const points = surroundGrid(landmarks(160, 120), FACE_H, { width: W, height: H });
  assert.ok(points.length > 50);
  for (const p of points) {
    const u = (p.x - 160) / FACE_H;
    const v = (p.y - 120) / FACE_H;
    assert.ok(!onHead(u, v), 'not on the head');
    assert.ok(v <= 0.5 + 1e-9, 'not below the chin');
  }
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

test('surroundVerdict: held, world, or not seen yet', () => {
  assert.equal(surroundVerdict({ rigid: SURROUND_VERDICT.heldRigid, still: 20 }, 9), 'held');
  assert.equal(surroundVerdict({ rigid: 0, still: SURROUND_VERDICT.clearStill }, 0.4), 'world');
  assert.equal(surroundVerdict({ rigid: 1, still: SURROUND_VERDICT.clearStill }, 0.4), 'unseen');
  assert.equal(surroundVerdict({ rigid: 1, still: 0 }, SURROUND_VERDICT.clearAfterS), 'world');
  assert.equal(surroundVerdict({ rigid: 0, still: 0 }, SURROUND_VERDICT.clearAfterS - 0.01), 'unseen');
  assert.ok(SURROUND.ratio < 1);
});
