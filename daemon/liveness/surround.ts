import { pictureBytes } from '../base/yuv.js';
import type { Landmarks68, Picture, Point } from '../vision/types.js';
import { farFieldLeft, sampleFarField, type FarField } from './far-field.js';
import { applySimilarity, fitSimilarity, inside, mean, meanAbsDiff, sampleAt } from './patches.js';

/** One detection of a track: its frame, time (s), landmarks and face height (px). */
export interface SurroundLook {
  t: number;
  img: Picture;
  landmarks: Landmarks68;
  faceHeight: number;
}

/** What the surround of a track's face has shown so far. */
export interface SurroundEvidence {
  /** Comparisons in which the surround moved with the face, as the rest of a held picture does. */
  rigid: number;
  /** Comparisons in which the surround stayed where it was while the face moved, as the world does. */
  still: number;
}

/**
 * The limits of the surround cue:
 * - the surround is sampled on a grid from 1.3 face heights left and right of the face's centre and
 *   1.5 above it down to just above the eyes (`LOWEST`), leaving out the head with a margin for
 *   hair, ears and a hat (onHead). Everything lower moves with a person as often as not: their
 *   shoulders and collar, a microphone or a phone held to the mouth or ear, a hand on the chin (a
 *   singer's microphone, at 80 px in a stage video, once made a real person's surround follow his
 *   face); a hand holds a screen from below, and the screen's upper part is what shows it;
 * - two detections 0.3–1.5 s apart are compared when the face moved (by the similarity that maps
 *   its landmarks) at least `minShift` of its height over the grid: the surround is sampled again
 *   where it was and where the face's motion would have taken it, and the one that matches the
 *   earlier look better (by `ratio`) says whether it stayed or followed. That it stayed needs more
 *   than the codec's noise (`floor` grey levels, mean over the grid, of change had it followed);
 *   that it followed needs a change had it stayed of `heldFloor`: on a dark, plain stage curtain a
 *   real head's small roll left 3–6 grey levels either way, where a held screen's bezel, room and
 *   picture crossing the grid leave 14–67 (the screen-attack set, at every size and CRF).
 */
export const SURROUND = { minShift: 0.04, ratio: 0.6, floor: 2, heldFloor: 8, minGapS: 0.3, maxGapS: 1.5, step: 0.13 } as const;


/**
 * When the surround speaks:
 * - `held`: two comparisons in which the surround moved with the face. None of ~3000 comparisons on
 *   real people (16 talking-head clips at 80–200 px, 720p and 1080p, CRF 26–30) made one; a screen
 *   or a print carried, drifted, zoomed or wobbled by a hand makes one every few detections;
 * - `world`: `clearStill` comparisons in which it stayed while the face moved, and none in which
 *   it followed: most people give them within a second;
 * - `unseen` before either, until the face has been watched `clearAfterS` (a plain wall, a face
 *   that hardly moves: nothing to see, so nothing to wait for longer).
 */
export const SURROUND_VERDICT = { heldRigid: 2, clearStill: 4, clearAfterS: 1.5 } as const;

export function surroundVerdict(e: SurroundEvidence, watchedS: number): 'held' | 'world' | 'unseen' {
  if (e.rigid >= SURROUND_VERDICT.heldRigid) return 'held';
  if ((e.still >= SURROUND_VERDICT.clearStill && e.rigid === 0) || watchedS >= SURROUND_VERDICT.clearAfterS) return 'world';
  return 'unseen';
}

const FACE_POINTS = [17, 67] as const;
/** The chin, in face heights below the landmarks' centre. */
const LOWEST = -0.3;
/** Fewer grid points than this inside the frame (a face at its edge) tell nothing. */
const MIN_POINTS = 8;
const MAX_LOOKS = 24;

interface Kept {
  t: number;
  /** Grid points in the frame's pixels, and the mean grey level around each. */
  points: Point[];
  values: Float32Array;
  far: FarField;
  /** Inner-face landmarks, to map this look's grid into a later frame. */
  face: Point[];
  radius: number;
}

/**
 * Whether what surrounds a face moves with it. A person's face moves against a world that stays
 * put (a door camera does not move); a face on a screen or a print moves with the picture around it:
 * the video's background, the bezel, the paper's edge, all carried by the same hand. A face that
 * never moves says nothing here, nor does a plain wall (no texture to follow).
 */
export class SurroundCue {
  private readonly looks: Kept[] = [];
  private rigidCount = 0;
  private stillCount = 0;

