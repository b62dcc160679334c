import { ALIGNED_SIZE, eyeCentres } from './align.js';
import { distance } from './geometry.js';
import type { Detection, FaceQuality, Point } from './types.js';

const DEG = 180 / Math.PI;

/**
 * A mean head, for reading pose from where six of the 68 landmarks sit: x to the image right, y
 * down, z towards the camera, nose tip at the origin. It is the six-point model commonly used to
 * solve head pose (outer eye corners ±225 across and 135 behind the nose tip, mouth corners ±150
 * and 125 behind, chin 330 down and 65 behind), except that the eye line sits 179 above the nose
 * tip rather than 170: the nose tip at 0.56 of the way from the eye line to the mouth corners, the
 * median over the 90 identity photos of the test media (0.44–0.67 from the 10th to the 90th
 * percentile: heads differ, and a broad smile lifts the mouth corners). Nothing in it is fitted to
 * a clip; six points average out more of one head's own proportions than a ratio of two distances.
 */
const MEAN_HEAD: ReadonlyArray<readonly [index: number, x: number, y: number, z: number]> = [
  [30, 0, 0, 0],
  [36, -225, -179, -135],
  [45, 225, -179, -135],
  [48, -150, 141, -125],
  [54, 150, 141, -125],
  [8, 0, 330, -65],
];

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
 * come from the aligned frame (roll and scale removed): the mean head is fitted to the six points
 * as a camera at a distance sees it (an affine projection, least squares), and the direction the
 * fitted face points in is split into its turn across (yaw) and its tilt down (pitch). Turning
 * moves the nose tip sideways, looking down moves it down, and the fit reads both at once, so a face
 * looking down does not read as turned, nor a turned one as tilted. Rough (±10°: heads differ from
 * the mean one), enough to weigh frames and refuse profiles.
 */
export function headPose(landmarks: readonly Point[], aligned: readonly Point[]): { yaw: number; pitch: number; roll: number } {
  const { right, left } = eyeCentres(landmarks);
  const roll = Math.atan2(left.y - right.y, left.x - right.x) * DEG;
  const { forwardX, forwardY } = facing(MEAN_HEAD.map(([i]) => aligned[i]!));
  const forwardZ = Math.sqrt(Math.max(0, 1 - forwardX * forwardX - forwardY * forwardY));
  return { yaw: Math.atan2(forwardX, forwardZ) * DEG, pitch: Math.atan2(forwardY, Math.hypot(forwardX, forwardZ)) * DEG, roll };
}

/**
 * The affine projection of the mean head that best fits the image points (least squares, both
 * centred), its two rows made unit vectors: rows of the head's rotation. Their depth components are
 * where the head's forward axis points across (x) and down (y) in the image.
 */
function facing(points: readonly Point[]): { forwardX: number; forwardY: number } {
  const n = MEAN_HEAD.length;
  const mean = (f: (k: number) => number) => Array.from({ length: n }, (_, k) => f(k)).reduce((sum, v) => sum + v, 0) / n;
  const model = [1, 2, 3].map((axis) => {
    const m = mean((k) => MEAN_HEAD[k]![axis]!);
    return MEAN_HEAD.map((row) => row[axis]! - m);
  });
  const mx = mean((k) => points[k]!.x);
  const my = mean((k) => points[k]!.y);
  const xs = points.map((p) => p.x - mx);
  const ys = points.map((p) => p.y - my);
  const gram = model.map((a) => model.map((b) => a.reduce((sum, v, k) => sum + v * b[k]!, 0)));
  const rowX = solve3(gram, model.map((a) => a.reduce((sum, v, k) => sum + v * xs[k]!, 0)));
  const rowY = solve3(gram, model.map((a) => a.reduce((sum, v, k) => sum + v * ys[k]!, 0)));
  return { forwardX: rowX[2] / Math.max(1e-9, Math.hypot(...rowX)), forwardY: rowY[2] / Math.max(1e-9, Math.hypot(...rowY)) };
}

/** The solution of a 3×3 linear system (Cramer's rule); the mean head's points make it well-posed. */
function solve3(m: readonly (readonly number[])[], v: readonly number[]): [number, number, number] {
  const det = (a: readonly (readonly number[])[]) =>
    a[0]![0]! * (a[1]![1]! * a[2]![2]! - a[1]![2]! * a[2]![1]!) - a[0]![1]! * (a[1]![0]! * a[2]![2]! - a[1]![2]! * a[2]![0]!) + a[0]![2]! * (a[1]![0]! * a[2]![1]! - a[1]![1]! * a[2]![0]!);
  const d = det(m);
  const column = (c: number) => det(m.map((row, r) => row.map((x, k) => (k === c ? v[r]! : x))));
  return [column(0) / d, column(1) / d, column(2) / d];
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
