import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gateEnrolmentFace, identifiable, pickDiverseFrames, enrolmentScore } from '../../daemon/gallery/quality-gate.js';
import type { FaceAnalysis, FaceQuality } from '../../daemon/vision/types.js';
import { galleryConfig } from './helpers.js';
import { regionsFor } from '../support/eye-regions.js';

const gate = galleryConfig().enrol;
const matcher = galleryConfig().matcher;

function face(q: Partial<FaceQuality> = {}, eyes: [number, number] = [0.99, 0.98]): FaceAnalysis {
  const quality: FaceQuality = { faceHeight: 300, eyeDistance: 100, sharpness: 500, yaw: 0, pitch: 0, roll: 0, ...q };
  const p = { x: 0, y: 0 };
  return {
    detection: { box: { x: 0, y: 0, w: quality.faceHeight * 0.8, h: quality.faceHeight }, score: 0.99 },
    landmarks68: [],
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
  assert.equal(reason([face({ pitch: -40 })]), 'pose');
  const r = gateEnrolmentFace([face({ faceHeight: 60 })], gate);
  assert.ok(!r.ok && /60 px .*at least 80 px/.test(r.refusal.detail));
  const b = gateEnrolmentFace([face({ sharpness: 12 })], gate);
  assert.ok(!b.ok && /sharpness 12/.test(b.refusal.detail));
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
