import { ALIGNED_SIZE, eyeCentres } from './align.js';
import { distance } from './geometry.js';
import type { Detection, FaceQuality, Point } from './types.js';

const DEG = 180 / Math.PI;

/**
 * Frontal value of (nose tip − eye line) / (chin − eye line), measured on the frontal identity
 * photos of the test media; pitch is read from how far a face's ratio is from it.
 */
const FRONTAL_NOSE_RATIO = 0.32;

/** Quality of one face from its box, its 68 landmarks (frame and aligned frame) and its aligned grey pixels. */
export function faceQuality(
  detection: Detection,
  landmarks: readonly Point[],
  alignedLandmarks: readonly Point[],
  alignedGray: Float32Array,
): FaceQuality {
  const { right, left } = eyeCentres(landmarks);
  return {
    faceHeight: detection.box.h,
    eyeDistance: distance(right, left),
    sharpness: laplacianVariance(alignedGray, ALIGNED_SIZE, ALIGNED_SIZE),
    ...headPose(landmarks, alignedLandmarks),
  };
}

/**
 * Head pose from landmarks, in degrees. Roll is the eye line's angle in the frame. Yaw and pitch
 * are read in the aligned frame (roll and scale removed): yaw from where the nose tip sits between
 * the jaw's two sides, pitch from where it sits between the eye line and the chin. Rough (±10°),
 * enough to prefer frontal frames and refuse profiles.
 */
export function headPose(landmarks: readonly Point[], aligned: readonly Point[]): { yaw: number; pitch: number; roll: number } {
  const { right, left } = eyeCentres(landmarks);
  const roll = Math.atan2(left.y - right.y, left.x - right.x) * DEG;
  const nose = aligned[30]!;
  const jawRight = aligned[0]!;
  const jawLeft = aligned[16]!;
  const chin = aligned[8]!;
  const eyeY = (aligned[37]!.y + aligned[38]!.y + aligned[40]!.y + aligned[41]!.y + aligned[43]!.y + aligned[44]!.y + aligned[46]!.y + aligned[47]!.y) / 8;
  const across = (nose.x - jawRight.x) / Math.max(1e-6, jawLeft.x - jawRight.x);
  const down = (nose.y - eyeY) / Math.max(1e-6, chin.y - eyeY);
  const yaw = Math.asin(clamp(2 * across - 1, -1, 1)) * DEG;
  const pitch = Math.asin(clamp((down - FRONTAL_NOSE_RATIO) / (1 - FRONTAL_NOSE_RATIO), -1, 1)) * DEG;
  return { yaw, pitch, roll };
}

/** Variance of the 4-neighbour Laplacian of a grey image: the usual focus measure. */
export function laplacianVariance(gray: Float32Array, width: number, height: number): number {
  let sum = 0;
  let sumSq = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1, p = y * width + 1; x < width - 1; x++, p++) {
      const lap = gray[p - 1]! + gray[p + 1]! + gray[p - width]! + gray[p + width]! - 4 * gray[p]!;
      sum += lap;
      sumSq += lap * lap;
    }
  }
  const n = (width - 2) * (height - 2);
  const mean = sum / n;
  return sumSq / n - mean * mean;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
