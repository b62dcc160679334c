import { lumaAt, pictureBytes } from '../base/yuv.js';
import type { Landmarks68, Picture, Point } from '../vision/types.js';
import { cameraShifted, sampleFarField, type FarField } from './far-field.js';
import { mean } from './patches.js';

/** One detection of a track: its frame, time (s), landmarks and face height (px). */
export interface ScreenLook {
  t: number;
  img: Picture;
  landmarks: Landmarks68;
  faceHeight: number;
}

/** What the frame around a track's face has shown so far. */
export interface ScreenEvidence {
  /** Comparisons in which both straight edges beside the face left where they were, and were found again a little away: a frame moved. */
  moved: number;
  /** Comparisons in which both edges were still where they were (a door, a window, a monitor behind a person). */
  stayed: number;
  /**
   * Seconds from the track's first detection to the latest comparison in which an edge left its
   * place (both edges, or one while the other stayed, was hidden or unclear) while the camera did
   * not move; undefined before one.
   */
  lastMovedS?: number;
}

/**
 * The limits of the screen cue (see docs/track.md, "Screen"):
 * - on each side of the face, on `rows` rows from `rowFrom` to `rowTo` face heights about the
 *   landmarks' centre, the strongest step in grey level between `near` and `far` face heights out
 *   (a 3-px box derivative, of at least `minStep` grey levels); a side has an edge when
 *   `minRows` of the rows found a step of one sign, lying on a straight line (RMS residual at most
 *   `maxResidual` of a face height, slope at most `maxSlope`);
 * - two detections `minGapS`–`maxGapS` apart are compared when both had an edge on both sides: an
 *   edge stayed where the earlier one still shows at least `keep` of its step at the same place;
 *   it moved where it shows less than `gone` of it there and the new edge, of the same sign, lies
 *   `minMove`–`maxMove` of a face height from it (the same frame, moved); an edge that the face
 *   now covers (within `near` of its centre) is hidden, and says nothing.
 */
export const SCREEN = {
  rows: 7,
  rowFrom: -0.6,
  rowTo: 0.4,
  near: 0.75,
  far: 2.6,
  minStep: 24,
  minRows: 6,
  maxResidual: 0.02,
  maxSlope: 0.6,
  keep: 0.7,
  gone: 0.4,
  minMove: 0.02,
  maxMove: 0.3,
  minGapS: 0.3,
  maxGapS: 1.5,
} as const;

/**
 * When the screen cue speaks: `held` once the frame about the face moved `heldMoved` times (a held
 * screen or print, turned, tilted or wobbled in place); `pending` for `pendingS` after the latest
 * comparison in which an edge left its place, one edge or both, so that a replay is not made live
 * before its second move. A screen turned in place shows its bezel leaving its place on one side
 * long before both sides are seen to move in one comparison (a thin-bezelled phone: on one side
 * from 0.4 s, on both first at 2.4 s); on real tracks an edge that leaves its place is rare (a
 * hand, a person walking past a door's jamb) and only keeps the decision waiting that long. `world`
 * while its edges only stayed; else `unseen` (no frame about the face, or nothing clear yet).
 */
export const SCREEN_VERDICT = { heldMoved: 2, pendingS: 2 } as const;

export function screenVerdict(e: ScreenEvidence, watchedS: number): 'held' | 'pending' | 'world' | 'unseen' {
  if (e.moved >= SCREEN_VERDICT.heldMoved) return 'held';
  if (e.lastMovedS !== undefined && watchedS - e.lastMovedS < SCREEN_VERDICT.pendingS) return 'pending';
  if (e.stayed > 0 && e.moved === 0) return 'world';
  return 'unseen';
}

/** An edge beside the face: x = at + slope·(y − y0), with the step's mean size and sign. */
export interface SideEdge {
  at: number;
  slope: number;
  y0: number;
  step: number;
  sign: 1 | -1;
}

export interface Kept {
  t: number;
  left: SideEdge;
  right: SideEdge;
  faceHeight: number;
  rows: number[];
  /** The world far from the face, to tell a camera that shook from a frame that moved (far-field.ts). */
  far: FarField;
}

const FACE_POINTS = [17, 67] as const;
const MAX_LOOKS = 24;

/**
 * Whether the face is framed by straight edges that move: a screen or a print held up to the camera,
 * turned, tilted or wobbled in place. A door camera does not move, and neither do the door, window,
 * picture frame or monitor behind a person: their edges stay where they were however the person
 * moves. A held screen's bezel moves with the hand that holds it, even where the face it shows
 * hardly moves against it.
 */
