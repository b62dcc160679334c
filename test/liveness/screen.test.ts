import '../support/fast-tier.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { edgeX, fitLine, SCREEN, ScreenCue, screenVerdict, SCREEN_VERDICT, sideEdge } from '../../daemon/liveness/screen.js';
import type { Point, RgbImage } from '../../daemon/vision/types.js';

const W = 400;
const H = 300;
const FACE_H = 50;

/** A frame (a bezel 8 px wide at grey 25 around a lit panel at 190, or a door's dark jambs) about (cx, cy), turned by `angle`, on a wall at 140. */
interface Frame {
  cx: number;
  cy: number;
  halfW: number;
  halfH: number;
  angle: number;
  /** Width of the dark band. */
  band: number;
}

function scene(frames: readonly Frame[], wall = 140): RgbImage {
  const data = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let level = wall + 6 * Math.sin(x * 0.05) * Math.cos(y * 0.07);
      for (const f of frames) {
        const [c, s] = [Math.cos(f.angle), Math.sin(f.angle)];
        const u = Math.abs(c * (x - f.cx) + s * (y - f.cy));
        const v = Math.abs(-s * (x - f.cx) + c * (y - f.cy));
        if (u < f.halfW && v < f.halfH) level = u > f.halfW - f.band || v > f.halfH - f.band ? 25 : 190;
      }
      data.fill(Math.round(level), (y * W + x) * 3, (y * W + x) * 3 + 3);
    }
  }
  return { width: W, height: H, data };
}

/** 68 points spread over a face FACE_H tall centred at (cx, cy): only their centre matters here. */
function landmarks(cx: number, cy: number): Point[] {
  return Array.from({ length: 68 }, (_, i) => ({ x: cx + FACE_H * 0.35 * Math.cos(i * 2.4), y: cy + FACE_H * 0.4 * Math.sin(i * 1.7) }));
}

const rows = (cy: number) => Array.from({ length: SCREEN.rows }, (_, i) => cy + FACE_H * (SCREEN.rowFrom + ((SCREEN.rowTo - SCREEN.rowFrom) * i) / (SCREEN.rows - 1)));
const tablet = (over: Partial<Frame> = {}): Frame => ({ cx: 200, cy: 150, halfW: 70, halfH: 100, angle: 0, band: 8, ...over });

test('fitLine: the least-squares line x = at + slope·(y − y0)', () => {
  const line = fitLine([0, 10, 20, 30].map((y) => ({ x: 5 + 0.25 * y, y })))!;
  assert.ok(Math.abs(line.slope - 0.25) < 1e-9 && Math.abs(edgeX({ ...line, step: 0, sign: 1 }, 0) - 5) < 1e-9, JSON.stringify(line));
  assert.equal(fitLine([{ x: 1, y: 3 }, { x: 2, y: 3 }]), undefined, 'points on one row fit no such line');
});

test('sideEdge: the straight edges of a frame on both sides of a face, upright or turned', () => {
  const img = scene([tablet()]);
  const left = sideEdge(img, 200, rows(150), FACE_H, -1)!;
  const right = sideEdge(img, 200, rows(150), FACE_H, 1)!;
  // The bezel's edges are at 62 (panel to bezel) and 70 (bezel to wall) px from the centre; either is an edge of the frame.
  assert.ok([130, 138].some((x) => Math.abs(left.at - x) <= 1.5) && Math.abs(left.slope) < 0.02, JSON.stringify(left));
  assert.ok([262, 270].some((x) => Math.abs(right.at - x) <= 1.5) && Math.abs(right.slope) < 0.02, JSON.stringify(right));
  const turned = sideEdge(scene([tablet({ angle: 0.1 })]), 200, rows(150), FACE_H, 1)!;
  assert.ok(Math.abs(turned.slope + Math.tan(0.1)) < 0.03, `slope ${turned.slope}`);
});

test('sideEdge: no edge on a plain wall, beyond the frame, or along a curve', () => {
  assert.equal(sideEdge(scene([]), 200, rows(150), FACE_H, -1), undefined);
  assert.equal(sideEdge(scene([tablet({ cx: 390 })]), 390, rows(150), FACE_H, 1), undefined, 'the side leaves the frame');
  // A round window about the face: its edge is no straight line over the face's height.
  const data = new Uint8Array(W * H * 3).fill(140);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if (Math.hypot(x - 200, (y - 150) * 2.2) < 60) data.fill(25, (y * W + x) * 3, (y * W + x) * 3 + 3);
  assert.equal(sideEdge({ width: W, height: H, data }, 200, rows(150), FACE_H, 1), undefined);
});

/** A track of detections 0.2 s apart. */
function run(looks: Array<{ img: RgbImage; face: { x: number; y: number } }>): ScreenCue {
  const cue = new ScreenCue();
  looks.forEach(({ img, face }, i) => cue.push({ t: i * 0.2, img, landmarks: landmarks(face.x, face.y), faceHeight: FACE_H }));
  return cue;
}

test('a screen turned and wobbled in place moves its bezel, while the face on it hardly moves: moved', () => {
  const looks = Array.from({ length: 12 }, (_, i) => ({ img: scene([tablet({ angle: 0.1 * Math.sin(i * 1.1), halfW: 70 - 4 * Math.abs(Math.sin(i * 0.7)) })]), face: { x: 200 + Math.sin(i), y: 150 } }));
  const e = run(looks).evidence;
  assert.ok(e.moved >= SCREEN_VERDICT.heldMoved, JSON.stringify(e));
  assert.equal(screenVerdict(e, 2.2), 'held');
});

