import type { Box, Detection, Point } from './types.js';

/**
 * A 2-D affine map p' = [a b; c d]·p + [tx ty]. Sampling uses maps from output (crop) coordinates
 * to source (frame) coordinates; coordinates are continuous, pixel i spanning [i, i+1).
 */
export interface Affine {
  a: number;
  b: number;
  c: number;
  d: number;
  tx: number;
  ty: number;
}

export function applyAffine(m: Affine, p: Point): Point {
  return { x: m.a * p.x + m.b * p.y + m.tx, y: m.c * p.x + m.d * p.y + m.ty };
}

export function invertAffine(m: Affine): Affine {
  const det = m.a * m.d - m.b * m.c;
  if (Math.abs(det) < 1e-12) throw new Error('affine map is not invertible');
  const a = m.d / det;
  const b = -m.b / det;
  const c = -m.c / det;
  const d = m.a / det;
  return { a, b, c, d, tx: -(a * m.tx + b * m.ty), ty: -(c * m.tx + d * m.ty) };
}

/** The map from an outW×outH crop onto `rect` of the source: a crop-and-resize. */
export function rectToAffine(rect: Box, outW: number, outH: number): Affine {
  return { a: rect.w / outW, b: 0, c: 0, d: rect.h / outH, tx: rect.x, ty: rect.y };
}

/**
 * Least-squares similarity transform (rotation, uniform scale, translation; no reflection) taking
 * `src` points onto `dst` points: Umeyama (1991). Used to align five face landmarks onto the
 * 112×112 reference; a 3-point affine would shear the face and is measurably worse.
 */
export function umeyamaSimilarity(src: readonly Point[], dst: readonly Point[]): Affine {
  const n = src.length;
  if (n < 2 || dst.length !== n) throw new Error('umeyama needs ≥ 2 matching points');
  let msx = 0, msy = 0, mdx = 0, mdy = 0;
  for (let i = 0; i < n; i++) {
    msx += src[i]!.x; msy += src[i]!.y; mdx += dst[i]!.x; mdy += dst[i]!.y;
  }
  msx /= n; msy /= n; mdx /= n; mdy /= n;
  // Covariance Σ = (1/n) Σ (d - μd)(s - μs)ᵀ and the source variance.
  let s00 = 0, s01 = 0, s10 = 0, s11 = 0, varS = 0;
  for (let i = 0; i < n; i++) {
    const sx = src[i]!.x - msx, sy = src[i]!.y - msy;
    const dx = dst[i]!.x - mdx, dy = dst[i]!.y - mdy;
    s00 += dx * sx; s01 += dx * sy; s10 += dy * sx; s11 += dy * sy;
    varS += sx * sx + sy * sy;
  }
  s00 /= n; s01 /= n; s10 /= n; s11 /= n; varS /= n;
  // For 2×2 the optimal rotation has a closed form: R = rot(θ) with θ = atan2(s10 - s01, s00 + s11);
  // the trace term tr(DS) of Umeyama's SVD equals the norm of that vector (no reflection allowed).
  const p = s00 + s11;
  const q = s10 - s01;
  const norm = Math.hypot(p, q);
  if (varS < 1e-12 || norm < 1e-12) throw new Error('degenerate landmarks: cannot align');
  const cos = p / norm;
  const sin = q / norm;
  const scale = norm / varS;
  const a = scale * cos, b = -scale * sin, c = scale * sin, d = scale * cos;
  return { a, b, c, d, tx: mdx - (a * msx + b * msy), ty: mdy - (c * msx + d * msy) };
}

export function boxArea(b: Box): number {
  return Math.max(0, b.w) * Math.max(0, b.h);
}

export function iou(p: Box, q: Box): number {
  const x1 = Math.max(p.x, q.x);
  const y1 = Math.max(p.y, q.y);
  const x2 = Math.min(p.x + p.w, q.x + q.w);
  const y2 = Math.min(p.y + p.h, q.y + q.h);
  const inter = Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
  const union = boxArea(p) + boxArea(q) - inter;
  return union > 0 ? inter / union : 0;
}

/** Greedy non-maximum suppression by score: of boxes overlapping more than `iouThreshold`, the best stays. */
export function nms(detections: readonly Detection[], iouThreshold: number): Detection[] {
  const sorted = [...detections].sort((p, q) => q.score - p.score);
  const kept: Detection[] = [];
  for (const det of sorted) {
    if (kept.every((k) => iou(k.box, det.box) <= iouThreshold)) kept.push(det);
  }
  return kept;
}

/** The part of `box` inside a width×height image (may be empty: w or h ≤ 0). */
export function clipBox(box: Box, width: number, height: number): Box {
  const x1 = Math.max(0, box.x);
  const y1 = Math.max(0, box.y);
  const x2 = Math.min(width, box.x + box.w);
  const y2 = Math.min(height, box.y + box.h);
  return { x: x1, y: y1, w: x2 - x1, h: y2 - y1 };
}

export function squareAround(centre: Point, side: number): Box {
  return { x: centre.x - side / 2, y: centre.y - side / 2, w: side, h: side };
}

export function boxCentre(b: Box): Point {
  return { x: b.x + b.w / 2, y: b.y + b.h / 2 };
}

export function meanPoint(points: readonly Point[]): Point {
  let x = 0, y = 0;
  for (const p of points) { x += p.x; y += p.y; }
  return { x: x / points.length, y: y / points.length };
}

export function distance(p: Point, q: Point): number {
  return Math.hypot(p.x - q.x, p.y - q.y);
}
