import { boxCentre, distance, iou } from '../vision/geometry.js';
import type { Box } from '../vision/types.js';

export interface TrackSlot {
  box: Box;
  /** The track's fused embedding, when it has one. */
  embedding?: Float32Array | undefined;
}

export interface DetectionSlot {
  box: Box;
  embedding?: Float32Array | undefined;
}

export interface AssociationRules {
  minIou: number;
  minSimilarity: number;
  /** Below this embedding similarity a detection is someone else, however well it overlaps. */
  splitSimilarity: number;
}

/** A detection this many of its own heights away from a track cannot be the same face a frame later. */
const MAX_JUMP_HEIGHTS = 2;
/**
 * Nor can one this much larger or smaller: between detections (~200 ms) a face does not change size
 * by half. Overlapping boxes of very different sizes are a part of the face found alone (an eye
 * region, a chin) or a face behind.
 */
export const MAX_SIZE_RATIO = 1.5;

/**
 * Pairs detections with tracks: first by overlap with the track's last box (greedy, best first),
 * then, for what is left, by embedding similarity among nearby boxes (a face that moved fast or was
 * followed badly). Where both have embeddings, a clearly different face never continues a track.
 * Returns pairs [trackIndex, detectionIndex].
 */
export function associate(tracks: readonly TrackSlot[], detections: readonly DetectionSlot[], rules: AssociationRules): Array<[number, number]> {
  const candidates: Array<{ t: number; d: number; key: number }> = [];
  for (let t = 0; t < tracks.length; t++) {
    for (let d = 0; d < detections.length; d++) {
      if (sizeRatio(tracks[t]!.box, detections[d]!.box) > MAX_SIZE_RATIO) continue;
      const overlap = iou(tracks[t]!.box, detections[d]!.box);
      const sim = similarity(tracks[t]!.embedding, detections[d]!.embedding);
      // A cut to another shot, or someone passing in front: same place, another face.
      if (sim !== undefined && sim < rules.splitSimilarity) continue;
      if (overlap >= rules.minIou) candidates.push({ t, d, key: 1 + overlap });
      else {
        const near = distance(boxCentre(tracks[t]!.box), boxCentre(detections[d]!.box)) <= MAX_JUMP_HEIGHTS * detections[d]!.box.h;
        if (sim !== undefined && sim >= rules.minSimilarity && near) candidates.push({ t, d, key: sim });
      }
    }
  }
  candidates.sort((p, q) => q.key - p.key);
  const usedT = new Set<number>();
  const usedD = new Set<number>();
  const pairs: Array<[number, number]> = [];
  for (const c of candidates) {
    if (usedT.has(c.t) || usedD.has(c.d)) continue;
    usedT.add(c.t);
    usedD.add(c.d);
    pairs.push([c.t, c.d]);
  }
  return pairs;
}

/** max(h1/h2, h2/h1): 1 for boxes of the same height. */
export function sizeRatio(a: Box, b: Box): number {
  return Math.max(a.h / b.h, b.h / a.h);
}

export function similarity(a: Float32Array | undefined, b: Float32Array | undefined): number | undefined {
  if (!a || !b || a.length !== b.length) return undefined;
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!;
  return dot;
}
