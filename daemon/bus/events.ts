import type { CameraHealth } from '../camera/health.js';
import type { TrackEvent } from '../track/events.js';

/** Everything that crosses stages inside the daemon, by name. */
export interface DaemonEvents {
  /** A decision of a camera's tracker (recognized, unknown, spoof_suspected, blink, ...). */
  track: TrackEvent & { atMs: number };
  /** A camera changed state (streaming, stalled, backoff ...). */
  cameraState: CameraHealth;
}