export class ScreenCue {
  private readonly looks: Kept[] = [];
  private movedCount = 0;
  private stayedCount = 0;
  private firstT: number | undefined;
  private lastMovedS: number | undefined;

  push(look: ScreenLook): void {
    if (look.landmarks.length <= FACE_POINTS[1] || !(look.faceHeight > 0) || look.img.data.length < pictureBytes(look.img)) return;
    this.firstT ??= look.t;
    const face = look.landmarks.slice(FACE_POINTS[0], FACE_POINTS[1] + 1);
    const centre = mean(face);
    const h = look.faceHeight;
    const rows = Array.from({ length: SCREEN.rows }, (_, i) => centre.y + h * (SCREEN.rowFrom + ((SCREEN.rowTo - SCREEN.rowFrom) * i) / (SCREEN.rows - 1)));
    const left = sideEdge(look.img, centre.x, rows, h, -1);
    const right = sideEdge(look.img, centre.x, rows, h, 1);
    if (left && right) {
      for (const earlier of this.looks) {
        const gap = look.t - earlier.t;
        if (gap < SCREEN.minGapS || gap > SCREEN.maxGapS) continue;
        const fates = edgeFates(earlier, look.img, left, right, centre, h);
        const vote = compareFates(fates);
        // Edges that moved because the camera did (a pole in the wind, a slammed door) are no frame
        // that moved: the world far from the face shifted with them.
        const edgeLeft = fates.includes('moved') && !cameraShifted(earlier.far, look.img, SCREEN.maxMove * h);
        if (edgeLeft) this.lastMovedS = look.t - this.firstT;
        if (vote === 'moved' && edgeLeft) this.movedCount++;
        else if (vote === 'stayed') this.stayedCount++;
        // One comparison per look: the oldest in range.
        break;
      }
      this.looks.push({ t: look.t, left, right, faceHeight: h, rows, far: sampleFarField(face, h, look.img) });
    }
    while (this.looks.length > MAX_LOOKS || (this.looks.length > 0 && look.t - this.looks[0]!.t > SCREEN.maxGapS)) this.looks.shift();
  }

  get evidence(): ScreenEvidence {
    return { moved: this.movedCount, stayed: this.stayedCount, ...(this.lastMovedS === undefined ? {} : { lastMovedS: this.lastMovedS }) };
  }
}

export type EdgeFate = 'moved' | 'stayed' | 'hidden' | undefined;

/**
 * What became of each edge of `earlier` (left, right) in `img`, where `left` and `right` are the
 * edges found now and `centre` the face's centre now: it stayed where its step is still there; it
 * moved where the step is gone from its place and an edge of the same sign lies near it; hidden
 * where the face now covers its place (a person who moved across it).
 */
export function edgeFates(earlier: Kept, img: Picture, left: SideEdge, right: SideEdge, centre: Point, faceHeight: number): [EdgeFate, EdgeFate] {
  const sides = [
    [earlier.left, left],
    [earlier.right, right],
  ] as const;
  return sides.map(([before, now]): EdgeFate => {
    if (earlier.rows.some((y) => Math.abs(edgeX(before, y) - centre.x) < SCREEN.near * faceHeight)) return 'hidden';
    const still = stepAlong(img, before, earlier.rows) / before.step;
    if (still >= SCREEN.keep) return 'stayed';
    if (still > SCREEN.gone || now.sign !== before.sign) return undefined;
    const shift = Math.max(...earlier.rows.map((y) => Math.abs(edgeX(now, y) - edgeX(before, y))));
    return shift >= SCREEN.minMove * faceHeight && shift <= SCREEN.maxMove * faceHeight ? 'moved' : undefined;
  }) as [EdgeFate, EdgeFate];
}

export function compareFates(fates: readonly EdgeFate[]): 'moved' | 'stayed' | undefined {
  if (fates.every((f) => f === 'moved')) return 'moved';
  if (fates.every((f) => f === 'stayed')) return 'stayed';
  return undefined;
}

export function edgeX(e: SideEdge, y: number): number {
  return e.at + e.slope * (y - e.y0);
}

/** Half-width of the box derivative, px. */
const D = 2;

