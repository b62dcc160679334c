import { alignment, fivePoints, toAlignedFrame } from '../vision/align.js';
import { headPose } from '../vision/quality.js';
import { CUT_EDGE_PX } from '../vision/tiles.js';
import type { Box, Landmarks68, Point } from '../vision/types.js';
import { fitHomography, type Homography } from './planar-fit.js';

/** One camera's look at a face, at the same moment as another camera's look at it. */
export interface StereoView {
  /** The face's 68 landmarks, in the frame's pixels. */
  landmarks: Landmarks68;
  /** The detection's box: its height is the face's scale, and where it touches the frame's edge the frame cuts the face. */
  box: Box;
  /** The size of the frame the face was seen in. */
  frame: { width: number; height: number };
}

/**
 * The limits of the stereo cue (docs/track.md, "Stereo"), measured by `npm run bench -- stereo`:
 * one real man seen at once by four webcams 26–90° apart at his head, scaled to faces of 80–300 px
 * with each camera's noise and H.264 at CRF 23–32, against prints (frames of that recording, him
 * frontal and turned up to 66°, and identity photos) held, wobbled, turned in the hand or bent a
 * little before two cameras 15–60° apart, turned every way toward them, 80–300 px, CRF 23–32.
 * - `maxYawDeg`: a face turned further than this from either camera (by its landmarks, as the
 *   track's `max_yaw` reads a profile) says nothing. The landmark model guesses the far side of a
 *   face seen from the side, and prints of a face turned 66° gave up to 4.7 % of the face height, more
 *   than any other print;
 * - `minFacePx`: a face smaller than those measured (the 80 px sets' boxes) says nothing;
 * - `minWidthRatio`: the narrower view's box (width over height) is at least this share of the
 *   wider's, or the pair says nothing. A head is about as deep as it is wide, so its box keeps its
 *   width from every side the yaw limit lets through (0.66 at the least over the real pairs, 0.74
 *   at their 1st percentile); a flat picture narrows by the cosine of its slant, and one seen square
 *   by one camera and at more than ~53° by the other falls below 0.6, where the landmark model
 *   mimicked depth most (up to 4.1 % of the face height);
 * - `minBoxAspect`: each view's box is at least this wide for its height (width over height), or the
 *   pair says nothing. The detector's box of a real face is 0.72 as wide as high at the median, and
 *   a head keeps that width from every side the yaw limit lets through (0.60 at the 1st percentile
 *   of the real views; the narrowest, down to 0.51, for a frame or two where a hand or the frame's
 *   edge took part of the box); a flat picture's narrows with its slant (0.33–0.65, median 0.47,
 *   for a screen at 60° to a camera). Seen that steeply, a picture of a head that turns or looks
 *   down is where the landmark model invents depth most: it reads the narrowed face as turned
 *   15–22° and tilted 25–37° further than the other view does, and places the nose where such a
 *   head's would be: single pairs of up to 5.4 % of the face height, above the limit, from a phone
 *   replaying a turning head. 0.58 refuses most such pairs and none that the real door's proof
 *   needed (15 of the 1041 real pairs, and no arrival proven later);
 * - `flatParallax`: the most parallax a print gave within those limits (face heights): 3.16 %, of
 *   420 prints turned every 10° toward two cameras 15–65° apart and the bench's sets, for a photo
 *   of a face turned 38° held at slants of 60° and 30° to two cameras 30° apart. Not nothing: a print
 *   seen at a slant looks narrower, and the landmark model reads a narrowed face as a head turned
 *   away, placing its nose part of the way a turned head's would be; the slant turns a photo of a
 *   turned face back toward the front in one view and not in the other. However far apart a door's
 *   cameras are, a print can be held so;
 * - `margin`: the limit is `flatParallax` times this, as the structure cue's limit is its worst
 *   print times 1.35. A real head's parallax grows with the angle between the cameras (a mean head:
 *   2.6 % at 15°, 5 % at 30°, 9.6 % at 60°), so the cue proves faces at doors whose cameras are 30°
 *   or more apart at the face, and never a print: the margin comes before how many real pairs pass.
 */
export const STEREO = { maxYawDeg: 45, minFacePx: 64, minWidthRatio: 0.6, minBoxAspect: 0.58, flatParallax: 0.032, margin: 1.35 } as const;

/** The parallax at or above which a pair of views proves a face that stands out of a plane. */
export const STEREO_LIMIT = STEREO.margin * STEREO.flatParallax;

/**
 * What one pair of views says, in natural log-odds of a live person against a flat picture (a
 * print, a phone, a tablet, a monitor), as the other cues are weighed (verdict.ts):
 * - at or above STEREO_LIMIT: STEREO_LIVE_LOG_ODDS (no print reached it);
 * - below the prints' worst (`STEREO.flatParallax`, where every print lies, and a real face where
 *   the cameras are close together or a hand hides its nose): STEREO_FLAT_LOG_ODDS;
 * - between, or no parallax (the pair could not say): nothing.
 * Pairs of one track a frame apart are one look, not independent evidence: a track weighs one value
 * that stands for its pairs (see docs/track.md), not the sum of them.
 */
export function stereoLogOdds(parallax: number | undefined): number {
  if (parallax === undefined || !Number.isFinite(parallax)) return 0;
  if (parallax >= STEREO_LIMIT) return STEREO_LIVE_LOG_ODDS;
  if (parallax < STEREO.flatParallax) return STEREO_FLAT_LOG_ODDS;
  return 0;
}

