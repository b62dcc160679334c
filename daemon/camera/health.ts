import type { Decoding } from './ffmpeg-args.js';
import type { FailureKind } from './ffmpeg-errors.js';

export type CameraState = 'stopped' | 'connecting' | 'streaming' | 'stalled' | 'backoff' | 'failed';

/** What `facegate status`, MQTT and the logs say about one camera. */
export interface CameraHealth {
  camera: string;
  /** The URL with credentials removed. */
  source: string;
  state: CameraState;
  /** 'keyframes' while a quiet scene is decoded one key frame a GOP, 'sub_stream' while it is watched on the camera's sub stream (CameraConfig.idle_keyframes_after_s, sub_url). */
  decoding: Decoding;
  /**
   * Frames a second read from FFmpeg over the last few seconds: FFmpeg hands over `fps_asked` a
   * second whatever the camera sends, repeating frames of a slower camera and dropping those of a
   * faster one, so this is the camera's delivery only when it is below `fps_asked`.
   */
  fps_in: number;
  /** The rate FFmpeg is asked to hand over: the camera's `fps` in the config. */
  fps_asked: number;
  /** The rate the camera's stream declares (FFmpeg's stream line), null until said or when it says none. */
  fps_source: number | null;
  /** Frames a second taken by the pipeline. */
  fps_processed: number;
  /**
   * Frames replaced by a newer one before the pipeline took them, since start: the pipeline takes
   * the newest frame when it is ready, so a camera read faster than the pipeline works counts them
   * all day, and that alone needs nothing done.
   */
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
  /** What about the camera's rates needs someone to act, and what to do; null when nothing does (rateAttention). */
  attention: { message: string; hint: string } | null;
}

/** Share of the asked rate below which a streaming camera is said to deliver too few frames. */
const SHORT_DELIVERY = 0.8;

/**
 * What about a camera's rates needs action, worded for every door (`status`, `cameras`, the
 * console): a stream that declares fewer frames than FFmpeg is asked for (the rest are repeats, no
 * new look at a face), or fewer frames read than asked for (the camera, its encoder or the network
 * falls short). Skipped frames alone never do: they are what a camera read faster than the pipeline
 * works gives. Judged only once the camera has streamed for the rate's whole window.
 */
export function rateAttention(h: Pick<CameraHealth, 'camera' | 'state' | 'decoding' | 'fps_in' | 'fps_asked' | 'fps_source'>, streamingForMs: number, windowMs = RATE_WINDOW_MS): CameraHealth['attention'] {
  // A quiet scene's key frames are few by design, and a sub stream's rate is not the main stream's.
  if (h.state !== 'streaming' || h.decoding !== 'all') return null;
  if (h.fps_source !== null && Math.round(h.fps_source) < h.fps_asked) {
    return {
      message: `the camera itself sends ${h.fps_source} fps, fewer than the ${h.fps_asked} fps asked for: FFmpeg repeats frames to make up the rate, and a repeat is no new look at a face`,
      hint: `raise the frame rate in the camera's own video settings to ${h.fps_asked} fps, or set fps: ${Math.round(h.fps_source)} for camera "${h.camera}" ('facegate doctor' says what the liveness needs)`,
    };
  }
  if (streamingForMs >= windowMs && h.fps_in < h.fps_asked * SHORT_DELIVERY) {
    return {
      message: `${h.fps_in} fps read of the ${h.fps_asked} fps asked for: the camera or the network delivers fewer frames than it should`,
      hint: `check the camera's link and its encoder load; 'facegate camera test --camera ${h.camera}' measures what it sends`,
    };
  }
  return null;
}

/** The window fps_in and fps_processed are measured over. */
export const RATE_WINDOW_MS = 5000;

/** Events a second over a sliding window, from event times; memory is bounded by the window. */
export class RateMeter {
  private times: number[] = [];
  constructor(private readonly windowMs = RATE_WINDOW_MS) {}

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
