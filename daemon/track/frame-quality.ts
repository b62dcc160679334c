import type { FaceQuality } from '../vision/types.js';
import type { TrackConfig } from './config.js';

export type FrameVerdict = { usable: true; weight: number } | { usable: false; reason: 'too_small' | 'low_quality'; detail: string };

/** Face height (px) from which size stops adding to a frame's weight: the embedding is saturated. */
const FULL_SIZE_PX = 112;
/** Sharpness from which blur stops lowering a frame's weight. */
const FULL_SHARPNESS = 120;

/**
 * Whether a frame can speak for the person's identity, and how loudly: weight in (0, 1] from size,
 * sharpness and how frontal it is. Frames below the limits are not guessed from.
 */
export function frameVerdict(q: FaceQuality, rules: Pick<TrackConfig, 'min_face_px' | 'min_sharpness' | 'max_yaw'>): FrameVerdict {
  if (q.faceHeight < rules.min_face_px) return { usable: false, reason: 'too_small', detail: `face ${Math.round(q.faceHeight)} px high, needs ${rules.min_face_px}` };
  if (q.sharpness < rules.min_sharpness) return { usable: false, reason: 'low_quality', detail: `blurred (sharpness ${Math.round(q.sharpness)}, needs ${rules.min_sharpness})` };
  if (Math.abs(q.yaw) > rules.max_yaw) return { usable: false, reason: 'low_quality', detail: `head turned (yaw ${Math.round(q.yaw)}°, at most ${rules.max_yaw}°)` };
  return { usable: true, weight: frameWeight(q) };
}

export function frameWeight(q: FaceQuality): number {
  const size = Math.min(1, q.faceHeight / FULL_SIZE_PX);
  const sharp = Math.min(1, q.sharpness / FULL_SHARPNESS);
  const frontal = Math.cos((Math.min(Math.abs(q.yaw), 89) * Math.PI) / 180) * Math.cos((Math.min(Math.abs(q.pitch), 89) * Math.PI) / 180);
  return Math.max(1e-3, size * size * (0.5 + 0.5 * sharp) * frontal);
}