/**
 * Log-odds of a pair at or above the limit: none of 154 prints reached it (`npm run bench -- stereo
 * --per-cell 3`) where 55 % of the real pairs did, ln(0.55 / (1/154)) = 4.4. One such pair proves a
 * face alone (above LIVE_LOG_ODDS), as a blink does. Replays on flat screens stay below it (`npm
 * run bench -- stereo`), those held at a steep slant too, whose steep view `minBoxAspect` refuses
 * (docs/track.md, "Screens at a door").
 */
export const STEREO_LIVE_LOG_ODDS = 4.4;
/**
 * Log-odds of a pair below the prints' worst: every print lies there and 8 % of the real pairs did
 * (ln 0.08 = -2.5), but those are one man in one room, at cameras 26–90° apart, with his hands
 * across his face at times; a person at a door whose cameras are closer together falls there more
 * often, so it weighs as little as a low passive score.
 */
export const STEREO_FLAT_LOG_ODDS = -1;

/** The plane of the face: brows (17–26), eyes (36–47) and mouth (48–67). */
const PLANE_POINTS = [...range(17, 26), ...range(36, 67)];
/** The nose, bridge to nostrils (27–35): what stands out of that plane on a head. */
const NOSE_POINTS = range(27, 35);

/**
 * The out-of-plane parallax of one face seen by two cameras at the same moment, in face heights:
 * the homography that maps the face's plane (brows, eyes, mouth) in one view onto the other's
 * carries the nose across with it, and the nose's nine points land off their place in the other
 * view by this much, as one displacement (the length of the mean of their displacement vectors, so
 * that the landmarks' own jitter, which points every way, cancels, where a nose standing out of the
 * plane moves them all one way); the mean of both directions, each in the face heights of the view
 * it lands in. Nothing flat shows any: one homography maps every point of a plane between two views.
 * Undefined where the pair cannot say: a face the frame's edge cuts in either view (its landmarks
 * are guesses where the face is cut off), one turned from either camera further than
 * STEREO.maxYawDeg or smaller than STEREO.minFacePx, a face whose box is narrower than a head's
 * (STEREO.minBoxAspect: a picture seen at a steep slant) or much narrower in one view than in the
 * other (STEREO.minWidthRatio), and malformed or degenerate landmarks.
 */
export function stereoParallax(a: StereoView, b: StereoView): number | undefined {
  if (!usable(a) || !usable(b)) return undefined;
  const widthA = a.box.w / a.box.h;
  const widthB = b.box.w / b.box.h;
  if (Math.min(widthA, widthB) < STEREO.minBoxAspect) return undefined;
  if (Math.min(widthA, widthB) < STEREO.minWidthRatio * Math.max(widthA, widthB)) return undefined;
  const forth = fitPlane(a.landmarks, b.landmarks);
  const back = fitPlane(b.landmarks, a.landmarks);
  if (!forth || !back) return undefined;
  if (!withinYaw(a.landmarks) || !withinYaw(b.landmarks)) return undefined;
  const parallax = (noseParallax(forth, a.landmarks, b.landmarks) / b.box.h + noseParallax(back, b.landmarks, a.landmarks) / a.box.h) / 2;
  return Number.isFinite(parallax) ? parallax : undefined;
}

function fitPlane(from: Landmarks68, to: Landmarks68): Homography | undefined {
  return fitHomography(
    PLANE_POINTS.map((i) => from[i]!),
    PLANE_POINTS.map((i) => to[i]!),
  );
}

/** The length of the mean displacement, in `to`'s pixels, of the nose points carried from `from` by the plane's homography. */
function noseParallax(plane: Homography, from: Landmarks68, to: Landmarks68): number {
  let dx = 0;
  let dy = 0;
  for (const i of NOSE_POINTS) {
    const p = plane.transfer(from[i]!);
    dx += p.x - to[i]!.x;
    dy += p.y - to[i]!.y;
  }
  return Math.hypot(dx, dy) / NOSE_POINTS.length;
}

/** The face turned from the camera by at most STEREO.maxYawDeg, by its landmarks (as quality.ts reads yaw). */
function withinYaw(landmarks: Landmarks68): boolean {
  let yaw: number;
  try {
    yaw = headPose(landmarks, toAlignedFrame(alignment(fivePoints(landmarks)), landmarks)).yaw;
  } catch {
    return false; // landmarks collapsed onto a point or a line: no face to align
  }
  return Math.abs(yaw) <= STEREO.maxYawDeg;
}

/** A face whole in its frame, at least STEREO.minFacePx high, with 68 finite landmarks. */
function usable(v: StereoView): boolean {
  const { box, frame, landmarks } = v;
  if (landmarks.length !== 68) return false;
  for (let i = 0; i < 68; i++) if (!finitePoint(landmarks[i])) return false;
  if (![box.x, box.y, box.w, box.h, frame.width, frame.height].every(Number.isFinite)) return false;
  if (!(box.h >= STEREO.minFacePx && box.w > 0)) return false;
  return box.x > CUT_EDGE_PX && box.y > CUT_EDGE_PX && box.x + box.w < frame.width - CUT_EDGE_PX && box.y + box.h < frame.height - CUT_EDGE_PX;
}

function finitePoint(p: Point | undefined): boolean {
  return p !== undefined && Number.isFinite(p.x) && Number.isFinite(p.y);
}

function range(first: number, last: number): number[] {
  return Array.from({ length: last - first + 1 }, (_, i) => first + i);
}
