import type { Logger } from '../base/log.js';
import type { Subscribable } from '../base/subscribable.js';
import type { Histogram } from '../base/metrics.js';
import type { EventBus } from '../bus/bus.js';
import type { DaemonEvents } from '../bus/events.js';
import { FfmpegCamera } from '../camera/camera.js';
import type { CameraConfig } from '../camera/config.js';
import type { CameraHealth, CameraState } from '../camera/health.js';
import type { LiveView } from '../camera/live-view.js';
import type { SpawnFfmpeg } from '../camera/process.js';
import { cameraRateWarning, eyeRateWarning } from '../track/camera-rate.js';
import { CameraTracker, type FaceModelRuns } from '../track/camera-tracker.js';
import type { TrackConfig } from '../track/config.js';
import type { DoorSink } from '../track/door-link.js';
import type { ChallengeSettings } from '../track/challenge.js';
import type { TrackView } from '../track/track.js';
import type { UnknownRegistry } from '../track/unknowns.js';
import type { CountedEngine } from '../vision/engine.js';
import type { VisionPool } from '../vision/pool.js';
import { CameraPipeline } from './camera-pipeline.js';
import { trackOverlay } from './overlay.js';
import type { Recognizer } from './recognizer.js';

export interface CameraMaintainerOptions {
  /** Each camera's tracker decisions go out as `track`, its state changes as `cameraState`. */
  bus: EventBus<DaemonEvents>;
  vision: Pick<VisionPool, 'engineFor' | 'release'>;
  recognizer: Pick<Recognizer, 'identify'>;
  unknowns: UnknownRegistry;
  /** The track section: it needs a restart to change, so every camera of this run shares it. */
  track: TrackConfig;
  /** Read as each camera starts: the live view, when there is one, draws its tracks. */
  liveView: () => LiveView | undefined;
  /** The door a camera is one of, where its tracks' looks go to be paired; undefined for a camera in no door. */
  door?: (camera: string) => DoorSink | undefined;
  /** Whether a camera's tracks are asked for a movement now, and when (read at every frame: a reload may change it). */
  challenge?: (camera: string) => ChallengeSettings | undefined;
  latency: Histogram;
  /** Aborted when the daemon stops: every camera stops taking frames at once. */
  signal: AbortSignal;
  /** Replaces FFmpeg for every camera (the demo's still photo). */
  spawnCamera?: SpawnFfmpeg;
  logger: Logger;
  now: () => number;
  monoNow: () => number;
}

/** How far one camera got, for the watchdog: a camera streaming without frames processed is stuck. */
export interface CameraProgress {
  camera: string;
  state: CameraState;
  streamingSinceMono: number | undefined;
  lastProcessedMono: number | undefined;
}

/** What one camera's pipeline has done since it started: frames finished, faces the costly models ran on. */
export interface PipelineCounts {
  camera: string;
  processed: number;
  runs: FaceModelRuns;
  /** The detector's runs (the full frame and each tile) the camera's detections asked for. */
  detectorRuns: number;
}

interface CameraSlot {
  config: CameraConfig;
  engine: CountedEngine;
  tracker: CameraTracker;
  pipeline: CameraPipeline;
  camera: FfmpegCamera;
  streamingSinceMono: number | undefined;
  unsubscribe: () => void;
}

/**
 * The one owner of the running cameras (as Frigate's camera maintainer): it starts each camera with
 * its tracker and pipeline, stops them, and swaps the ones a reload added, removed or changed, so
 * that nothing else keeps a list of cameras that could go stale.
 */
export class CameraMaintainer {
  private readonly slots = new Map<string, CameraSlot>();
  private readonly log: Logger;

  constructor(private readonly o: CameraMaintainerOptions) {
    this.log = o.logger.child({ stage: 'daemon' });
  }

  /**
   * The cameras of the config at start. The eye rate is warned about once here (track needs a
   * restart to change): every camera that leaves fps out follows it, so no camera warning would name it.
   */
  start(cameras: readonly CameraConfig[]): void {
    const eyeRate = eyeRateWarning(this.o.track);
    if (eyeRate) this.log.warn({ code: eyeRate.code, path: eyeRate.path, hint: eyeRate.hint }, eyeRate.message);
    this.warnAboutRates(cameras, cameras.map((cam) => cam.name));
    for (const cam of cameras) this.add(cam);
  }

  /** A reload: the removed and changed cameras stop, the changed and added ones start from `next`. */
  reload(next: readonly CameraConfig[], change: { added: readonly string[]; removed: readonly string[]; changed: readonly string[] }): void {
    for (const name of [...change.removed, ...change.changed]) {
      const slot = this.slots.get(name);
      if (slot) void this.stopSlot(slot);
    }
    const started = [...change.changed, ...change.added];
    this.warnAboutRates(next, started);
    const byName = new Map(next.map((cam) => [cam.name, cam]));
    for (const name of started) this.add(byName.get(name)!);
  }

