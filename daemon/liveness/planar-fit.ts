import type { Point } from '../vision/types.js';

/**
 * The homography that maps one view's points onto another's best (least squares, h33 = 1, both
 * sets normalised first as Hartley's DLT does so the equations are well conditioned): `transfer`
 * takes a point of the first view, in pixels, to the second's. Undefined for fewer than five points
 * or a degenerate set. Every point of a plane, fitted or not, transfers to its place in the other
 * view; a point out of the plane of the fitted ones does not.
 */
export interface Homography {
  transfer(p: Point): Point;
}

export function fitHomography(from: readonly Point[], to: readonly Point[]): Homography | undefined {
  const n = Math.min(from.length, to.length);
  if (n < 5) return undefined;
  const a = normalise(from, n);
  const b = normalise(to, n);
  // Normal equations of the 2n linear equations in h11..h32 (h33 = 1).
  const ata = new Float64Array(64);
  const atb = new Float64Array(8);
  const row = new Float64Array(8);
  for (let i = 0; i < n; i++) {
    const x = a.xs[i]!;
    const y = a.ys[i]!;
    const u = b.xs[i]!;
    const v = b.ys[i]!;
    // Written in place: the track fits several of these a detection, on the main thread, and an
    // array literal per equation was most of what its garbage collector had to find.
    setRow(row, x, y, 1, 0, 0, 0, -u * x, -u * y);
    accumulate(ata, atb, row, u);
    setRow(row, 0, 0, 0, x, y, 1, -v * x, -v * y);
    accumulate(ata, atb, row, v);
  }
  const h = solve8(ata, atb);
  if (!h) return undefined;
  return {
    transfer(p: Point): Point {
      const x = (p.x - a.mx) * a.scale;
      const y = (p.y - a.my) * a.scale;
      const w = h[6]! * x + h[7]! * y + 1;
      return { x: (h[0]! * x + h[1]! * y + h[2]!) / w / b.scale + b.mx, y: (h[3]! * x + h[4]! * y + h[5]!) / w / b.scale + b.my };
    },
  };
}

/**
 * How far a set of points is from having moved as one plane between two views: the RMS distance,
 * in `to`'s pixels, between the points of `to` and those of `from` mapped by the homography that
 * fits them best (`fitHomography`). A photo or a screen, however it is held, tilted or moved, is a
 * plane: one homography maps it between any two frames and this is the landmarks' noise. A head
 * that turns or nods is not: its nose stands out of the plane of its eyes and brows, and what the
 * homography leaves grows with the turn. Undefined for fewer than five points or a degenerate set.
 */
export function planarResidual(from: readonly Point[], to: readonly Point[]): number | undefined {
  const homography = fitHomography(from, to);
  if (!homography) return undefined;
  const n = Math.min(from.length, to.length);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const p = homography.transfer(from[i]!);
    sum += (p.x - to[i]!.x) ** 2 + (p.y - to[i]!.y) ** 2;
  }
  return Math.sqrt(sum / n);
}

interface Normalised {
  xs: Float64Array;
  ys: Float64Array;
  /** The centroid, in pixels. */
  mx: number;
  my: number;
  /** Normalised units per pixel. */
  scale: number;
}

/** Centred on the centroid, scaled so that the mean distance from it is √2. */
function normalise(points: readonly Point[], n: number): Normalised {
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += points[i]!.x;
    my += points[i]!.y;
  }
  mx /= n;
  my /= n;
  let spread = 0;
  for (let i = 0; i < n; i++) spread += Math.hypot(points[i]!.x - mx, points[i]!.y - my);
  const scale = spread > 0 ? (Math.SQRT2 * n) / spread : 1;
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    xs[i] = (points[i]!.x - mx) * scale;
    ys[i] = (points[i]!.y - my) * scale;
  }
  return { xs, ys, mx, my, scale };
}

function setRow(row: Float64Array, r0: number, r1: number, r2: number, r3: number, r4: number, r5: number, r6: number, r7: number): void {
  row[0] = r0;
  row[1] = r1;
  row[2] = r2;
  row[3] = r3;
  row[4] = r4;
  row[5] = r5;
  row[6] = r6;
  row[7] = r7;
}

function accumulate(ata: Float64Array, atb: Float64Array, row: Float64Array, target: number): void {
  for (let p = 0; p < 8; p++) {
    const rp = row[p]!;
    if (rp === 0) continue;
    atb[p] = atb[p]! + rp * target;
    for (let q = 0; q < 8; q++) ata[p * 8 + q] = ata[p * 8 + q]! + rp * row[q]!;
  }
}

/** Gauss–Jordan with partial pivoting on the 8×8 system; undefined when it is singular. */
function solve8(ata: Float64Array, atb: Float64Array): Float64Array | undefined {
  const m = new Float64Array(8 * 9);
  for (let r = 0; r < 8; r++) {
    for (let c = 0; c < 8; c++) m[r * 9 + c] = ata[r * 8 + c]!;
    m[r * 9 + 8] = atb[r]!;
  }
  for (let col = 0; col < 8; col++) {
    let pivot = col;
    for (let r = col + 1; r < 8; r++) if (Math.abs(m[r * 9 + col]!) > Math.abs(m[pivot * 9 + col]!)) pivot = r;
    if (Math.abs(m[pivot * 9 + col]!) < 1e-10) return undefined;
    if (pivot !== col) {
      for (let c = 0; c < 9; c++) {
        const tmp = m[col * 9 + c]!;
        m[col * 9 + c] = m[pivot * 9 + c]!;
        m[pivot * 9 + c] = tmp;
      }
    }
    for (let r = 0; r < 8; r++) {
      if (r === col) continue;
      const factor = m[r * 9 + col]! / m[col * 9 + col]!;
      if (factor === 0) continue;
      for (let c = col; c < 9; c++) m[r * 9 + c] = m[r * 9 + c]! - factor * m[col * 9 + c]!;
    }
  }
  const h = new Float64Array(8);
  for (let r = 0; r < 8; r++) h[r] = m[r * 9 + 8]! / m[r * 9 + r]!;
  return h;
}
