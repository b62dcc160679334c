import { Type, type Static } from '@sinclair/typebox';
import { Section } from '../base/config-types.js';
import { LivenessConfigSchema } from '../liveness/config.js';

/**
 * Seconds between detections over the whole frame whatever moved (the tracker's sweeps otherwise
 * look only where the picture changed): rare enough to cost an empty entrance almost nothing (one
 * tiled 1080p pass, ~0.1 s of a core, per camera), often enough that a face the motion gate could
 * not see is found within half a minute.
 */
export const STILL_SWEEP_S = 30;

export const TrackConfigSchema = Section(
  {
    detect_fps: Type.Number({ exclusiveMinimum: 0, maximum: 60, default: 5, description: 'Full face detections a second per camera (tiled on large frames).' }),
    sweep_s: Type.Number({
      minimum: 0,
      maximum: 600,
      default: 2,
      description:
        `Seconds between sweeps: a sweep looks again wherever the picture changed since the last one, next to tracked faces included (between sweeps, detection runs only around tracked faces and where the picture moved for a reason they do not explain). The whole frame is looked at every ${STILL_SWEEP_S} s, or every sweep_s if longer, so an empty entrance costs almost nothing. 0: every detection covers the whole frame.`,
    }),
    reembed_s: Type.Number({
      minimum: 0,
      maximum: 600,
      default: 3,
      description:
        "Once a track's identity is decided and its passive anti-spoof score known, its face is embedded again only this often, seconds (a detection that overlaps it less, or overlaps another track, always is); anti-spoof too once the track is live, on every detection large enough for it before. 0: on every detection.",
    }),
    eye_fps: Type.Number({
      exclusiveMinimum: 0,
      maximum: 60,
      default: 15,
      description:
        'Frames a second on which each tracked face is followed (landmarks + eyes on a crop). Blink detection holds at 15; at 10 about a fifth of the blinks are missed, below 10 most.',
    }),
    expire_s: Type.Number({ exclusiveMinimum: 0, maximum: 600, default: 2, description: 'A track ends when its face has not been detected for this long, seconds.' }),
    coast_s: Type.Number({
      minimum: 0,
      maximum: 10,
      default: 0.8,
      description: 'How long a face the detector missed is still followed by landmarks alone (detectors drop faces on blink frames), seconds.',
    }),
    match_iou: Type.Number({ minimum: 0, maximum: 1, default: 0.3, description: "Overlap with a track's predicted box from which a detection may continue it." }),
    match_similarity: Type.Number({
      minimum: -1,
      maximum: 1,
      default: 0.3,
      description: "A detection that overlaps a track this little may still continue it when its embedding is at least this similar to the track's.",
    }),
    split_similarity: Type.Number({
      minimum: -1,
      maximum: 1,
      default: 0.15,
      description: "A detection whose embedding is less similar than this to a track's fused embedding starts a new track even where it overlaps (a cut, someone passing in front). Different people score ~0–0.2.",
    }),
    best_k: Type.Integer({ minimum: 1, maximum: 50, default: 5, description: 'Best frames (by quality) kept per track for thumbnails and promotion.' }),
    decide_frames: Type.Integer({
      minimum: 1,
      maximum: 100,
      default: 3,
      description: 'Good frames needed to name a person: the fused score must pass recognition.threshold and margin on this many consecutive good frames.',
    }),
    unknown_frames: Type.Integer({
      minimum: 1,
      maximum: 100,
      default: 5,
      description:
        "Consecutive good frames whose fused score is clearly below recognition.threshold (by recognition.margin or more) before a track is 'unknown' and alerted; a score in between keeps it undecided. 5 is a second at detect_fps 5: an enrolled person's ~105 px face in H.264 CRF 30 footage, enrolled from one photo, fused to 0.34–0.50 against a 0.45 threshold, up to three frames in a row below 0.40, and an unknown alert on an employee is the costlier mistake. People enrolled nowhere, at the same size, fused to 0.06–0.15 against six enrolled people and were alerted 0.8 s after their first good frame (0.4 s with 3).",
    }),
    min_face_px: Type.Integer({ minimum: 8, maximum: 2000, default: 32, description: "Faces lower than this are not used for identity; a track that never gets bigger ends as 'too_small'." }),
    min_sharpness: Type.Number({
      minimum: 0,
      maximum: 100_000,
      default: 5,
      description: 'Frames blurrier than this (variance of the Laplacian of the aligned face) are not used for identity; blurrier frames above it count less, fully from 35.',
    }),
    max_yaw: Type.Number({ minimum: 0, maximum: 90, default: 45, description: 'Frames with the head turned further than this are not used for identity, degrees.' }),
    unknown_similarity: Type.Number({
      minimum: -1,
      maximum: 1,
      default: 0.5,
      description: 'Fused embedding similarity at which an unknown track is the same unknown person as one seen before (same anonymous id).',
    }),
    unknown_retention_s: Type.Integer({ minimum: 0, maximum: 31_536_000, default: 86400, description: 'How long an unknown person keeps their anonymous id after last seen, seconds. The daemon keeps them in the state file (sealed) across restarts, at most retention.unknown_thumbnail_days.' }),
    max_tracks: Type.Integer({ minimum: 1, maximum: 200, default: 32, description: 'Most faces tracked at once per camera; more detections are dropped and counted.' }),
    liveness: LivenessConfigSchema,
  },
  'Per-person tracking: detection and eye rates, track life, identity decisions over frames, unknown persons, liveness.',
);
export type TrackConfig = Static<typeof TrackConfigSchema>;

/** Whether tracks can only become live by a blink, which needs the eyes sampled at eye_fps. */
export function livenessNeedsBlink(track: TrackConfig): boolean {
  return track.liveness.policy !== 'passive';
}

/**
 * The frame rate a camera should deliver to this tracker. Eyes are read on every frame that
 * arrives, up to eye_fps, so when liveness needs a blink the camera must deliver eye_fps; without a
 * blink, frames between detections would only be followed, and detect_fps is enough.
 */
export function cameraFpsFor(track: TrackConfig): number {
  return livenessNeedsBlink(track) ? track.eye_fps : track.detect_fps;
}
