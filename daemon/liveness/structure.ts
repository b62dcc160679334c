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
 * - only detections' landmarks are used (the track feeds them): a follow's are cut from a predicted
 *   box and can slide onto what is not a face, and then they move as no plane does;
 * - each look is compared with the looks 0.3–1.5 s before it (closer ones show landmark jitter more
 *   than movement) and counts the second largest residual, so that one misplaced earlier look (a
 *   blurred frame, a hand across the face) cannot make a hit;
 * - `residual` (in face heights) is 1.35 times the most a moved print gave through the tracker
 *   (1.19 %, a print tilted back at 100 px in 720p: foreshortened, the face makes the landmark model
 *   place its points as on a head that nods; held, wobbled, drifted, zoomed, bent, turned and
 *   carried prints gave at most 0.75 %), and below what people give when they turn, nod or speak
 *   plainly (1.6–3.9 % within a second or two, at 80–300 px). People who hold still and say little
 *   stay below it and are left to their blinks: no print may ever pass;
 * - `hits` looks beyond it are needed.
 */
export const STRUCTURE = { residual: 0.016, hits: 3, minGapS: 0.3, maxGapS: 1.5 } as const;

const FIRST_POINT = 17;
const LAST_POINT = 67;
/** Looks kept: 1.5 s at 15 detections a second. */
const MAX_LOOKS = 24;

interface Kept {
  t: number;
  points: Point[];
}

/**
 * Whether the face's inner landmarks move as a plane (a print, a photo on a screen) or as a face
 * (a head in 3D, a mouth that speaks), over the detections of one track. A video of a person
 * replayed on a screen also moves as a face: this cue tells faces from still pictures, and the
 * screen's own cues must catch replays.
 */
export class StructureCue {
  private readonly looks: Kept[] = [];
  private hitCount = 0;
  private maxResidual = 0;

  push(look: StructureLook): void {
    if (look.landmarks.length < LAST_POINT + 1 || !(look.faceHeight > 0)) return;
    const current = { t: look.t, points: look.landmarks.slice(FIRST_POINT, LAST_POINT + 1) };
    const residuals: number[] = [];
    for (const earlier of this.looks) {
      const gap = current.t - earlier.t;
      if (gap < STRUCTURE.minGapS || gap > STRUCTURE.maxGapS) continue;
      const residual = planarResidual(earlier.points, current.points);
      if (residual !== undefined) residuals.push(residual / look.faceHeight);
    }
    if (residuals.length >= 2) {
      residuals.sort((a, b) => b - a);
      const residual = residuals[1]!;
      this.maxResidual = Math.max(this.maxResidual, residual);
      if (residual > STRUCTURE.residual) this.hitCount++;
    }
    this.looks.push(current);
    while (this.looks.length > MAX_LOOKS || current.t - this.looks[0]!.t > STRUCTURE.maxGapS) this.looks.shift();
  }

  get evidence(): StructureEvidence {
    return { hits: this.hitCount, maxResidual: this.maxResidual };
  }
}
