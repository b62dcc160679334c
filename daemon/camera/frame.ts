import type { RgbImage } from '../vision/types.js';

/** One frame from a camera, as the pipeline gets it. */
export interface Frame {
  readonly camera: string;
  readonly image: RgbImage;
  /** Counts every frame FFmpeg delivered since the camera started, dropped ones included. */
  readonly seq: number;
  /** Monotonic clock (ms) when the frame was read. */
  readonly monoMs: number;
  /**
   * Seconds into the stream since this FFmpeg process started: frame index / fps, exact because the
   * output is constant-rate (`-vf fps=N`). For a file it is the position in the file (continuing
   * across loops); for RTSP it restarts at 0 on each reconnect.
   */
  readonly pts: number;
}
