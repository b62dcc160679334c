import type { Landmarks68, Point } from '../vision/types.js';
import { planarResidual } from './planar-fit.js';

/** One look at a face's landmarks (seconds, from frame timestamps), with its height for scale. */
export interface StructureLook {
  t: number;
  landmarks: Landmarks68;
  faceHeight: number;
}

/** What the landmarks of a track have shown of its shape so far. */
export interface StructureEvidence {
  /** Looks whose landmarks no plane explains against an earlier look (beyond `STRUCTURE.residual`). */
  hits: number;
  /** The largest residual seen, in face heights. */
  maxResidual: number;
}

/**
 * The limits of the structure cue, from what a plane can do and what a face does:
 * - the points are the inner face, brows to chin: 68-point indices 17–67. A face that turns or
 *   nods shows parallax there (the nose stands out of the plane of the eyes and mouth), and a face
 *   that speaks, smiles or narrows its eyes moves its mouth, lids and brows against the rest; a
 *   picture does neither, however it is held. The jaw outline is left out: it is where the landmark
 *   model guesses most (on a print cut around the face it slid with the crop by 1.5 % of the face
 *   height while the print only drifted);
 * - each look is the mean of three consecutive ones (~0.2 s at 15 fps): the landmarks' frame to
 *   frame jitter falls by √3, while a turn or a word lasts longer than that;
 * - looks are compared with looks 0.3–1.5 s earlier: closer ones show jitter more than movement;
 * - `residual` (in face heights) is 1.4 times the most that moved prints gave (0.87 %, a print
 *   tilted back at 100 px; held, wobbled, drifted, zoomed and bent ones gave less), and half what
 *   a person talking to a camera gives within a second or two (1.4–3.9 %, at 80–300 px);
 * - `hits` looks are needed, each against its own earlier looks, so one misplaced set of landmarks
 *   (a blurred frame, a hand across the face) proves nothing.
 */
export const STRUCTURE = { residual: 0.012, hits: 3, minGapS: 0.3, maxGapS: 1.5 } as const;

const FIRST_POINT = 17;
const LAST_POINT = 67;
const POINTS = LAST_POINT - FIRST_POINT + 1;
/** Consecutive looks averaged into one, and the most time they may span. */
const SMOOTH_LOOKS = 3;
const SMOOTH_SPAN_S = 0.35;
/** Looks kept: 1.5 s at 30 looks a second. */
const MAX_LOOKS = 45;

interface Kept {
  t: number;
  points: Point[];
}

/**
 * Whether the face's inner landmarks move as a plane (a print, a photo on a screen) or as a face
 * (a head in 3D, a mouth that speaks), over the looks of one track. A video of a person replayed on
 * a screen also moves as a face: this cue tells faces from still pictures, and the screen's own cues
 * must catch replays.
 */
export class StructureCue {
  private readonly raw: Kept[] = [];
  private readonly smoothed: Kept[] = [];
  private hitCount = 0;
  private maxResidual = 0;

  push(look: StructureLook): void {
    if (look.landmarks.length < LAST_POINT + 1 || !(look.faceHeight > 0)) return;
    this.raw.push({ t: look.t, points: look.landmarks.slice(FIRST_POINT, LAST_POINT + 1) });
    if (this.raw.length > SMOOTH_LOOKS) this.raw.shift();
    if (this.raw.length < SMOOTH_LOOKS || look.t - this.raw[0]!.t > SMOOTH_SPAN_S) return;
    const current = { t: look.t, points: meanPoints(this.raw) };
    let residual = 0;
    for (const earlier of this.smoothed) {
      const gap = current.t - earlier.t;
      if (gap < STRUCTURE.minGapS || gap > STRUCTURE.maxGapS) continue;
      const r = planarResidual(earlier.points, current.points);
      if (r !== undefined) residual = Math.max(residual, r / look.faceHeight);
    }
    this.maxResidual = Math.max(this.maxResidual, residual);
    if (residual > STRUCTURE.residual) this.hitCount++;
    this.smoothed.push(current);
    while (this.smoothed.length > MAX_LOOKS || current.t - this.smoothed[0]!.t > STRUCTURE.maxGapS) this.smoothed.shift();
  }

  /** The track's looks so far cannot be compared with the next ones (the face was lost). */
  interrupt(): void {
    this.raw.length = 0;
    this.smoothed.length = 0;
  }

  get evidence(): StructureEvidence {
    return { hits: this.hitCount, maxResidual: this.maxResidual };
  }
}

function meanPoints(looks: readonly Kept[]): Point[] {
  const points: Point[] = [];
  for (let i = 0; i < POINTS; i++) {
    let x = 0;
    let y = 0;
    for (const look of looks) {
      x += look.points[i]!.x;
      y += look.points[i]!.y;
    }
    points.push({ x: x / looks.length, y: y / looks.length });
  }
  return points;
}
