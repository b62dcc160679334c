import { applyAffine, distance, invertAffine, meanPoint, umeyamaSimilarity, type Affine } from './geometry.js';
import type { Landmarks5, Landmarks68, Point } from './types.js';

export const ALIGNED_SIZE = 112;

/** The standard ArcFace 112×112 positions of the five points (eyes, nose tip, mouth corners). */
export const REFERENCE_5: Landmarks5 = [
  { x: 38.2946, y: 51.6963 },
  { x: 73.5318, y: 51.5014 },
  { x: 56.0252, y: 71.7366 },
  { x: 41.5493, y: 92.3655 },
  { x: 70.7299, y: 92.2041 },
];

const pick = (lm: Landmarks68, idx: readonly number[]): Point[] => idx.map((i) => lm[i]!);

/** Eyelid points (upper two, lower two) of the subject's right eye (image left) and left eye. */
export const RIGHT_EYE_LIDS = [37, 38, 40, 41] as const;
export const LEFT_EYE_LIDS = [43, 44, 46, 47] as const;
/** Eye corners: outer/inner of each eye. */
export const RIGHT_EYE_CORNERS = [36, 39] as const;
export const LEFT_EYE_CORNERS = [42, 45] as const;

/**
 * How open the eyelids are by the landmarks: each eye's two lid-to-lid distances (upper lid point
 * to the lower one below it) over twice its corner-to-corner distance, the mean of both eyes. About
 * 0.25–0.35 for open eyes at native size; the landmark model leans towards an average eye on a
 * small face, so a closed eye there reads only 0.5–0.8 of its open value, not 0.
 */
export function eyelidOpening(lm: Landmarks68): number {
  const { right, left } = eyelidOpenings(lm);
  return (right + left) / 2;
}

/** Each eye's lid opening by the landmarks (see eyelidOpening): the subject's right eye (image left) and left eye. */
export function eyelidOpenings(lm: Landmarks68): { right: number; left: number } {
  const eye = ([a, b, c, d]: readonly [number, number, number, number], [p, q]: readonly [number, number]) =>
    (distance(lm[a]!, lm[d]!) + distance(lm[b]!, lm[c]!)) / Math.max(1e-6, 2 * distance(lm[p]!, lm[q]!));
  return { right: eye(RIGHT_EYE_LIDS, RIGHT_EYE_CORNERS), left: eye(LEFT_EYE_LIDS, LEFT_EYE_CORNERS) };
}

/**
 * The face's shape by points a blink leaves in place: the eye corners' midpoint to the nose's base
 * (33) over the outer corners' distance (36, 45). A picture tilted back or turned squeezes the whole
 * face and changes it by the cosine of the angle; closing the lids moves none of these points.
 */
export function faceShape(lm: Landmarks68): number {
  const mid = meanPoint(pick(lm, [...RIGHT_EYE_CORNERS, ...LEFT_EYE_CORNERS]));
  return distance(mid, lm[33]!) / Math.max(1e-6, distance(lm[36]!, lm[45]!));
}

export function eyeCentres(lm: Landmarks68): { right: Point; left: Point } {
  return { right: meanPoint(pick(lm, RIGHT_EYE_LIDS)), left: meanPoint(pick(lm, LEFT_EYE_LIDS)) };
}

/** The five alignment points from the 68: eye centres, nose tip (30), mouth corners (outer + inner lip). */
export function fivePoints(lm: Landmarks68): Landmarks5 {
  const { right, left } = eyeCentres(lm);
  return [right, left, lm[30]!, meanPoint(pick(lm, [48, 60])), meanPoint(pick(lm, [54, 64]))];
}

/**
 * The alignment of one face: `toAligned` maps frame pixels into the 112×112 reference frame,
 * `fromAligned` maps back (what the sampler needs).
 */
export interface Alignment {
  toAligned: Affine;
  fromAligned: Affine;
}

export function alignment(points: Landmarks5): Alignment {
  const toAligned = umeyamaSimilarity(points, REFERENCE_5);
  return { toAligned, fromAligned: invertAffine(toAligned) };
}

export function toAlignedFrame(a: Alignment, lm: Landmarks68): Point[] {
  return lm.map((p) => applyAffine(a.toAligned, p));
}
