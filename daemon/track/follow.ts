import type { Box, Landmarks68 } from '../vision/types.js';

/**
 * Where the detector's box sits relative to the bounding box of the 68 landmarks, measured when a
 * face is detected. Between detections the box is rebuilt from new landmarks with it, so the crop
 * the landmark model sees keeps the proportions it was trained on.
 */
export interface BoxFromLandmarks {
  dx: number;
  dy: number;
  sw: number;
  sh: number;
}

export function landmarkBounds(lm: Landmarks68): Box {
  let x1 = Infinity, y1 = Infinity, x2 = -Infinity, y2 = -Infinity;
  for (const p of lm) {
    x1 = Math.min(x1, p.x);
    y1 = Math.min(y1, p.y);
    x2 = Math.max(x2, p.x);
    y2 = Math.max(y2, p.y);
  }
  return { x: x1, y: y1, w: Math.max(1e-3, x2 - x1), h: Math.max(1e-3, y2 - y1) };
}

export function relateBox(box: Box, lm: Landmarks68): BoxFromLandmarks {
  const b = landmarkBounds(lm);
  return { dx: (box.x - b.x) / b.w, dy: (box.y - b.y) / b.h, sw: box.w / b.w, sh: box.h / b.h };
}

export function boxFromLandmarks(lm: Landmarks68, rel: BoxFromLandmarks): Box {
  const b = landmarkBounds(lm);
  return { x: b.x + rel.dx * b.w, y: b.y + rel.dy * b.h, w: rel.sw * b.w, h: rel.sh * b.h };
}

/**
 * Largest change of any landmark between two sets, in pixels. A frozen frame (a stalled camera,
 * a looped still) gives the very same points again; live video never does.
 */
export function landmarkShift(a: Landmarks68, b: Landmarks68): number {
  let max = 0;
  for (let i = 0; i < a.length && i < b.length; i++) max = Math.max(max, Math.abs(a[i]!.x - b[i]!.x), Math.abs(a[i]!.y - b[i]!.y));
  return max;
}

/** Looks further apart than this say nothing about the face's speed now. */
const MAX_VELOCITY_GAP_S = 0.5;

/**
 * Where a face will be on the next frame: its last box moved on at the speed of its centre over the
 * last looks (smoothed). A print waved in front of the camera, or a person walking in, moves tens of
 * pixels between frames at 15 fps; cropping where the face was instead of where it is puts the
 * landmarks and the eye crops off the face, and the eye model reads nonsense there.
 */
export class BoxMotion {
  private last: { t: number; box: Box } | undefined;
  private vx = 0;
  private vy = 0;

  observe(box: Box, t: number): void {
    const last = this.last;
    this.last = { t, box };
    if (!last || t <= last.t) return;
    const dt = t - last.t;
    if (dt > MAX_VELOCITY_GAP_S) {
      this.vx = this.vy = 0;
      return;
    }
    const vx = (box.x + box.w / 2 - (last.box.x + last.box.w / 2)) / dt;
    const vy = (box.y + box.h / 2 - (last.box.y + last.box.h / 2)) / dt;
    this.vx = 0.5 * this.vx + 0.5 * vx;
    this.vy = 0.5 * this.vy + 0.5 * vy;
  }

  /** The box expected at time t: moved on for at most MAX_VELOCITY_GAP_S, and by at most its own height. */
  predict(t: number): Box | undefined {
    if (!this.last) return undefined;
    const { box } = this.last;
    const dt = Math.min(Math.max(0, t - this.last.t), MAX_VELOCITY_GAP_S);
    const limit = box.h;
    const dx = Math.max(-limit, Math.min(limit, this.vx * dt));
    const dy = Math.max(-limit, Math.min(limit, this.vy * dt));
    return { x: box.x + dx, y: box.y + dy, w: box.w, h: box.h };
  }
}
