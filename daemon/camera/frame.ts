import type { Picture } from '../base/image.js';
import type { CaptureClockKind } from './capture-latency.js';

/** One frame from a camera, as the pipeline gets it. */
export interface Frame {
  readonly camera: string;
  readonly image: Picture;
  /** Counts every frame FFmpeg delivered since the camera started, dropped ones included. */
  readonly seq: number;
  /** Monotonic clock (ms) when the frame was read. */
  readonly monoMs: number;
  /**
   * When the camera took it, on the monotonic clock (ms): `monoMs` less the camera's measured
   * latency where `clock` is `camera` (an RTSP camera of a door whose RTCP reports time its
   * packets), else `monoMs` itself. A door pairs its cameras' looks by it.
   */
  readonly capturedMs: number;
  readonly clock: CaptureClockKind;
  /**
   * Seconds since this FFmpeg process's first video frame: frame index / fps, exact because the
   * output is constant-rate (`-vf fps=N`, which picks frames by the source's own timestamps). For a
   * file, the position after its first video frame (continuing across loops); for RTSP it restarts
   * at 0 on each reconnect.
   */
  readonly pts: number;
}