test('a person in front of a door, a window or a monitor that stays put: its edges stayed, however the person moves', () => {
  const door = scene([tablet({ halfW: 80, halfH: 140 })]);
  const looks = Array.from({ length: 12 }, (_, i) => ({ img: door, face: { x: 200 + 6 * Math.sin(i * 0.9), y: 150 + 3 * Math.cos(i * 0.7) } }));
  const e = run(looks).evidence;
  assert.equal(e.moved, 0);
  assert.ok(e.stayed > 0, JSON.stringify(e));
  assert.equal(screenVerdict(e, 2.2), 'world');
});

test('a person who walks across the frame of a door: the jamb the face now covers is hidden, not moved', () => {
  const door = scene([{ cx: 200, cy: 150, halfW: 45, halfH: 140, angle: 0, band: 10 }, { cx: 200, cy: 150, halfW: 120, halfH: 140, angle: 0, band: 10 }]);
  const looks = Array.from({ length: 12 }, (_, i) => ({ img: door, face: { x: 150 + 9 * i, y: 150 } }));
  assert.equal(run(looks).evidence.moved, 0);
});

test('a frame whose one side keeps leaving its place (a screen turned about its other edge): no move, but the decision waits', () => {
  // The right edge stays at x = 270; the left one swings between 130 and 124, 12 % of a face height.
  const looks = Array.from({ length: 12 }, (_, i) => {
    const d = i % 2 === 0 ? 0 : 6;
    return { img: scene([tablet({ cx: 200 - d / 2, halfW: 70 + d / 2 })]), face: { x: 200, y: 150 } };
  });
  const e = run(looks).evidence;
  assert.equal(e.moved, 0, JSON.stringify(e));
  assert.ok(e.lastMovedS !== undefined && e.lastMovedS >= 1.8, JSON.stringify(e));
  assert.equal(screenVerdict(e, 2.2), 'pending');
  assert.equal(screenVerdict(e, e.lastMovedS + SCREEN_VERDICT.pendingS), e.stayed > 0 ? 'world' : 'unseen');
});

test('screenVerdict: held once the frame moved often enough; an edge that left its place keeps the track waiting a while after', () => {
  assert.equal(screenVerdict({ moved: SCREEN_VERDICT.heldMoved, stayed: 3, lastMovedS: 0.4 }, 1), 'held');
  const once = { moved: SCREEN_VERDICT.heldMoved - 1, stayed: 0, lastMovedS: 0.6 };
  assert.equal(screenVerdict(once, 0.6 + SCREEN_VERDICT.pendingS - 0.1), 'pending');
  assert.equal(screenVerdict(once, 0.6 + SCREEN_VERDICT.pendingS), 'unseen');
  assert.equal(screenVerdict({ moved: 0, stayed: 0 }, 3), 'unseen');
});

test('a camera that shakes moves a door\'s jambs, and the world far from the face with them: no move', () => {
  // A door in a textured wall, seen through a camera that shakes: every frame is the same scene
  // cut at another offset, so the jambs move as a bezel would, and so does everything else.
  const margin = 20;
  const canvas = { width: W + 2 * margin, height: H + 2 * margin };
  const wall = new Uint8Array(canvas.width * canvas.height * 3);
  for (let y = 0; y < canvas.height; y++) {
    for (let x = 0; x < canvas.width; x++) {
      const u = Math.abs(x - margin - 200);
      const v = Math.abs(y - margin - 150);
      const blob = Math.imul((Math.floor(x / 5) * 73856093) ^ (Math.floor(y / 5) * 19349663), 2654435761) >>> 24;
      const level = u < 80 && v < 140 ? (u > 72 || v > 132 ? 25 : 190) : 60 + (blob >> 1);
      wall.fill(level, (y * canvas.width + x) * 3, (y * canvas.width + x) * 3 + 3);
    }
  }
  const cut = (dx: number, dy: number): RgbImage => {
    const data = new Uint8Array(W * H * 3);
    for (let y = 0; y < H; y++) data.set(wall.subarray(((y + margin - dy) * canvas.width + margin - dx) * 3, ((y + margin - dy) * canvas.width + margin - dx + W) * 3), y * W * 3);
    return { width: W, height: H, data };
  };
  const looks = Array.from({ length: 12 }, (_, i) => {
    const dx = Math.round(6 * Math.sin(i * 1.3));
    const dy = Math.round(3 * Math.cos(i * 0.8));
    return { img: cut(dx, dy), face: { x: 200 + dx, y: 150 + dy } };
  });
  assert.equal(run(looks).evidence.moved, 0);
  // The same shake with the far field held still (only the door's part of the frame moves) is a held frame.
  const held = looks.map(({ img, face }) => {
    const still = cut(0, 0);
    for (let y = 0; y < H; y++) for (let x = 100; x < 300; x++) still.data.fill(img.data[(y * W + x) * 3]!, (y * W + x) * 3, (y * W + x) * 3 + 3);
    return { img: still, face };
  });
  const e = run(held).evidence;
  assert.ok(e.moved >= SCREEN_VERDICT.heldMoved, JSON.stringify(e));
});
