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
  /**
   * True for a window around one tracked face: a quarter of a detector run (see `detectorPasses`);
   * a detection that is not whole inside it is cut by the window's edge.
   */
  window?: boolean;
}

/** One detector run: regions laid out in its 320×240 input, each in its cell (input pixels). */
export type Pass = ReadonlyArray<{ region: Region; cell: Box }>;

/** The detector's input split 2×2: the windows of up to four tracked faces share one run. */
const CELL_W = DETECT_W / 2;
const CELL_H = DETECT_H / 2;
/**
 * A tracked face's window is this many face heights tall (4:3): the face reaches the detector at
 * 48 px of a 120 px cell, well above what it finds reliably even if the face shrank by a fifth,
 * with about a face of room each way for where it moved since it was predicted.
 */
const WINDOW_FACES = 2.5;

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
 * The regions one detection runs on: the whole frame, plus the tiles when small faces must be
 * found. With a `focus`, only what can add a face there:
 * - where something arrived, the full pass (a large face) and every sweep tile that touches it, so
 *   that a face inside it is found by the same tiles as in a sweep, with the same box;
 * - where a tracked face is, the full pass alone when it finds a face that size reliably; otherwise
 *   nothing more when a tile already chosen holds it whole, or else a window centred on it, which
 *   shares a detector run with up to three others (`detectorPasses`): following three faces costs
 *   one run rather than three tiles.
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
  for (const area of focus) {
    if (area.kind !== 'arrival') continue;
    chosen.add(full);
    for (const t of tiles) if (overlaps(t, area)) chosen.add(t);
  }
  const windows: Region[] = [];
  for (const area of focus) {
    if (area.kind !== 'tracked') continue;
    if (TRACKED_SHRINK * area.facePx >= reliable) chosen.add(full);
    else if (!holdsWhole([...chosen].filter((r) => r.tiled), area)) windows.push(windowAround(area));
  }
  return [...[full, ...tiles].filter((r) => chosen.has(r)), ...windows];
}

/** The window a tracked face is looked for in: WINDOW_FACES face heights tall, 4:3, centred on it. */
function windowAround(area: Extract<SearchArea, { kind: 'tracked' }>): Region {
  const h = WINDOW_FACES * area.facePx;
  const w = (h * CELL_W) / CELL_H;
  return { x: area.x + area.w / 2 - w / 2, y: area.y + area.h / 2 - h / 2, w, h, tiled: true, maxFaceHeight: 2 * area.facePx, window: true };
}

/**
 * The detector runs for `regions`: the full frame and each tile alone, filling the input; windows
 * four to a run, one in each quarter.
 */
export function detectorPasses(regions: readonly Region[]): Pass[] {
  const whole: Box = { x: 0, y: 0, w: DETECT_W, h: DETECT_H };
  const passes: Pass[] = regions.filter((r) => !r.window).map((region) => [{ region, cell: whole }]);
  const windows = regions.filter((r) => r.window);
  for (let i = 0; i < windows.length; i += 4) {
    passes.push(windows.slice(i, i + 4).map((region, k) => ({ region, cell: { x: (k % 2) * CELL_W, y: Math.floor(k / 2) * CELL_H, w: CELL_W, h: CELL_H } })));
  }
  return passes;
}

/** Whether one of `regions` holds `box` whole, clear of its edges (where a region cuts faces). */
function holdsWhole(regions: readonly Region[], box: Box): boolean {
  return regions.some((t) => Math.min(box.x - t.x, box.y - t.y, t.x + t.w - (box.x + box.w), t.y + t.h - (box.y + box.h)) > CUT_EDGE_PX);
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
