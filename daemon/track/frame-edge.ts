import type { Box } from '../vision/types.js';

/**
 * How close (px, or this share of the face's height where that is more) a face may come to the
 * frame's edge and still count as whole. A detector's box is clipped to the frame, so a face that
 * runs past an edge ends on it; the landmarks' box is not, and runs past it.
 */
const EDGE_MARGIN_PX = 2;
const EDGE_MARGIN_SHARE = 0.02;

/**
 * Whether the frame's edge cuts the face: any of its boxes (the detection's, clipped to the frame,
 * and the one its landmarks make, which is not) reaches within the margin of an edge. Where the
 * frame cuts a face, the landmark model places the points it cannot see as a face would have them,
 * and those guesses move as no picture moves: a print brought so close that the frame's bottom cut
 * it below the nose read as a head in 3D. So such a face says nothing about liveness, whichever
 * way; it may still be recognised.
 */
export function cutByFrame(boxes: readonly Box[], frame: { width: number; height: number }): boolean {
  return boxes.some((b) => {
    const margin = Math.max(EDGE_MARGIN_PX, EDGE_MARGIN_SHARE * b.h);
    return !(b.x > margin && b.y > margin && b.x + b.w < frame.width - margin && b.y + b.h < frame.height - margin);
  });
}
