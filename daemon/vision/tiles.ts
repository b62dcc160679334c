import type { VisionConfig } from './config.js';
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

/** A tile detection this close (px) to an edge shared with another tile is a face cut in two. */
export const CUT_EDGE_PX = 2;

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
 * Where a face can be on a detect frame (frame pixels), and what kind of place it is:
 * - `arrival`: the picture moved there and nothing tracked explains it, so a face of any size the
 *   detector is set to find may have come in;
 * - `tracked`: a tracked face is expected there, about `facePx` tall.
 */
export type SearchArea = Box & ({ kind: 'arrival' } | { kind: 'tracked'; facePx: number });

/**
 * Share of its height a tracked face may lose between two detect frames (a person stepping back
 * quickly at 5 fps loses a few percent): the size below which it must still be found.
 */
const TRACKED_SHRINK = 0.8;

/**
 * The regions one detection runs the detector on, in order: the configured mode (`auto` tiles when
 * a full pass would miss faces of `minFacePx`), narrowed by the focus. The detector runs it; a
 * camera's engine counts its runs by it.
 */
export function detectionPlan(width: number, height: number, o: { mode: VisionConfig['detect']['mode']; minFacePx: number; focus?: readonly SearchArea[] | undefined }): Region[] {
  const tiled = o.mode === 'tiled' || (o.mode === 'auto' && needsTiles(width, height, o.minFacePx));
  return detectionRegions(width, height, tiled, o.minFacePx, o.focus);
}

/**
 * The regions one detection runs on: the whole frame, plus the tiles when small faces must be
 * found. With a `focus`, only what can add a face there:
 * - where something arrived, the full pass (a large face) and every sweep tile that touches it, so
 *   that a face inside it is found by the same tiles as in a sweep, with the same box;
 * - where a tracked face is, the full pass alone when it finds a face that size reliably; otherwise
 *   the one sweep tile that holds the area whole with the widest margin (a tile drops faces cut by
 *   its edge, so a tile that holds the face whole is what finds it in a sweep too), or, when none
 *   holds it whole, the full pass and every tile that touches it.
 * With an empty focus nothing can have arrived and nothing is run.
 */
export function detectionRegions(width: number, height: number, tiled: boolean, minFacePx: number, focus?: readonly SearchArea[]): Region[] {
  if (focus && focus.length === 0) return [];
  const full = fullFrameRegion(width, height);
  if (!tiled) return [full];
  const tiles = planTiles(width, height, minFacePx);
  if (!focus) return [full, ...tiles];
  const reliable = RELIABLE_FACE_IN_INPUT * (full.h / DETECT_H);
  const chosen = new Set<Region>();
  const touching = (area: Box) => {
    chosen.add(full);
    for (const t of tiles) if (overlaps(t, area)) chosen.add(t);
  };
  for (const area of focus) {
    if (area.kind === 'arrival') touching(area);
    else if (TRACKED_SHRINK * area.facePx >= reliable) chosen.add(full);
    else {
      const best = widestMargin(tiles, area, width, height);
      if (best) chosen.add(best);
      else touching(area);
    }
  }
  return [full, ...tiles].filter((r) => chosen.has(r));
}

/**
 * The tile that holds `box` whole with the widest margin on its closest side, if any holds it. A
 * side on the frame's edge cuts nothing (a tile drops only faces cut by an edge it shares with
 * another tile), so a box that reaches the frame's edge is held by the tile that reaches it too.
 */
function widestMargin(tiles: readonly Region[], box: Box, width: number, height: number): Region | undefined {
  let best: Region | undefined;
  let bestMargin = CUT_EDGE_PX;
  for (const t of tiles) {
    const margin = Math.min(
      t.x > 0 ? box.x - t.x : Infinity,
      t.y > 0 ? box.y - t.y : Infinity,
      t.x + t.w < width ? t.x + t.w - (box.x + box.w) : Infinity,
      t.y + t.h < height ? t.y + t.h - (box.y + box.h) : Infinity,
    );
    if (margin > bestMargin) {
      best = t;
      bestMargin = margin;
    }
  }
  return best;
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
