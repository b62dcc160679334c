import { ALIGNED_SIZE, REFERENCE_5 } from './align.js';
import type { EyeRegions } from './types.js';

/**
 * Where to look in the aligned face (112×112, eyes and nose on the reference points) for eyelid
 * movement: a patch around each eye, and a reference patch over the nose that a blink leaves alone.
 * Sizes are in aligned pixels (the eyes are 35 apart): an eye's patch covers lids, lashes and the
 * skin just above and below, so a closing lid changes most of it.
 */
const EYE_W = 22;
const EYE_H = 14;
const NOSE_W = 22;
const NOSE_H = 16;
const BROWS_W = 60;
const BROWS_H = 10;
/**
 * Pixels of margin kept around each patch so that two looks can be compared at shifts: landmarks
 * placed a few pixels off move every patch of the aligned face together, and a look is compared
 * with another after that shift is taken out.
 */
export const MARGIN = 6;

export interface PatchSpec {
  /** Core size compared. */
  w: number;
  h: number;
}

export const EYE_PATCH: PatchSpec = { w: EYE_W, h: EYE_H };
export const NOSE_PATCH: PatchSpec = { w: NOSE_W, h: NOSE_H };
export const BROWS_PATCH: PatchSpec = { w: BROWS_W, h: BROWS_H };

/** Nose patch centre: between the eyes' line and the nose tip, clear of the mouth that moves in speech. */
const NOSE_CENTRE = { x: REFERENCE_5[2].x, y: (REFERENCE_5[0].y + REFERENCE_5[2].y) / 2 + 4 };
/** Brows: about 0.45 eye distances above the eyes' line, across both. */
const BROWS_CENTRE = { x: (REFERENCE_5[0].x + REFERENCE_5[1].x) / 2, y: REFERENCE_5[0].y - 16 };

/** The four patches, cut from the aligned grey face that the analyzer samples anyway. */
export function eyeRegions(alignedGray: Float32Array): EyeRegions {
  return {
    right: cut(alignedGray, REFERENCE_5[0], EYE_PATCH),
    left: cut(alignedGray, REFERENCE_5[1], EYE_PATCH),
    nose: cut(alignedGray, NOSE_CENTRE, NOSE_PATCH),
    brows: cut(alignedGray, BROWS_CENTRE, BROWS_PATCH),
  };
}

function cut(gray: Float32Array, centre: { x: number; y: number }, spec: PatchSpec): Float32Array {
  const w = spec.w + 2 * MARGIN;
  const h = spec.h + 2 * MARGIN;
  const x0 = Math.round(centre.x - w / 2);
  const y0 = Math.round(centre.y - h / 2);
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const sy = Math.min(ALIGNED_SIZE - 1, Math.max(0, y0 + y));
    for (let x = 0; x < w; x++) out[y * w + x] = gray[sy * ALIGNED_SIZE + Math.min(ALIGNED_SIZE - 1, Math.max(0, x0 + x))]!;
  }
  return out;
}
