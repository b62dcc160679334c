import type { Picture, Point } from '../vision/types.js';
import { applySimilarity, inside, mean, meanAbsDiff, sampleAt, type Similarity } from './patches.js';

/**
 * The far field, which tells a camera that moved from a picture that moved: a grid of `cells`
 * across the frame's longer side, leaving out everything within `reach` face heights to the face's
 * left and right at its height and below it (the person's body, a held screen or print and the hand
 * that holds it). A camera that pans, zooms or shakes (a stage camera following a performer, a
 * phone held by hand, a pole in the wind) moves the world around a face with it, as a hand moves a
 * picture's surround; only the far field, which a hand cannot move, tells them apart. Fewer than
 * `minPoints` in the frame tell nothing; one reading matches better than another by `ratio`, and
 * only above the codec's noise (`floor` grey levels, mean over the grid).
 */
export const FAR_FIELD = { reach: 3, cells: 24, minPoints: 8, ratio: 0.6, floor: 2 } as const;

/** The far field of one detection: grid points in the frame's pixels, the mean grey level about each, and the patch radius. */
export interface FarField {
  points: Point[];
  values: Float32Array;
  radius: number;
}

/** Samples the far field of a face (its inner landmarks and height) in `img`. */
export function sampleFarField(face: readonly Point[], faceHeight: number, img: Picture): FarField {
  const points = farGrid(face, faceHeight, img);
  const radius = Math.max(1, Math.round(Math.max(img.width, img.height) / FAR_FIELD.cells / 4));
  return { points, values: sampleAt(img, points, radius), radius };
}

/**
 * Whether the far field of an earlier look left its place in `img` (it did not plainly stay, where
 * the face's motion `map` would have taken it being the other reading): the camera moved. False
 * when the far field plainly stayed, and when it cannot tell (too few points in the frame, as for a
 * face that fills it, or no texture to see, as on a plain wall): then the surround alone speaks, as
 * it must for a large held screen. A screen or a print large enough to cover much of the far field
 * too would read as a moving camera and is not caught here; it is a poster, not a hand-held device.
 */
export function farFieldLeft(far: FarField, img: Picture, map: Similarity): boolean {
  const moved: Point[] = [];
  const stayed: Point[] = [];
  const before: number[] = [];
  far.points.forEach((p, i) => {
    const q = applySimilarity(map, p);
    if (!inside(img, q, far.radius) || !inside(img, p, far.radius)) return;
    moved.push(q);
    stayed.push(p);
    before.push(far.values[i]!);
  });
  if (moved.length < FAR_FIELD.minPoints) return false;
  const followed = meanAbsDiff(sampleAt(img, moved, far.radius), before);
  const stood = meanAbsDiff(sampleAt(img, stayed, far.radius), before);
  if (Math.max(followed, stood) < FAR_FIELD.floor) return false;
  return !(stood < FAR_FIELD.ratio * followed);
}

/** The far-field grid (see FAR_FIELD), in the frame's pixels. */
export function farGrid(face: readonly Point[], faceHeight: number, img: Pick<Picture, 'width' | 'height'>): Point[] {
  const centre = mean(face);
  const step = Math.max(img.width, img.height) / FAR_FIELD.cells;
  const points: Point[] = [];
  for (let y = step / 2; y < img.height; y += step) {
    for (let x = step / 2; x < img.width; x += step) {
      const u = (x - centre.x) / faceHeight;
      const v = (y - centre.y) / faceHeight;
      if (Math.abs(u) <= FAR_FIELD.reach && v >= -FAR_FIELD.reach) continue;
      points.push({ x, y });
    }
  }
  return points;
}


/**
 * Whether the far field of an earlier look shows the camera shifted in `img`: some shift of up to
 * `maxShift` px (searched coarse to fine) matches it clearly better than staying put.
 * For a cue whose evidence is an edge that moved sideways while the face hardly did (a screen's
 * bezel), where no motion of the face says what a moving camera would have done: a camera that
 * shakes moves a door's jambs as a hand moves a bezel, and the world far from the face with them.
 * False where it cannot tell (too few points, no texture) and where the far field stayed.
 */
export function cameraShifted(far: FarField, img: Picture, maxShift: number): boolean {
  const kept = far.points.flatMap((p, i) => (inside(img, p, far.radius + maxShift) ? [i] : []));
  if (kept.length < FAR_FIELD.minPoints || !(maxShift >= 1)) return false;
  const before = kept.map((i) => far.values[i]!);
  const at = (dx: number, dy: number) => meanAbsDiff(sampleAt(img, kept.map((i) => ({ x: far.points[i]!.x + dx, y: far.points[i]!.y + dy })), far.radius), before);
  const stood = at(0, 0);
  if (stood < FAR_FIELD.floor) return false;
  // Coarse to fine: a grid of steps a sixth of the reach, then every pixel about the best of it.
  const step = Math.max(1, Math.round(maxShift / 6));
  let best = { diff: Infinity, dx: 0, dy: 0 };
  const tryShift = (dx: number, dy: number) => {
    if ((dx === 0 && dy === 0) || Math.max(Math.abs(dx), Math.abs(dy)) > maxShift) return;
    const diff = at(dx, dy);
    if (diff < best.diff) best = { diff, dx, dy };
  };
  for (let dy = -step * 6; dy <= step * 6; dy += step) for (let dx = -step * 6; dx <= step * 6; dx += step) tryShift(dx, dy);
  const coarse = best;
  for (let dy = coarse.dy - step + 1; dy < coarse.dy + step; dy++) for (let dx = coarse.dx - step + 1; dx < coarse.dx + step; dx++) tryShift(dx, dy);
  return best.diff < FAR_FIELD.ratio * stood;
}