/** Grey-level step at x on row y: the mean of the D pixels right of x less the mean of the D left of it, over 3 rows. */
function stepAt(img: Picture, x: number, y: number): number {
  let right = 0;
  let left = 0;
  for (let dy = -1; dy <= 1; dy++) {
    for (let k = 1; k <= D; k++) {
      right += lumaAt(img, x + k, y + dy);
      left += lumaAt(img, x - k, y + dy);
    }
  }
  return (right - left) / (3 * D);
}

const insideRow = (img: Picture, x: number, y: number) => x - D - 1 >= 0 && x + D + 1 < img.width && y - 1 >= 0 && y + 1 < img.height;

/**
 * The straight edge on one side of the face (`side` −1 left, 1 right): per row and per sign (a
 * bezel has two edges, dark to light and light to dark), the strongest step between SCREEN.near
 * and SCREEN.far face heights out; the line through those of one sign when enough rows lie on it
 * (the row farthest off it may be left out). The stronger of the two signs' lines; undefined when
 * the side leaves the frame or holds no such edge.
 */
export function sideEdge(img: Picture, cx: number, rows: readonly number[], faceHeight: number, side: -1 | 1): SideEdge | undefined {
  const found: Record<'1' | '-1', Array<{ x: number; y: number; step: number }>> = { '1': [], '-1': [] };
  for (const yf of rows) {
    const y = Math.round(yf);
    let up = 0;
    let upX = -1;
    let down = 0;
    let downX = -1;
    for (let d = Math.round(SCREEN.near * faceHeight); d <= Math.round(SCREEN.far * faceHeight); d++) {
      const x = Math.round(cx + side * d);
      if (!insideRow(img, x, y)) break;
      const s = stepAt(img, x, y);
      if (s > up) [up, upX] = [s, x];
      if (s < down) [down, downX] = [s, x];
    }
    if (up >= SCREEN.minStep) found['1'].push({ x: upX, y: yf, step: up });
    if (-down >= SCREEN.minStep) found['-1'].push({ x: downX, y: yf, step: -down });
  }
  let best: SideEdge | undefined;
  for (const sign of [1, -1] as const) {
    const edge = straightEdge(found[sign], faceHeight, sign);
    if (edge && (!best || edge.step > best.step)) best = edge;
  }
  return best;
}

function straightEdge(points: ReadonlyArray<{ x: number; y: number; step: number }>, faceHeight: number, sign: 1 | -1): SideEdge | undefined {
  let kept = [...points];
  for (let attempt = 0; attempt < 2 && kept.length >= SCREEN.minRows; attempt++) {
    const line = fitLine(kept);
    if (!line || Math.abs(line.slope) > SCREEN.maxSlope) return undefined;
    const off = kept.map((f) => Math.abs(f.x - (line.at + line.slope * (f.y - line.y0))));
    const rms = Math.sqrt(off.reduce((sum, o) => sum + o * o, 0) / off.length);
    if (rms <= Math.max(1, SCREEN.maxResidual * faceHeight)) return { ...line, step: kept.reduce((sum, f) => sum + f.step, 0) / kept.length, sign };
    const worst = off.indexOf(Math.max(...off));
    kept = kept.filter((_, i) => i !== worst);
  }
  return undefined;
}

/** The mean step of `e`'s sign still found on its line in `img`, at the rows it was found on (within a pixel either way). */
function stepAlong(img: Picture, e: SideEdge, rows: readonly number[]): number {
  let sum = 0;
  let n = 0;
  for (const yf of rows) {
    const y = Math.round(yf);
    const x0 = Math.round(edgeX(e, yf));
    let best = 0;
    for (let x = x0 - 1; x <= x0 + 1; x++) if (insideRow(img, x, y)) best = Math.max(best, e.sign * stepAt(img, x, y));
    sum += best;
    n++;
  }
  return n ? sum / n : 0;
}

/** x = at + slope·(y − y0) by least squares, y0 the points' mean y; undefined when they share one y. */
export function fitLine(points: ReadonlyArray<{ x: number; y: number }>): { at: number; slope: number; y0: number } | undefined {
  if (points.length < 2) return undefined;
  const y0 = points.reduce((s, p) => s + p.y, 0) / points.length;
  const x0 = points.reduce((s, p) => s + p.x, 0) / points.length;
  let syy = 0;
  let sxy = 0;
  for (const p of points) {
    syy += (p.y - y0) ** 2;
    sxy += (p.y - y0) * (p.x - x0);
  }
  if (!(syy > 1e-9)) return undefined;
  return { at: x0, slope: sxy / syy, y0 };
}

