import '../support/fast-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gateEnrolmentFace, identifiable, pickDiverseFrames, enrolmentScore } from '../../daemon/gallery/quality-gate.js';
import type { FaceAnalysis, FaceQuality, Point } from '../../daemon/vision/types.js';
import { galleryConfig } from './helpers.js';
import { regionsFor } from '../support/eye-regions.js';

const gate = galleryConfig().enrol;
const matcher = galleryConfig().matcher;

/**
 * 68 points whose eyes have these lid openings (lid-to-lid over corner-to-corner, see
 * eyelidOpenings): each eye 20 px wide, the right one (image left) at x 30, the left at x 70.
 */
function landmarksWithLids(right: number, left: number): Point[] {
  const lm: Point[] = Array.from({ length: 68 }, () => ({ x: 50, y: 80 }));
  const eye = (first: number, x0: number, opening: number) => {
    const half = (20 * opening) / 2;
    lm[first] = { x: x0, y: 40 };
    lm[first + 1] = { x: x0 + 7, y: 40 - half };
    lm[first + 2] = { x: x0 + 13, y: 40 - half };
    lm[first + 3] = { x: x0 + 20, y: 40 };
    lm[first + 4] = { x: x0 + 13, y: 40 + half };
    lm[first + 5] = { x: x0 + 7, y: 40 + half };
  };
  eye(36, 20, right);
  eye(42, 60, left);
  return lm;
}

function face(q: Partial<FaceQuality> = {}, eyes: [number, number] = [0.99, 0.98], landmarks68: Point[] = []): FaceAnalysis {
  const quality: FaceQuality = { faceHeight: 300, eyeDistance: 100, sharpness: 500, yaw: 0, pitch: 0, roll: 0, ...q };
  const p = { x: 0, y: 0 };
  return {
    detection: { box: { x: 0, y: 0, w: quality.faceHeight * 0.8, h: quality.faceHeight }, score: 0.99 },
    landmarks68,
    landmarks5: [p, p, p, p, p],
    quality,
    eyes: { left: { pOpen: eyes[0] }, right: { pOpen: eyes[1] }, regions: regionsFor(eyes[0], eyes[1]) },
    embedding: new Float32Array(512),
  };
}

const reason = (faces: FaceAnalysis[]) => {
  const r = gateEnrolmentFace(faces, gate);
  return r.ok ? 'ok' : r.refusal.reason;
};

test('a large, sharp, frontal face with open eyes passes', () => {
  assert.equal(reason([face()]), 'ok');
});

test('each refusal names its reason, with the measured value and the limit in the detail', () => {
  assert.equal(reason([]), 'no_face');
  assert.equal(reason([face({ faceHeight: 60 })]), 'too_small');
  assert.equal(reason([face({ sharpness: 10 })]), 'blurred');
  assert.equal(reason([face({}, [0.02, 0.99])]), 'eyes_closed');
  assert.equal(reason([face({ yaw: 50 })]), 'pose');
  assert.equal(reason([face({ pitch: -45 })]), 'pose');
  assert.equal(reason([face({ pitch: 30 })]), 'ok', 'a face looking down 30° is still recognisable');
  const r = gateEnrolmentFace([face({ faceHeight: 60 })], gate);
  assert.ok(!r.ok && /60 px .*at least 80 px/.test(r.refusal.detail));
  const b = gateEnrolmentFace([face({ sharpness: 12 })], gate);
  assert.ok(!b.ok && /sharpness 12/.test(b.refusal.detail));
});

test('an eye read shut while the other reads open is refused only where the eyelid landmarks show the two eyes unlike', () => {
  // The model misreads one open eye: the lids of both are equally open.
  assert.equal(reason([face({}, [0.02, 0.99], landmarksWithLids(0.26, 0.25))]), 'ok');
  // The lids show that eye lower than the other: closed, as the model says.
  assert.equal(reason([face({}, [0.02, 0.99], landmarksWithLids(0.12, 0.26))]), 'eyes_closed');
  // Neither eye read open: the model and the lids do not disagree about an eye it reads open.
  assert.equal(reason([face({}, [0.02, 0.3], landmarksWithLids(0.26, 0.25))]), 'eyes_closed');
  assert.equal(reason([face({}, [0.02, 0.01], landmarksWithLids(0.3, 0.3))]), 'eyes_closed');
});

test('two faces of similar size are refused; a small face in the background is not', () => {
  assert.equal(reason([face({ faceHeight: 300 }), face({ faceHeight: 280 })]), 'several_faces');
  assert.equal(reason([face({ faceHeight: 300 }), face({ faceHeight: 90 })]), 'ok');
  // The background face is below min_face_px: never counted.
  assert.equal(reason([face({ faceHeight: 120 }), face({ faceHeight: 70 })]), 'ok');
});

test('identify reports tiny and poor faces as such instead of searching them', () => {
  assert.equal(identifiable(face({ faceHeight: 30 }), matcher), 'too_small');
  assert.equal(identifiable(face({ sharpness: 5 }), matcher), 'low_quality');
  assert.equal(identifiable(face({ yaw: 75 }), matcher), 'low_quality');
  assert.equal(identifiable(face(), matcher), 'ok');
});

test('video frames: the sharpest first, each differing in pose from those kept', () => {
  const frames = [
    { id: 'a', face: face({ sharpness: 900, yaw: 0 }) },
    { id: 'b', face: face({ sharpness: 800, yaw: 2 }) }, // same pose as a
    { id: 'c', face: face({ sharpness: 700, yaw: 15 }) },
    { id: 'd', face: face({ sharpness: 600, yaw: -15 }) },
    { id: 'e', face: face({ sharpness: 500, pitch: 12 }) },
  ];
  assert.deepEqual(pickDiverseFrames(frames, 3, 8).map((f) => f.id), ['a', 'c', 'd']);
  assert.deepEqual(pickDiverseFrames(frames, 10, 8).map((f) => f.id), ['a', 'c', 'd', 'e']);
  assert.deepEqual(pickDiverseFrames(frames, 10, 0).length, 5);
});

test('enrolment score prefers frontal over turned faces of the same size and sharpness', () => {
  assert.ok(enrolmentScore(face({ yaw: 0 })) > enrolmentScore(face({ yaw: 30 })));
  assert.ok(enrolmentScore(face()) <= 1);
});
