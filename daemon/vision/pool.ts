import { availableParallelism } from 'node:os';
import type { Logger } from '../ops/log.js';
import type { AnalyzeOptions } from './analyzer.js';
import { MAX_VISION_WORKERS, type VisionConfig } from './config.js';
import type { DetectMode } from './detector.js';
import type { CameraEngine, VisionEngine } from './engine.js';
import { verifyModels, type ModelPaths } from './model-files.js';
import type { ExecutionProvider } from './ort.js';
import type { Box, Detection, FaceAnalysis, RgbImage } from './types.js';
import { VisionWorker } from './vision-worker.js';

export interface VisionPoolOptions {
  vision: VisionConfig;
  logger: Logger;
  /** Verified model files; verified here from `vision.models_dir` when not given. */
  models?: ModelPaths;
}

/** A camera's engine on its worker, with the frame sent once for all its calls. */
export interface PinnedEngine extends CameraEngine {
  readonly worker: number;
}

export interface PoolStats {
  worker: number;
  cameras: string[];
  busy: number;
  calls: number;
  framesSent: number;
  restarts: number;
}

/** Default worker count: one per core, as each worker keeps one core busy with one ORT thread per model. */
export function defaultWorkers(vision: Pick<VisionConfig, 'workers'>): number {
  return vision.workers ?? Math.min(MAX_VISION_WORKERS, availableParallelism());
}

/**
 * The daemon's vision core on worker threads, each with its own FaceAnalyzer, so that vision uses
 * every core and the main thread stays free for MQTT, control and HTTP. A camera is pinned to one
 * worker (the one with fewest cameras when it is added): its tracker's calls stay in order, and
 * its frame crosses to that worker once per frame. Calls not tied to a camera (enrolment,
 * identify) go to the worker with the fewest calls waiting.
 */
export class VisionPool implements VisionEngine {
  private readonly pins = new Map<string, { worker: VisionWorker; key: string }>();
  private nextKey = 1;

  private constructor(private readonly workers: readonly VisionWorker[]) {}

  /** Verifies the models once, then starts every worker and waits for all their models. */
  static async create(options: VisionPoolOptions): Promise<VisionPool> {
    const models = options.models ?? verifyModels(options.vision.models_dir);
    const count = defaultWorkers(options.vision);
    const workers = Array.from(
      { length: count },
      (_, index) => new VisionWorker({ setup: { index, vision: options.vision, models, logLevel: options.logger.level as 'info' }, logger: options.logger }),
    );
    const started = await Promise.allSettled(workers.map((w) => w.start()));
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await Promise.all(workers.map((w) => w.close()));
      throw failed.reason;
    }
    options.logger.debug({ stage: 'vision', workers: count, provider: workers[0]!.provider }, 'vision workers ready');
    return new VisionPool(workers);
  }

  get provider(): ExecutionProvider {
    return this.workers[0]!.provider;
  }

  get size(): number {
    return this.workers.length;
  }

  /** The engine of one camera; `release` it when the camera stops. */
  engineFor(camera: string): PinnedEngine {
    this.release(camera);
    const cameras = (w: VisionWorker) => [...this.pins.values()].filter((p) => p.worker === w).length;
    const worker = this.workers.reduce((best, w) => (cameras(w) < cameras(best) ? w : best));
    // A key of its own: a camera re-added under the same name never names the old one's frame.
    const key = `${camera}#${this.nextKey++}`;
    this.pins.set(camera, { worker, key });
    // Once released, a call still under way sends its frame without keeping it there.
    const keep = () => (this.pins.get(camera)?.key === key ? key : undefined);
    return {
      worker: worker.index,
      detect: (img, focus) => worker.callOn(img, keep(), (frame) => ({ op: 'detect', frame, ...(focus ? { focus } : {}) })) as Promise<Detection[]>,
      analyzeFace: (img, detection, options) =>
        worker.callOn(img, keep(), (frame) => ({ op: 'analyzeFace', frame, detection, ...(options ? { options } : {}) })) as Promise<FaceAnalysis>,
    };
  }

  /** The camera stopped: its worker lets go of its frame and takes new cameras first. */
  release(camera: string): void {
    const pin = this.pins.get(camera);
    if (!pin) return;
    this.pins.delete(camera);
    pin.worker.forget(pin.key);
  }

  detect(img: RgbImage, mode?: DetectMode, focus?: readonly Box[]): Promise<Detection[]> {
    return this.leastBusy().callOn(img, undefined, (frame) => ({ op: 'detect', frame, ...(mode ? { mode } : {}), ...(focus ? { focus } : {}) })) as Promise<Detection[]>;
  }

  analyze(img: RgbImage, options?: AnalyzeOptions): Promise<FaceAnalysis[]> {
    return this.leastBusy().callOn(img, undefined, (frame) => ({ op: 'analyze', frame, ...(options ? { options } : {}) })) as Promise<FaceAnalysis[]>;
  }

  analyzeFace(img: RgbImage, detection: Detection, options?: AnalyzeOptions): Promise<FaceAnalysis> {
    return this.leastBusy().callOn(img, undefined, (frame) => ({ op: 'analyzeFace', frame, detection, ...(options ? { options } : {}) })) as Promise<FaceAnalysis>;
  }

  /** A round trip to a worker without vision work: what the pool itself costs a call. */
  ping(worker = 0): Promise<unknown> {
    return this.workers[worker]!.call({ op: 'ping' }, []);
  }

  /** Ends one worker thread as a crash would (see VisionWorker.kill); it is restarted. */
  kill(worker: number): void {
    this.workers[worker]!.kill();
  }

  stats(): PoolStats[] {
    return this.workers.map((w) => ({
      worker: w.index,
      cameras: [...this.pins].filter(([, p]) => p.worker === w).map(([camera]) => camera),
      busy: w.busy,
      calls: w.calls,
      framesSent: w.framesSent,
      restarts: w.restarts,
    }));
  }

  /** Waits for the calls under way, then ends every worker thread. */
  async close(): Promise<void> {
    this.pins.clear();
    await Promise.all(this.workers.map((w) => w.close()));
  }

  private leastBusy(): VisionWorker {
    return this.workers.reduce((best, w) => (w.busy < best.busy ? w : best));
  }
}
