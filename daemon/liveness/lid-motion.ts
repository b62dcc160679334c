import { BROWS_PATCH, EYE_PATCH, MARGIN, NOSE_PATCH, type PatchSpec } from '../vision/eye-regions.js';
import type { EyeRegions } from '../vision/types.js';

/** Largest misregistration of a whole look (landmarks placed off) taken out before the lids are compared, aligned pixels. */
const GLOBAL_SHIFT = MARGIN - 2;
/** What is left for each patch's own small misfit on top of that. */
const LOCAL_SHIFT = 2;

interface Shift {
  dx: number;
  dy: number;
}

/**
 * How different two looks at the same patch are, beyond what a shift and a change of brightness or
 * contrast explain: the smallest mean absolute difference, over shifts of up to `search` pixels
 * around `around`, between the two cores each normalised to zero mean and unit deviation. 0 for
 * the same picture; ~0.1–0.3 between two frames of a still face after resampling and H.264; a lid
 * covering the eye replaces the dark iris and lashes with skin and changes most of the patch.
 */
export function patchChange(a: Float32Array, b: Float32Array, spec: PatchSpec, around: Shift = { dx: 0, dy: 0 }, search = LOCAL_SHIFT): { change: number; at: Shift } {
  const stride = spec.w + 2 * MARGIN;
  const na = normalised(a, stride, MARGIN, MARGIN, spec);
  let best = { change: Infinity, at: around };
  for (let dy = around.dy - search; dy <= around.dy + search; dy++) {
    for (let dx = around.dx - search; dx <= around.dx + search; dx++) {
      if (Math.abs(dx) > MARGIN || Math.abs(dy) > MARGIN) continue;
      const nb = normalised(b, stride, MARGIN + dx, MARGIN + dy, spec);
      let sum = 0;
      for (let i = 0; i < na.length; i++) sum += Math.abs(na[i]! - nb[i]!);
      if (sum / na.length < best.change) best = { change: sum / na.length, at: { dx, dy } };
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

/**
 * How much the rows of two looks at an eye differ, at the shift that matched them best: the mean
 * absolute difference of their row means (normalised patches). A lid moves up and down, so a
 * closing lid changes which rows are dark; a gaze that moves sideways changes the columns and
 * leaves the rows much as they were.
 */
export function rowChange(a: Float32Array, b: Float32Array, spec: PatchSpec, at: Shift): number {
  const stride = spec.w + 2 * MARGIN;
  const na = normalised(a, stride, MARGIN, MARGIN, spec);
  const nb = normalised(b, stride, MARGIN + at.dx, MARGIN + at.dy, spec);
  let sum = 0;
  for (let y = 0; y < spec.h; y++) {
    let row = 0;
    for (let x = 0; x < spec.w; x++) row += na[y * spec.w + x]! - nb[y * spec.w + x]!;
    sum += Math.abs(row / spec.w);
  }
  return sum / spec.h;
}

/** How much each region of one closed look moved, against the open looks on either side of the closure. */
export interface LidMotion {
  left: number;
  right: number;
  /** How much each eye's rows changed: what a lid moving up and down changes. */
  leftRows: number;
  rightRows: number;
  /**
   * How much the brows changed: the picture itself next to the eyes (resampling, codec, a tilt,
   * landmarks off), what each eye must change more than.
   */
  brows: number;
  /** The larger change of the nose and brow patches: large when the face turned fast or the landmarks are off, and the look says nothing. */
  ref: number;
  /**
   * How much the face's shape changed by its landmarks (|log| of the ratio of faceShape): a
   * picture tilted back or turned squeezes the whole face, eyes included, while a blink leaves it.
   */
  pose: number;
}

/** What one look gives the comparison: its eye and reference patches, and its shape (faceShape). */
export interface Look {
  regions: EyeRegions;
  shape: number;
}

/**
 * How much each region of a closed look changed against one open look. The two looks are first
 * registered on the brows (strong edges a blink leaves in place), so that landmarks placed a few
 * pixels off, which shift every patch together, are not read as a lid that moved.
 */
export function lookChange(closed: Look, open: Look): LidMotion {
  const brows = patchChange(closed.regions.brows, open.regions.brows, BROWS_PATCH, { dx: 0, dy: 0 }, GLOBAL_SHIFT);
  const left = patchChange(closed.regions.left, open.regions.left, EYE_PATCH, brows.at);
  const right = patchChange(closed.regions.right, open.regions.right, EYE_PATCH, brows.at);
  return {
    left: left.change,
    right: right.change,
    leftRows: rowChange(closed.regions.left, open.regions.left, EYE_PATCH, left.at),
    rightRows: rowChange(closed.regions.right, open.regions.right, EYE_PATCH, right.at),
    brows: brows.change,
    ref: Math.max(brows.change, patchChange(closed.regions.nose, open.regions.nose, NOSE_PATCH, brows.at).change),
    pose: Math.abs(Math.log(closed.shape / open.shape)),
  };
}

/**
 * A closed look's change against an open look before the closure and one after it: the smaller of
 * the two, per region. A lid that closed and opened again differs from both; a face that turned or
 * a gaze that moved for good differs from one side only.
 */
export function bothSides(before: LidMotion, after: LidMotion): LidMotion {
  return {
    left: Math.min(before.left, after.left),
    right: Math.min(before.right, after.right),
    leftRows: Math.min(before.leftRows, after.leftRows),
    rightRows: Math.min(before.rightRows, after.rightRows),
    brows: Math.min(before.brows, after.brows),
    ref: Math.min(before.ref, after.ref),
    pose: Math.min(before.pose, after.pose),
  };
}
