import type { AttendanceDecision } from '../attendance/engine.js';
import type { RecognizedDecision } from '../attendance/stage.js';
import type { CameraHealth } from '../camera/health.js';
import type { RosterChange } from '../gallery/roster.js';
import type { TrackEvent } from '../track/events.js';
import type { TrackView } from '../track/track.js';

/** An accepted attendance sighting and what the rules made of it (check-in, check-out, nothing). */
export interface Sighting {
  decision: RecognizedDecision;
  decisions: readonly AttendanceDecision[];
}

/** Everything that crosses stages inside the daemon, by name. */
export interface DaemonEvents {
  /** A decision of a camera's tracker (recognized, unknown, spoof_suspected, blink, ...). */
  track: TrackEvent & { atMs: number };
  /** A camera changed state (streaming, stalled, backoff ...). */
  cameraState: CameraHealth;
  /** People were enrolled, changed or erased (committed). */
  roster: RosterChange;
  /** Attendance took a recognition that met its camera's requirement (attendance.require). */
  sighting: Sighting;
  /**
   * A camera's faces after each frame, as a viewer is shown them (who, and why nothing is decided
   * yet). Emitted only while a stage listens (the door displays): making them costs every frame.
   */
  trackViews: { camera: string; atMs: number; tracks: readonly TrackView[] };
}
