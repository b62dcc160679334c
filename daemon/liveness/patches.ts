import { lumaAt } from '../base/yuv.js';
import type { Picture, Point } from '../vision/types.js';

// Small patches of a frame and the similarity that carries them from one detection to the next:
// what the cues that watch a face's surroundings (surround.ts, far-field.ts, screen.ts) share.

/** Mean grey level of the 3×3 taps `radius` apart around each point (the points inside the frame). */
export function sampleAt(img: Picture, points: readonly Point[], radius: number): Float32Array {
  const out = new Float32Array(points.length);
  points.forEach((p, i) => {
    let sum = 0;
    for (let dy = -1; dy <= 1; dy++) {
      for (let dx = -1; dx <= 1; dx++) sum += lumaAt(img, Math.round(p.x + dx * radius), Math.round(p.y + dy * radius));
    }
    out[i] = sum / 9;
  });
  return out;
}

export function inside(img: Pick<Picture, 'width' | 'height'>, p: Point, radius: number): boolean {
  return p.x - radius >= 0 && p.y - radius >= 0 && p.x + radius <= img.width - 1 && p.y + radius <= img.height - 1;
}

export function meanAbsDiff(a: Float32Array, b: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

export function mean(points: readonly Point[]): Point {
  let x = 0;
  let y = 0;
  for (const p of points) {
    x += p.x;
    y += p.y;
  }
  return { x: x / points.length, y: y / points.length };
}

/** x' = a·x − b·y + tx, y' = b·x + a·y + ty: rotation, scale and shift. */
export interface Similarity {
  a: number;
  b: number;
  tx: number;
  ty: number;
}

/** The similarity that maps `from` onto `to` best (least squares, Umeyama without reflection); undefined when degenerate. */
export function fitSimilarity(from: readonly Point[], to: readonly Point[]): Similarity | undefined {
  const n = Math.min(from.length, to.length);
  if (n < 2) return undefined;
  const cf = mean(from.slice(0, n));
  const ct = mean(to.slice(0, n));
  let sxx = 0;
  let sxy = 0;
  let norm = 0;
  for (let i = 0; i < n; i++) {
    const fx = from[i]!.x - cf.x;
    const fy = from[i]!.y - cf.y;
    const tx = to[i]!.x - ct.x;
    const ty = to[i]!.y - ct.y;
    sxx += fx * tx + fy * ty;
    sxy += fx * ty - fy * tx;
    norm += fx * fx + fy * fy;
  }
  if (!(norm > 1e-9)) return undefined;
  const a = sxx / norm;
  const b = sxy / norm;
  return { a, b, tx: ct.x - (a * cf.x - b * cf.y), ty: ct.y - (b * cf.x + a * cf.y) };
}

export function applySimilarity(m: Similarity, p: Point): Point {
  return { x: m.a * p.x - m.b * p.y + m.tx, y: m.b * p.x + m.a * p.y + m.ty };
}
