import type { Landmarks68, Point } from '../vision/types.js';
import { noseParallax, planarResidual } from './planar-fit.js';

/** One look at a face's landmarks (seconds, from frame timestamps), with its height for scale. */
export interface StructureLook {
  t: number;
  landmarks: Landmarks68;
  faceHeight: number;
}

/** What the landmarks of a track have shown of its shape so far. */
export interface StructureEvidence {
  /** Looks whose landmarks no plane explains against an earlier look (beyond `STRUCTURE.residual` or `STRUCTURE.nose`). */
  hits: number;
  /** The largest residual seen, in face heights. */
  maxResidual: number;
  /** The largest nose parallax seen, in face heights. */
  maxNose: number;
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
 * - `nose` (in face heights): a look also counts where the nose (27–35) lands off the homography of
 *   the rest of the inner face (brows, eyes, mouth) by more than this (`noseParallax`, the stereo
 *   cue's measure, here between frames of one camera). It is 1.35 times the most a moved print gave
 *   (1.51 %, the same print tilted back at 100 px in 720p, whose residual was the 1.19 % above; the
 *   other prints at most 1.50 %). A head that turns or nods carries its nose off that plane more than
 *   the residual over all the points grows, so it proves more people, sooner, with the same margin
 *   over prints (docs/track.md); the residual still proves a face that only speaks;
 * - `hits` looks beyond either are needed.
 */
export const STRUCTURE = { residual: 0.016, nose: 0.021, hits: 3, minGapS: 0.3, maxGapS: 1.5 } as const;

const FIRST_POINT = 17;
const LAST_POINT = 67;
/** Looks kept: 1.5 s at 15 detections a second. */
const MAX_LOOKS = 24;

interface Kept {
  t: number;
  /** All 68 landmarks, for the nose against the plane of the rest. */
  points: readonly Point[];
  /** The inner face's, for the residual over all of them. */
  inner: Point[];
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
  private maxNose = 0;

  push(look: StructureLook): void {
    if (look.landmarks.length < LAST_POINT + 1 || !(look.faceHeight > 0)) return;
    const current: Kept = { t: look.t, points: look.landmarks, inner: look.landmarks.slice(FIRST_POINT, LAST_POINT + 1) };
    const residuals: number[] = [];
    const noses: number[] = [];
    for (const earlier of this.looks) {
      const gap = current.t - earlier.t;
      if (gap < STRUCTURE.minGapS || gap > STRUCTURE.maxGapS) continue;
      const residual = planarResidual(earlier.inner, current.inner);
      const nose = noseParallax(earlier.points, current.points);
      if (residual === undefined || nose === undefined) continue;
      residuals.push(residual / look.faceHeight);
      noses.push(nose / look.faceHeight);
    }
    if (residuals.length >= 2) {
      const residual = secondLargest(residuals);
      const nose = secondLargest(noses);
      this.maxResidual = Math.max(this.maxResidual, residual);
      this.maxNose = Math.max(this.maxNose, nose);
      if (residual > STRUCTURE.residual || nose > STRUCTURE.nose) this.hitCount++;
    }
    this.looks.push(current);
    while (this.looks.length > MAX_LOOKS || current.t - this.looks[0]!.t > STRUCTURE.maxGapS) this.looks.shift();
  }

  get evidence(): StructureEvidence {
    return { hits: this.hitCount, maxResidual: this.maxResidual, maxNose: this.maxNose };
  }
}

function secondLargest(values: number[]): number {
  values.sort((a, b) => b - a);
  return values[1]!;
}