  /**
   * Follows the roster's changes on the bus, as the stage 'cameras'; returns the unsubscribe. A
   * person enrolled while in view (promoted from the track that sees them) is named at the next
   * detection, not after the pause of a track whose identity was decided.
   */
  subscribe(bus: Subscribable<Pick<DaemonEvents, 'roster'>>): () => void {
    return bus.on('roster', 'cameras', (change) => {
      if (change.kind === 'enrolled' || change.kind === 'resynced') for (const slot of this.slots.values()) slot.tracker.rosterGrew();
    });
  }

  /** Every camera running now, whether started at start or added by a reload since. */
  async stop(): Promise<void> {
    await Promise.all([...this.slots.values()].map((slot) => this.stopSlot(slot)));
  }

  names(): string[] {
    return [...this.slots.keys()];
  }

  sources(): FfmpegCamera[] {
    return [...this.slots.values()].map((slot) => slot.camera);
  }

  health(): CameraHealth[] {
    return [...this.slots.values()].map((slot) => slot.camera.health());
  }

  processedCounts(): PipelineCounts[] {
    return [...this.slots.values()].map((slot) => ({ camera: slot.config.name, processed: slot.pipeline.processed, runs: { ...slot.tracker.stats.runs }, detectorRuns: slot.engine.detectorRuns }));
  }

  progress(): CameraProgress[] {
    return [...this.slots.values()].map((slot) => ({
      camera: slot.config.name,
      state: slot.camera.health().state,
      streamingSinceMono: slot.streamingSinceMono,
      lastProcessedMono: slot.pipeline.lastProcessedMono,
    }));
  }

  /**
   * Once per camera as it is started (at start, or added or changed by a reload): one too slow for
   * the eye rate still runs, but its tracks are seldom live, and nothing else would say why.
   */
  private warnAboutRates(cameras: readonly CameraConfig[], names: readonly string[]): void {
    cameras.forEach((cam, index) => {
      const warning = names.includes(cam.name) ? cameraRateWarning(cam, index, this.o.track) : undefined;
      if (warning) this.log.warn({ code: warning.code, camera: cam.name, path: warning.path, hint: warning.hint }, warning.message);
    });
  }

  private add(config: CameraConfig): void {
    const o = this.o;
    const door = o.door?.(config.name);
    // A door's cameras time their frames by their own clocks where they can: the door pairs by it.
    const camera = new FfmpegCamera(config, { logger: o.logger, captureClock: door !== undefined, ...(o.spawnCamera ? { spawn: o.spawnCamera } : {}) });
    const engine = o.vision.engineFor(config.name);
    const tracker = new CameraTracker({
      camera: config.name,
      engine,
      config: o.track,
      identify: (fused) => o.recognizer.identify(fused, config.name),
      unknowns: o.unknowns,
      logger: o.logger,
      door,
      ...(o.challenge ? { challenge: () => o.challenge!(config.name) } : {}),
    });
    const liveView = o.liveView();
    // The views are made for each frame only where someone draws or shows them.
    const shown = o.bus.listens('trackViews');
    const onTracks = (tracks: readonly TrackView[]) => {
      liveView?.setOverlay(config.name, trackOverlay(tracks));
      if (shown) void o.bus.emit('trackViews', { camera: config.name, atMs: o.now(), tracks });
    };
    const pipeline = new CameraPipeline({
      camera,
      tracker,
      onEvent: (event) => o.bus.emit('track', event),
      ...(liveView || shown ? { onTracks } : {}),
      logger: o.logger,
      latency: o.latency,
      idleKeyframesAfterS: config.idle_keyframes_after_s,
      now: o.now,
      monoNow: o.monoNow,
    });
    const slot: CameraSlot = { config, engine, camera, tracker, pipeline, streamingSinceMono: undefined, unsubscribe: () => undefined };
    slot.unsubscribe = camera.onState((health) => {
      slot.streamingSinceMono = health.state === 'streaming' ? (slot.streamingSinceMono ?? o.monoNow()) : undefined;
      void o.bus.emit('cameraState', health);
    });
    this.slots.set(config.name, slot);
    pipeline.start(o.signal);
  }

  private async stopSlot(slot: CameraSlot): Promise<void> {
    if (this.slots.get(slot.config.name) === slot) this.slots.delete(slot.config.name);
    await slot.pipeline.stop();
    slot.unsubscribe();
    // Unless the camera came back (reload) in the meantime with a new engine of its own.
    if (this.slots.get(slot.config.name) === undefined) this.o.vision.release(slot.config.name);
  }
}
