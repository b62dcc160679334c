import type { FailureKind } from './ffmpeg-errors.js';

export type CameraState = 'stopped' | 'connecting' | 'streaming' | 'stalled' | 'backoff' | 'failed';

/** What `facegate status`, MQTT and the logs say about one camera. */
export interface CameraHealth {
  camera: string;
  /** The URL with credentials removed. */
  source: string;
  state: CameraState;
  /** Frames a second read from FFmpeg over the last few seconds. */
  fps_in: number;
  /** Frames a second taken by the pipeline. */
  fps_processed: number;
  /** Frames replaced by a newer one before the pipeline took them, since start. */
  frames_skipped: number;
  /**
   * Frames read into a fresh buffer because every reused one was still held, since start: each is
   * a frame's worth of garbage, so a steady count says the pipeline holds frames too long.
   */
  frames_unpooled: number;
  frames_in: number;
  reconnects_last_hour: number;
  stalls_last_hour: number;
  /** Since start: what a Prometheus counter needs (increase() over any window, across scrapes). */
  reconnects_total: number;
  stalls_total: number;
  last_error: { kind: FailureKind; message: string; at_ms: number } | null;
  /** Milliseconds from spawning FFmpeg to its first frame, last connection. */
  time_to_first_frame_ms: number | null;
}

/** Events a second over a sliding window, from event times; memory is bounded by the window. */
export class RateMeter {
  private times: number[] = [];
  constructor(private readonly windowMs = 5000) {}

  mark(nowMs: number): void {
    this.times.push(nowMs);
    this.prune(nowMs);
  }

  rate(nowMs: number): number {
    this.prune(nowMs);
    return (this.times.length * 1000) / this.windowMs;
  }

  private prune(nowMs: number): void {
    const cutoff = nowMs - this.windowMs;
    let i = 0;
    while (i < this.times.length && (this.times[i] as number) < cutoff) i++;
    if (i > 0) this.times.splice(0, i);
    // A runaway source cannot grow the window without bound either.
    if (this.times.length > 10_000) this.times.splice(0, this.times.length - 10_000);
  }
}

/** Counts events over the last hour (reconnects, stalls), and all of them since start. */
export class HourCounter {
  private readonly meter = new RateMeter(3_600_000);
  total = 0;
  mark(nowMs: number): void {
    this.total++;
    this.meter.mark(nowMs);
  }
  count(nowMs: number): number {
    return Math.round((this.meter.rate(nowMs) * 3_600_000) / 1000);
  }
}
