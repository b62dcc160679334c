import type { CameraSource } from '../camera/camera.js';
import { isFacegateError } from '../base/errors.js';
import type { Frame } from '../camera/frame.js';
import type { Logger } from '../base/log.js';
import type { Histogram } from '../base/metrics.js';
import type { CameraTracker } from '../track/camera-tracker.js';
import type { TrackEvent } from '../track/events.js';
import type { TrackView } from '../track/track.js';

/** The tracker's stages timed per frame, in the order they run. */
const TRACKER_STAGES = ['detect', 'analyze', 'follow', 'decide'] as const;
/** The label values of the per-stage latency: the tracker's stages and the whole frame. */
export const PIPELINE_STAGES = [...TRACKER_STAGES, 'frame'] as const;

export interface CameraPipelineOptions {
  camera: CameraSource;
  tracker: CameraTracker;
  /** Each decision, with the wall time of the frame it was made on. */
  onEvent(event: TrackEvent & { atMs: number }): Promise<void>;
  /** After each frame the tracker finished: its tracks as a viewer is shown them (the live view). */
  onTracks?(tracks: readonly TrackView[]): void;
  logger: Logger;
  /** Per-stage latency (detect, analyze, follow, decide, frame), seconds. */
  latency?: Histogram;
  /** After this many seconds with nothing tracked and nothing moving, the camera's scene is quiet (CameraSource.setQuiet); 0: never. */
  idleKeyframesAfterS?: number;
  now?: () => number;
  monoNow?: () => number;
}

/**
 * One camera's frames through its tracker, one frame at a time, in order: the camera's frame queue
 * keeps at most two waiting and drops the oldest, so a slow model never has more than that queued.
 * `lastProcessedMono` is what the watchdog reads: frames flowing is the proof of life.
 */
export class CameraPipeline {
  lastProcessedMono: number | undefined;
  processed = 0;
  private running: Promise<void> | undefined;
  private readonly abort = new AbortController();
  private baseT = 0;
  private lastT = -Infinity;
  /** The last frame's number: a frame further on than the next comes after frames the queue dropped (the tracker is behind). */
  private lastSeq: number | undefined;
  /** Frames lost to a vision worker that died or is restarting, since the last one that went through. */
  private visionFailures = 0;
  private readonly now: () => number;
  private readonly mono: () => number;

  constructor(private readonly o: CameraPipelineOptions) {
    this.now = o.now ?? Date.now;
    this.mono = o.monoNow ?? (() => performance.now());
  }

  get name(): string {
    return this.o.camera.name;
  }

  start(signal?: AbortSignal): void {
    if (this.running) return;
    signal?.addEventListener('abort', () => this.abort.abort(), { once: true });
    this.o.camera.start(this.abort.signal);
    this.running = this.loop();
  }

  /** Stops intake, ends every open track (their last events are delivered), stops the camera. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.o.camera.stop();
    await this.running;
    this.running = undefined;
  }

  private async loop(): Promise<void> {
    const log = this.o.logger.child({ stage: 'pipeline', camera: this.name });
    try {
      for await (const frame of this.o.camera.frames(this.abort.signal)) await this.process(frame);
    } catch (e) {
      log.error({ err: (e as Error).message }, 'camera pipeline failed; the camera is stopped');
    }
    if (this.lastT > -Infinity) {
      const atMs = this.now();
      for (const e of await this.o.tracker.finish(this.lastT)) await this.o.onEvent({ ...e, atMs });
    }
  }

  private async process(frame: Frame): Promise<void> {
    const atMs = this.now();
    const started = this.mono();
    const before = { ...this.o.tracker.stats.ms };
    let events: TrackEvent[];
    const t = this.trackTime(frame.pts);
    const lastSeq = this.lastSeq;
    this.lastSeq = frame.seq;
    try {
      events = await this.o.tracker.process(frame.image, t, { capturedMs: frame.capturedMs, behind: lastSeq !== undefined && frame.seq > lastSeq + 1 });
    } catch (e) {
      // A vision worker that died fails the calls it had; the pool restarts it and the camera goes
      // on with the next frame (the worker's own error line says why, once per failure).
      if (!isFacegateError(e) || e.code !== 'FG_ERR_VISION_WORKER') throw e;
      if (this.visionFailures++ === 0) this.o.logger.warn({ stage: 'pipeline', camera: this.name, code: e.code, err: e.message }, 'frame lost to a vision worker failure; going on with the next frames');
      return;
    }
    if (this.visionFailures > 0) this.o.logger.info({ stage: 'pipeline', camera: this.name, frames_lost: this.visionFailures }, 'vision is back for this camera');
    this.visionFailures = 0;
    this.lastProcessedMono = this.mono();
    this.processed++;
    if (this.o.latency) {
      const after = this.o.tracker.stats.ms;
      for (const stage of TRACKER_STAGES) {
        const ms = after[stage] - before[stage];
        if (ms > 0) this.o.latency.observe({ stage }, ms / 1000);
      }
      this.o.latency.observe({ stage: 'frame' }, (this.lastProcessedMono - started) / 1000);
    }
    this.o.onTracks?.(this.o.tracker.activeTracks.map((tr) => tr.view()));
    this.pace(t);
    for (const e of events) await this.o.onEvent({ ...e, atMs });
  }

  /**
   * A scene quiet for idleKeyframesAfterS is watched for less (one key frame a GOP, or the camera's
   * sub stream), and decoded at every frame again as soon as a frame shows motion or a face: the
   * tracker compares each frame it is given with the last.
   */
  private pace(t: number): void {
    const after = this.o.idleKeyframesAfterS ?? 0;
    if (after > 0) this.o.camera.setQuiet(t - this.o.tracker.lastActivityT >= after);
  }

  /** Frame times for the tracker must increase; an RTSP reconnect restarts pts at 0, so it is continued. */
  private trackTime(pts: number): number {
    let t = this.baseT + pts;
    if (t <= this.lastT) {
      this.baseT = this.lastT + 0.001 - pts;
      t = this.lastT + 0.001;
    }
    this.lastT = t;
    return t;
  }
}
