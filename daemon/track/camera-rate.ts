import type { CameraConfig } from '../camera/config.js';
import type { ConfigWarning } from '../base/config-types.js';
import { livenessNeedsBlink, type TrackConfig } from './config.js';

/**
 * A camera that delivers fewer frames than track.eye_fps while liveness needs a blink: its eyes are
 * read once per frame, so a 100–400 ms blink falls on one or two samples, or none, and its tracks
 * are recognised but seldom live. The config still runs (recognition, the passive check), so this
 * is a warning, not a refusal.
 */
export function cameraRateWarning(camera: CameraConfig, index: number, track: TrackConfig): ConfigWarning | undefined {
  if (!livenessNeedsBlink(track) || camera.fps >= track.eye_fps) return undefined;
  return {
    code: 'FG_WARN_CAMERA_FPS',
    path: `cameras.${index}.fps`,
    message: `camera "${camera.name}" delivers ${camera.fps} fps, below track.eye_fps (${track.eye_fps}): its eyes are read ${camera.fps} times a second, too few to catch most blinks, ${blinkUse(track)}`,
    hint: `set fps: ${track.eye_fps}, or leave fps out (it then follows track.eye_fps)`,
  };
}

/**
 * The same shortfall at the camera itself (`facegate doctor` probes it): a stream that sends fewer
 * frames than eye_fps cannot give the eye rate whatever `fps` says, since FFmpeg only repeats frames
 * to reach it, and a repeated frame is not a new look at the eyes. `sourceFps` is what the stream
 * declares; null (not declared) says nothing, and it is rounded so that an NTSC-style 14.99
 * (15000/1001) counts as the 15 it is meant to be.
 */
export function sourceRateWarning(camera: CameraConfig, index: number, sourceFps: number | null, track: TrackConfig): ConfigWarning | undefined {
  if (!livenessNeedsBlink(track) || sourceFps === null || Math.round(sourceFps) >= track.eye_fps) return undefined;
  return {
    code: 'FG_WARN_CAMERA_SOURCE_FPS',
    path: `cameras.${index}.url`,
    message: `camera "${camera.name}" itself sends ${sourceFps} fps, below track.eye_fps (${track.eye_fps}): repeated frames are not eye samples, so most blinks are missed, ${blinkUse(track)}`,
    hint: `raise the frame rate in the camera's own video (encoder) settings to at least ${track.eye_fps} fps`,
  };
}

/**
 * The eye rate blink detection was measured at and holds at (docs/track.md): a 100–400 ms blink
 * falls on two to six looks. At 10 a second the one look inside a short blink often catches the lids
 * half-way, and about a fifth of the blinks found at 15 are missed; below 10 a blink falls on one
 * look or none.
 */
export const BLINK_EYE_FPS = 15;

/** Below this a 100–400 ms blink falls on one look or none. */
const ONE_LOOK_EYE_FPS = 10;

/**
 * track.eye_fps itself below that: every camera that leaves fps out follows it down, so the
 * per-camera warnings would stay silent while every camera misses blinks.
 */
export function eyeRateWarning(track: TrackConfig): ConfigWarning | undefined {
  if (!livenessNeedsBlink(track) || track.eye_fps >= BLINK_EYE_FPS) return undefined;
  const loss =
    track.eye_fps < ONE_LOOK_EYE_FPS
      ? 'a 100–400 ms blink falls on one look or none'
      : `a short blink falls on one or two looks, and about a fifth of the blinks are missed at ${ONE_LOOK_EYE_FPS}`;
  return {
    code: 'FG_WARN_EYE_FPS',
    path: 'track.eye_fps',
    message: `track.eye_fps is ${track.eye_fps}, below the ${BLINK_EYE_FPS} blink detection holds at: ${loss}, so people wait longer to be live, ${blinkUse(track)}`,
    hint: `set track.eye_fps to ${BLINK_EYE_FPS} (the default) and give the cameras that rate, or use policy 'passive' where faces are at least track.liveness.antispoof_min_face_px high`,
  };
}

/** What the policy does with blinks, for the warnings: 'blink' needs one, 'fused' weighs them with the other cues. */
function blinkUse(track: TrackConfig): string {
  const policy = track.liveness.policy;
  return policy === 'blink' ? "and track.liveness.policy 'blink' needs one" : `and track.liveness.policy '${policy}' counts on them as one of its cues`;
}
