import type { Box } from './types.js';

/** The detector's fixed input: 320×240, so every region it sees is padded to 4:3. */
export const DETECT_W = 320;
export const DETECT_H = 240;

/**
 * The smallest face the detector finds reliably, in its own 320×240 input, measured: faces of
 * 40 px in 1080p (≈ 7 px after a full-frame pass) are missed, the same faces at ≈ 18 px through
 * tiles are found 75/77 times.
 */
export const MIN_FACE_IN_INPUT = 18;

/**
 * A full-frame pass finds faces reliably once they are this tall in the detector's input (120 px
 * in 1080p). Tiles only need to add faces below that; what a tile reports above twice this is a
 * part of a large face (an eye region, a chin) rather than a face, and is dropped.
 */
export const RELIABLE_FACE_IN_INPUT = 20;

export interface Region extends Box {
  /** True for a tile: detections touching an edge shared with a neighbouring tile are cut faces. */
  tiled: boolean;
  /** Taller detections from this region are not trusted (tiles); Infinity for the full frame. */
  maxFaceHeight: number;
}

/** The 4:3 region, anchored top-left, that holds the whole frame (padding goes right or bottom). */
export function fullFrameRegion(width: number, height: number): Region {
  const scale = Math.max(width / DETECT_W, height / DETECT_H);
  return { x: 0, y: 0, w: DETECT_W * scale, h: DETECT_H * scale, tiled: false, maxFaceHeight: Infinity };
}

/** Whether one full-frame pass would shrink faces of `minFacePx` below what the detector finds. */
export function needsTiles(width: number, height: number, minFacePx: number): boolean {
  const scale = fullFrameRegion(width, height).h / DETECT_H;
  return minFacePx / scale < MIN_FACE_IN_INPUT;
}

/**
 * Overlapping 4:3 tiles covering the frame, each small enough that a `minFacePx` face reaches the
 * detector at ≥ MIN_FACE_IN_INPUT px, overlapping by more than such a face so every small face lies
 * whole inside some tile. Faces larger than the overlap are left to the full-frame pass.
 */
export function planTiles(width: number, height: number, minFacePx: number): Region[] {
  const tileH = Math.min(height, Math.max(DETECT_H, Math.round((minFacePx / MIN_FACE_IN_INPUT) * DETECT_H)));
  const tileW = Math.min(width, Math.round((tileH * DETECT_W) / DETECT_H));
  const overlap = Math.max(Math.round(0.2 * tileH), Math.ceil(2.5 * minFacePx));
  const xs = spread(width, tileW, overlap);
  const ys = spread(height, tileH, overlap);
  const maxFaceHeight = 2 * RELIABLE_FACE_IN_INPUT * (fullFrameRegion(width, height).h / DETECT_H);
  const tiles: Region[] = [];
  for (const y of ys) for (const x of xs) tiles.push({ x, y, w: tileW, h: tileH, tiled: true, maxFaceHeight });
  return tiles;
}

/**
 * The regions one detection runs on: the whole frame, plus the tiles when small faces must be
 * found. With a `focus` (where the picture moved and where faces are tracked), only the sweep's
 * tiles that touch it: a face inside the focus is then found by the same tiles as in a sweep, with
 * the same box, so gating changes what detection costs and not what it finds. With an empty focus
 * nothing can have arrived and nothing is run.
 */
export function detectionRegions(width: number, height: number, tiled: boolean, minFacePx: number, focus?: readonly Box[]): Region[] {
  if (focus && focus.length === 0) return [];
  const regions = [fullFrameRegion(width, height)];
  if (!tiled) return regions;
  const tiles = planTiles(width, height, minFacePx);
  return regions.concat(focus ? tiles.filter((t) => focus.some((f) => overlaps(t, f))) : tiles);
}

function overlaps(a: Box, b: Box): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/** Start offsets of n windows of `size` over `length`, evenly spread, neighbours overlapping ≥ `overlap`. */
function spread(length: number, size: number, overlap: number): number[] {
  if (size >= length) return [0];
  // A hair of tolerance so that 1080p at 40 px plans the measured 3×3 grid rather than 4×3.
  const n = Math.ceil((length - overlap) / (size - overlap) - 0.02);
  const step = (length - size) / (n - 1);
  return Array.from({ length: n }, (_, i) => Math.round(i * step));
}
