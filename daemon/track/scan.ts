import type { Logger } from '../base/log.js';
import type { CameraEngine } from '../vision/engine.js';
import { CameraTracker, type CameraTrackerOptions, type TrackerStats } from './camera-tracker.js';
import type { TrackConfig } from './config.js';
import type { TrackEvent } from './events.js';
import type { MatchResult } from './identity.js';
import type { UnknownRegistry } from './unknowns.js';
import { videoFrames } from '../camera/video-file.js';

export interface ScanOptions {
  engine: CameraEngine;
  config: TrackConfig;
  identify(fused: Float32Array): MatchResult;
  unknowns: UnknownRegistry;
  /** Called with each event as soon as it is decided, in time order. */
  onEvent(event: TrackEvent): void | Promise<void>;
  logger?: Logger;
  /** Name given to the file in events (the `camera` field). */
  camera?: string;
  onEyeSample?: CameraTrackerOptions['onEyeSample'];
  /** Called after each frame with its time (seconds): for progress. */
  onFrame?(pts: number): void;
}

export interface ScanSummary {
  frames: number;
  /** Timestamp of the last frame, seconds. */
  lastT: number;
  stats: TrackerStats;
}

/**
 * The whole per-track logic over a video file: frames decoded at eye_fps with their own timestamps,
 * the same CameraTracker the daemon runs on camera frames, every track ended at the end of the file.
 */
export async function scanVideo(file: string, o: ScanOptions): Promise<ScanSummary> {
  const tracker = new CameraTracker({ camera: o.camera ?? 'file', engine: o.engine, config: o.config, identify: o.identify, unknowns: o.unknowns, onEyeSample: o.onEyeSample, ...(o.logger ? { logger: o.logger } : {}) });
  let frames = 0;
  let lastT = 0;
  for await (const frame of videoFrames(file, { fps: o.config.eye_fps })) {
    frames++;
    lastT = frame.pts;
    for (const e of await tracker.process(frame.image, frame.pts)) await o.onEvent(e);
    o.onFrame?.(frame.pts);
  }
  for (const e of await tracker.finish(lastT)) await o.onEvent(e);
  return { frames, lastT, stats: tracker.stats };
}
