import { BROWS_PATCH, EYE_PATCH, NOSE_PATCH, SHIFT, type EyeRegions, type PatchSpec } from '../vision/eye-regions.js';

/**
 * How different two looks at the same patch are, beyond what a small misregistration and a change
 * of brightness or contrast explain: the smallest mean absolute difference, over shifts of up to
 * SHIFT pixels, between the two cores each normalised to zero mean and unit deviation. 0 for the
 * same picture; ~0.1–0.25 between two frames of a still face after resampling and H.264; a lid
 * covering the eye replaces the dark iris and lashes with skin and changes most of the patch.
 */
export function patchChange(a: Float32Array, b: Float32Array, spec: PatchSpec): number {
  const stride = spec.w + 2 * SHIFT;
  const na = normalised(a, stride, SHIFT, SHIFT, spec);
  let best = Infinity;
  for (let dy = -SHIFT; dy <= SHIFT; dy++) {
    for (let dx = -SHIFT; dx <= SHIFT; dx++) {
      const nb = normalised(b, stride, SHIFT + dx, SHIFT + dy, spec);
      let sum = 0;
      for (let i = 0; i < na.length; i++) sum += Math.abs(na[i]! - nb[i]!);
      best = Math.min(best, sum / na.length);
    }
  }
  return best;
}

function normalised(patch: Float32Array, stride: number, x0: number, y0: number, spec: PatchSpec): Float32Array {
  const out = new Float32Array(spec.w * spec.h);
  let sum = 0;
  for (let y = 0; y < spec.h; y++) for (let x = 0; x < spec.w; x++) sum += out[y * spec.w + x] = patch[(y0 + y) * stride + x0 + x]!;
  const mean = sum / out.length;
  let sq = 0;
  for (let i = 0; i < out.length; i++) sq += (out[i]! - mean) ** 2;
  // A flat patch (a blank wall, a blown-out photo) has no structure to compare: a floor on the
  // deviation keeps its noise from being blown up into a change.
  const inv = 1 / Math.max(Math.sqrt(sq / out.length), 2);
  for (let i = 0; i < out.length; i++) out[i] = (out[i]! - mean) * inv;
  return out;
}

/** How much each region of one closed look moved, against the open looks on either side of the closure. */
export interface LidMotion {
  left: number;
  right: number;
  /** The larger change of the nose and brow patches: how much the picture itself changed (resampling, codec, a turn, a tilt, landmarks off). */
  ref: number;
}

/**
 * Each closed look's change from the open look before the closure and from the open look that
 * ends it, the smaller of the two, per region: a lid that closed and opened again differs from
 * both; a face that turned or a gaze that moved for good differs from one side only.
 */
export function lidMotion(before: EyeRegions, closed: EyeRegions, after: EyeRegions): LidMotion {
  const change = (pick: (r: EyeRegions) => Float32Array, spec: PatchSpec) => Math.min(patchChange(pick(closed), pick(before), spec), patchChange(pick(closed), pick(after), spec));
  return {
    left: change((r) => r.left, EYE_PATCH),
    right: change((r) => r.right, EYE_PATCH),
    ref: Math.max(change((r) => r.nose, NOSE_PATCH), change((r) => r.brows, BROWS_PATCH)),
  };
}