  push(look: SurroundLook): void {
    if (look.landmarks.length <= FACE_POINTS[1] || !(look.faceHeight > 0) || look.img.data.length < pictureBytes(look.img)) return;
    const face = look.landmarks.slice(FACE_POINTS[0], FACE_POINTS[1] + 1);
    const radius = Math.max(1, Math.round((SURROUND.step * look.faceHeight) / 3));
    const comparisons = this.looks.filter((earlier) => {
      const gap = look.t - earlier.t;
      return gap >= SURROUND.minGapS && gap <= SURROUND.maxGapS;
    });
    // The oldest and the newest in range: two views of the motion, not a dozen of the same.
    for (const earlier of comparisons.length > 2 ? [comparisons[0]!, comparisons[comparisons.length - 1]!] : comparisons) {
      const vote = compareSurround(earlier, look.img, face, look.faceHeight);
      if (vote === 'rigid') this.rigidCount++;
      else if (vote === 'still') this.stillCount++;
    }
    const points = surroundGrid(face, look.faceHeight, look.img);
    const far = sampleFarField(face, look.faceHeight, look.img);
    this.looks.push({ t: look.t, points, values: sampleAt(look.img, points, radius), far, face, radius });
    while (this.looks.length > MAX_LOOKS || look.t - this.looks[0]!.t > SURROUND.maxGapS) this.looks.shift();
  }

  get evidence(): SurroundEvidence {
    return { rigid: this.rigidCount, still: this.stillCount };
  }
}

/**
 * Whether the surround of `earlier` followed the face into `img` (rigid), stayed where it was
 * (still), or cannot tell. Only the face's own motion is tried, not the surround's best motion: a
 * real person filmed by a camera that dollies shows a surround that moves too, and a search
 * for its motion finds it (it did, on two of the talking-head clips); but the face moves otherwise
 * than its background there, by parallax, while a picture's face and surround move as one. A
 * camera that pans, zooms or shakes moves near and far alike, with no parallax to tell: a surround
 * that followed counts only where the far field did not move (far-field.ts).
 */
function compareSurround(earlier: Kept, img: Picture, face: readonly Point[], faceHeight: number): 'rigid' | 'still' | undefined {
  const map = fitSimilarity(earlier.face, face);
  if (!map) return undefined;
  const centre = mean(face);
  const moved: Point[] = [];
  const stayed: Point[] = [];
  const before: number[] = [];
  let shift = 0;
  earlier.points.forEach((p, i) => {
    const q = applySimilarity(map, p);
    if (!inside(img, q, earlier.radius) || !inside(img, p, earlier.radius)) return;
    // Where the face is now (a person who came closer, or moved across): the world there is hidden
    // behind them, and would read as if it had not stayed.
    if (onPerson((p.x - centre.x) / faceHeight, (p.y - centre.y) / faceHeight)) return;
    moved.push(q);
    stayed.push(p);
    before.push(earlier.values[i]!);
    shift += Math.hypot(q.x - p.x, q.y - p.y);
  });
  if (moved.length < MIN_POINTS || shift / moved.length < SURROUND.minShift * faceHeight) return undefined;
  const followed = meanAbsDiff(sampleAt(img, moved, earlier.radius), before);
  const stood = meanAbsDiff(sampleAt(img, stayed, earlier.radius), before);
  if (followed < SURROUND.ratio * stood && stood >= SURROUND.heldFloor) return farFieldLeft(earlier.far, img, map) ? undefined : 'rigid';
  if (stood < SURROUND.ratio * followed && followed >= SURROUND.floor) return 'still';
  return undefined;
}

/**
 * Whether a point (in face heights from the landmarks' centre) may be on the head: an ellipse of
 * 0.72 × 0.95 half-axes centred 0.15 above, so that hair, ears, a hat or a hood, which move with
 * the face, stay out of the surround with a margin (the patches sampled reach a third of a grid
 * step beyond their points).
 */
export function onHead(u: number, v: number): boolean {
  return (u / 0.9) ** 2 + ((v + 0.15) / 0.95) ** 2 <= 1;
}

/** On the head, or below the chin (the neck and body, which move with the person). */
function onPerson(u: number, v: number): boolean {
  return v > LOWEST || onHead(u, v);
}

/** The grid around the face (see SURROUND), in the frame's pixels, clipped to the frame. */
export function surroundGrid(face: readonly Point[], faceHeight: number, img: Pick<Picture, 'width' | 'height'>): Point[] {
  const centre = mean(face);
  const step = SURROUND.step * faceHeight;
  const radius = Math.max(1, Math.round(step / 3));
  const points: Point[] = [];
  for (let v = -1.5; v <= LOWEST + 1e-9; v += SURROUND.step) {
    for (let u = -1.3; u <= 1.3 + 1e-9; u += SURROUND.step) {
      if (onPerson(u, v)) continue;
      const p = { x: centre.x + u * faceHeight, y: centre.y + v * faceHeight };
      if (inside(img, p, radius)) points.push(p);
    }
  }
  return points;
}
