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
