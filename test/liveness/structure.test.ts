import '../support/fast-tier.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { fuzzParameters } from '../support/fuzz.js';
import { planarResidual } from '../../daemon/liveness/planar-fit.js';
import { STRUCTURE, StructureCue } from '../../daemon/liveness/structure.js';
import type { Point } from '../../daemon/vision/types.js';

/**
 * A face as 68 points in 3D, unit = face height, centred on the nose bridge: brows and eyes in the
 * plane z = 0, the nose standing out of it up to 0.25 at its tip (as on a real head), the rest flat.
 */
function face3d(): Array<[number, number, number]> {
  const points: Array<[number, number, number]> = [];
  for (let i = 0; i < 68; i++) {
    if (i >= 17 && i <= 26) points.push([-0.4 + ((i - 17) * 0.8) / 9, -0.25 + 0.03 * Math.abs(i - 21.5), -0.02]);
    else if (i >= 27 && i <= 30) points.push([0, -0.1 + (i - 27) * 0.1, 0.06 * (i - 26)]);
    else if (i >= 31 && i <= 35) points.push([-0.1 + (i - 31) * 0.05, 0.25, 0.12 + 0.04 * (2 - Math.abs(i - 33))]);
    else if (i >= 36 && i <= 47) {
      const side = i < 42 ? -1 : 1;
      const k = (i - (i < 42 ? 36 : 42)) / 6;
      points.push([side * 0.2 + 0.1 * Math.cos(2 * Math.PI * k), -0.08 + 0.03 * Math.sin(2 * Math.PI * k), 0]);
    } else points.push([0.5 * Math.cos((Math.PI * i) / 16), 0.5 * Math.sin((Math.PI * i) / 16) + 0.1, -0.1]);
  }
  return points;
}

/** The face turned by yaw and pitch (degrees), seen by a pinhole camera 3 m away (faces of 0.25 m): pixels for a face `heightPx` high. */
function project(points: Array<[number, number, number]>, yawDeg: number, pitchDeg: number, heightPx: number, flat = false): Point[] {
  const yaw = (yawDeg * Math.PI) / 180;
  const pitch = (pitchDeg * Math.PI) / 180;
  const distance = 12; // face heights
  return points.map(([x, y, z0]) => {
    const z = flat ? 0 : z0;
    const x1 = x * Math.cos(yaw) + z * Math.sin(yaw);
    const z1 = -x * Math.sin(yaw) + z * Math.cos(yaw);
    const y2 = y * Math.cos(pitch) - z1 * Math.sin(pitch);
    const z2 = y * Math.sin(pitch) + z1 * Math.cos(pitch);
    const scale = (heightPx * distance) / (distance - z2);
    return { x: 960 + x1 * scale, y: 540 + y2 * scale };
  });
}

test('planarResidual: a plane under any homography leaves nothing; a head that turns, nods or speaks does not', () => {
  const head = face3d();
  const rigid = (a: Point[]) => a.slice(17, 68);
  const flatFront = rigid(project(head, 0, 0, 100, true));
  const flatTurned = rigid(project(head, 25, -15, 140, true));
  assert.ok(planarResidual(flatFront, flatTurned)! < 1e-6 * 140);
  const front = rigid(project(head, 0, 0, 100));
  const turned = rigid(project(head, 30, 0, 100));
  const nodded = rigid(project(head, 0, 30, 100));
  assert.ok(planarResidual(front, turned)! / 100 > STRUCTURE.residual, 'a 30° turn');
  assert.ok(planarResidual(front, nodded)! / 100 > STRUCTURE.residual, 'a 30° nod');
  // A word: the lower lip drops 8 % of the face height, the head still.
  const speaking = head.map(([x, y, z], i): [number, number, number] => ([56, 57, 58, 65, 66, 67].includes(i) ? [x, y + 0.08, z] : [x, y, z]));
  assert.ok(planarResidual(front, rigid(project(speaking, 0, 0, 100)))! / 100 > STRUCTURE.residual, 'a mouth that speaks');
  assert.equal(planarResidual(front.slice(0, 4), front.slice(0, 4)), undefined, 'four points fit any homography');
});

test('planarResidual: fuzzed planes stay planar, and the residual scales with the picture', () => {
  fc.assert(
    fc.property(fc.double({ min: -30, max: 30, noNaN: true }), fc.double({ min: -30, max: 30, noNaN: true }), fc.double({ min: 40, max: 400, noNaN: true }), (yaw, pitch, px) => {
      const flat = project(face3d(), yaw, pitch, px, true).slice(17, 48);
      const front = project(face3d(), 0, 0, 100, true).slice(17, 48);
      assert.ok(planarResidual(front, flat)! / px < 1e-4);
    }),
    fuzzParameters(200),
  );
});

test('StructureCue: a print moved about never proves a face, even with landmark noise; a head turning does', () => {
  let seed = 7;
  const noise = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return (seed / 2 ** 31 - 0.5) * 2;
  };
  // Landmark noise of ±0.4 % of the face height, as the landmark model gives on a moved print.
  const jitter = (points: Point[], px: number) => points.map((p) => ({ x: p.x + noise() * 0.004 * px, y: p.y + noise() * 0.004 * px }));
  const head = face3d();
  const print = new StructureCue();
  const real = new StructureCue();
  // Five detections a second for 4 s, the face swinging ±35° and nodding half as much.
  for (let i = 0; i < 20; i++) {
    const t = i / 5;
    const px = 100 + 40 * Math.sin(t);
    const swing = 35 * Math.sin(2 * Math.PI * t * 0.4);
    print.push({ t, landmarks: jitter(project(head, swing, swing / 2, px, true), px), faceHeight: px });
    real.push({ t, landmarks: jitter(project(head, swing, swing / 2, px), px), faceHeight: px });
  }
  assert.equal(print.evidence.hits, 0, `print residual ${print.evidence.maxResidual}`);
  assert.ok(real.evidence.hits >= STRUCTURE.hits, `head: ${JSON.stringify(real.evidence)}`);
});

test('StructureCue: one misplaced set of landmarks makes at most one hit, and malformed ones are ignored', () => {
  const head = face3d();
  const flat = project(head, 0, 0, 100, true);
  const cue = new StructureCue();
  for (let i = 0; i < 20; i++) {
    const t = i / 5;
    // At 1 s the landmarks land elsewhere (a hand across the face): that look against every other is no plane.
    const landmarks = i === 5 ? flat.map((p, k) => ({ x: p.x + 15 * Math.sin(k), y: p.y + 15 * Math.cos(k * 1.7) })) : flat;
    cue.push({ t, landmarks, faceHeight: 100 });
  }
  assert.ok(cue.evidence.hits <= 1, JSON.stringify(cue.evidence));
  const empty = new StructureCue();
  for (let i = 0; i < 10; i++) empty.push({ t: i / 5, landmarks: project(head, 3 * i, 0, 100).slice(0, 20), faceHeight: 100 });
  for (let i = 0; i < 10; i++) empty.push({ t: 2 + i / 5, landmarks: project(head, 3 * i, 0, 100), faceHeight: 0 });
  assert.deepEqual(empty.evidence, { hits: 0, maxResidual: 0 });
});
