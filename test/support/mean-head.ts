// A mean head's 68 landmarks in 3D, and pinhole cameras that look at it: synthetic views of a face
// (or of a flat picture of one) for the pure geometry of the liveness cues.
import type { Box, Point } from '../../daemon/vision/types.js';

/** x to the image right, y down, z toward the camera; the nose tip at the origin. */
export type Point3 = readonly [number, number, number];

/**
 * The 68 points (iBUG order) of a mean head, in the units of the six-point model that
 * daemon/vision/quality.ts reads head pose with (outer eye corners ±225 across and 135 behind the
 * nose tip, the eye line 179 above it, mouth corners ±150, 141 below and 125 behind, chin 330 below
 * and 65 behind), the other points placed between them by the usual proportions of a face: brows
 * arched 70 above the eyes and a little behind them, the nose's root 60 behind its tip, the nostrils
 * 20–40 behind it, the lips ahead of their corners, the jaw wrapping back to the ears. The nose tip
 * stands 100–135 in front of the eyes, a fifth of the face's height (brows to chin, ~580).
 */
export function meanHead(): Point3[] {
  const jaw: Point3[] = Array.from({ length: 17 }, (_, i) => {
    const a = Math.PI * (i / 16); // from the right ear (0) round the chin (8) to the left ear (16)
    return [-300 * Math.cos(a), -60 + 390 * Math.sin(a), -65 - 235 * Math.abs(Math.cos(a))] as const;
  });
  const rightBrow: Point3[] = [
    [-270, -215, -170],
    [-215, -250, -130],
    [-160, -262, -105],
    [-105, -258, -85],
    [-55, -245, -75],
  ];
  const bridge: Point3[] = [
    [0, -180, -60],
    [0, -120, -40],
    [0, -60, -20],
    [0, 0, 0],
  ];
  const nostrils: Point3[] = [
    [-60, 40, -40],
    [-30, 48, -25],
    [0, 52, -20],
    [30, 48, -25],
    [60, 40, -40],
  ];
  const rightEye: Point3[] = [
    [-225, -179, -135],
    [-185, -200, -112],
    [-130, -202, -100],
    [-80, -176, -95],
    [-130, -158, -102],
    [-185, -160, -112],
  ];
  const mouth: Point3[] = [
    [-150, 141, -125],
    [-100, 118, -85],
    [-40, 108, -55],
    [0, 113, -50],
    [40, 108, -55],
    [100, 118, -85],
    [150, 141, -125],
    [100, 168, -85],
    [40, 182, -60],
    [0, 185, -55],
    [-40, 182, -60],
    [-100, 168, -85],
    [-130, 141, -110],
    [-40, 136, -65],
    [0, 136, -60],
    [40, 136, -65],
    [130, 141, -110],
    [40, 146, -65],
    [0, 146, -60],
    [-40, 146, -65],
  ];
  const mirror = (p: Point3): Point3 => [-p[0], p[1], p[2]];
  // The left brow runs from its inner end outward (22–26), the left eye from its inner corner (42–47).
  const leftBrow = [...rightBrow].reverse().map(mirror);
  const leftEye = [rightEye[3]!, rightEye[2]!, rightEye[1]!, rightEye[0]!, rightEye[5]!, rightEye[4]!].map(mirror);
  return [...jaw, ...rightBrow, ...leftBrow, ...bridge, ...nostrils, ...rightEye, ...leftEye, ...mouth];
}

/** The head's height as a detector's box has it: brows to chin. */
export const MEAN_HEAD_HEIGHT = 330 + 262;

/** The same landmarks on a flat picture of the head: every point in the plane of the nose tip. */
export function flattened(points: readonly Point3[]): Point3[] {
  return points.map(([x, y]) => [x, y, 0]);
}

/**
 * A camera at `distance` head heights from the head, turned about the head's vertical axis by
 * `yawDeg` (positive: the camera to the head's left, image right) and raised by `pitchDeg`, with a
 * focal length that makes the head `facePx` high seen square, its principal point at the centre of
 * a 1280×720 frame: the head's landmarks in that frame, and the box a detector would give
 * (the points' extent, a tenth wider each side).
 */
export function view(points: readonly Point3[], o: { yawDeg: number; pitchDeg?: number; facePx: number; distance?: number }): { landmarks: Point[]; box: Box; frame: { width: number; height: number } } {
  const frame = { width: 1280, height: 720 };
  const distance = (o.distance ?? 5) * MEAN_HEAD_HEIGHT;
  const f = (o.facePx * distance) / MEAN_HEAD_HEIGHT;
  const yaw = (o.yawDeg * Math.PI) / 180;
  const pitch = ((o.pitchDeg ?? 0) * Math.PI) / 180;
  // The head's centre (between the eyes and the mouth) sits on the camera's axis.
  const centre: Point3 = [0, 30, -100];
  const landmarks = points.map(([x0, y0, z0]) => {
    const [x, y, z] = [x0 - centre[0], y0 - centre[1], z0 - centre[2]];
    const x1 = x * Math.cos(yaw) + z * Math.sin(yaw);
    const z1 = -x * Math.sin(yaw) + z * Math.cos(yaw);
    const y2 = y * Math.cos(pitch) - z1 * Math.sin(pitch);
    const z2 = y * Math.sin(pitch) + z1 * Math.cos(pitch);
    const depth = distance - z2;
    return { x: frame.width / 2 + (f * x1) / depth, y: frame.height / 2 + (f * y2) / depth };
  });
  const xs = landmarks.map((p) => p.x);
  const ys = landmarks.slice(17).map((p) => p.y).concat(landmarks[8]!.y);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const box = { x: x0 - 0.1 * (x1 - x0), y: y0, w: 1.2 * (x1 - x0), h: y1 - y0 };
  return { landmarks, box, frame };
}
