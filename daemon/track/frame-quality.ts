import type { FaceQuality } from '../vision/types.js';
import type { TrackConfig } from './config.js';

/**
 * A usable frame's weight in the track's fused embedding, and whether it may count towards calling
 * the track unknown (a blurred frame may name a person, whose score it must then pass like any
 * other, but a match it misses says little while a sharper frame may follow).
 */
export type FrameVerdict = { usable: true; weight: number; decisive: boolean } | { usable: false; reason: 'too_small' | 'low_quality'; detail: string };

/** Face height (px) from which size stops adding to a frame's weight: the embedding is saturated. */
const FULL_SIZE_PX = 112;
/**
 * Sharpness (variance of the Laplacian of the aligned face) measured on the talking-head clips as a
 * camera delivers them (faces 40–120 px, H.264 CRF 28 and 32, with and without focus and motion
 * blur; docs/track.md), against how like the person's own sharp frames each frame's embedding stays.
 * From 20 up nearly every frame (98 %) still reaches the recognition threshold; from 35 up blur
 * costs little more. Below `min_sharpness` (5 by default) nothing useful is left: such frames
 * resemble their own person no more than another person does.
 */
const DECISIVE_SHARPNESS = 20;
const FULL_SHARPNESS = 35;
/** A frame at the floor still counts this much (of a sharp one's weight): it is not nothing. */
const FLOOR_SHARP_WEIGHT = 0.05;

/**
 * Whether a frame can speak for the person's identity, and how loudly: weight in (0, 1] from size,
 * sharpness and how frontal it is. A blurred frame is weighed down rather than dropped, since on a
 * person walking in most frames are somewhat blurred; frames below the limits are not guessed from.
 * Pitch only weighs a frame down: a face looking down 30° is still recognisable, and yaw alone
 * reads a profile.
 */
export function frameVerdict(q: FaceQuality, rules: Pick<TrackConfig, 'min_face_px' | 'min_sharpness' | 'max_yaw'>): FrameVerdict {
  if (q.faceHeight < rules.min_face_px) return { usable: false, reason: 'too_small', detail: `face ${Math.round(q.faceHeight)} px high, needs ${rules.min_face_px}` };
  if (q.sharpness < rules.min_sharpness) return { usable: false, reason: 'low_quality', detail: `blurred (sharpness ${Math.round(q.sharpness)}, needs ${rules.min_sharpness})` };
  if (Math.abs(q.yaw) > rules.max_yaw) return { usable: false, reason: 'low_quality', detail: `head turned (yaw ${Math.round(q.yaw)}°, at most ${rules.max_yaw}°)` };
  return { usable: true, weight: frameWeight(q, rules.min_sharpness), decisive: q.sharpness >= DECISIVE_SHARPNESS };
}

export function frameWeight(q: FaceQuality, minSharpness = 0): number {
  const size = Math.min(1, q.faceHeight / FULL_SIZE_PX);
  const sharp = FLOOR_SHARP_WEIGHT + (1 - FLOOR_SHARP_WEIGHT) * clamp01((q.sharpness - minSharpness) / Math.max(1e-6, FULL_SHARPNESS - minSharpness));
  const frontal = Math.cos((Math.min(Math.abs(q.yaw), 89) * Math.PI) / 180) * Math.cos((Math.min(Math.abs(q.pitch), 89) * Math.PI) / 180);
  return Math.max(1e-3, size * size * sharp * frontal);
}

function clamp01(v: number): number {
  return Math.min(1, Math.max(0, v));
}
