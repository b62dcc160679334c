import { availableParallelism } from 'node:os';
import type { Logger } from '../base/log.js';
import type { AnalyzeOptions } from './engine.js';
import { batchPolicy, MAX_VISION_WORKERS, type VisionConfig } from './config.js';
import type { DetectMode } from './detector.js';
import type { CountedEngine, VisionEngine } from './engine.js';
import { verifyModels, type ModelPaths } from './model-files.js';
import { ModelServer } from './model-server.js';
import { usableSettings, type ExecutionProvider } from './ort.js';
import { detectionPlan, type SearchArea } from './tiles.js';
import type { Detection, FaceAnalysis, Picture } from './types.js';
import { VisionWorker } from './vision-worker.js';

export interface VisionPoolOptions {
  vision: VisionConfig;
  logger: Logger;
  /** Verified model files; verified here from `vision.models_dir` when not given. */
  models?: ModelPaths;
}

/** Where a camera's current frame is: the worker that holds it, under the camera's key. */
interface CameraSlot {
  key: string;
  worker: VisionWorker | undefined;
  /** The frame its calls are on now: a camera reuses its frame buffers, so frames are told apart by image, not by data. */
  image: Picture | undefined;
}

export interface PoolStats {
  worker: number;
  /** Cameras whose current frame this worker holds. */
  cameras: string[];
  busy: number;
  calls: number;
  framesSent: number;
  restarts: number;
}

/**
 * Default worker count: one per core, as each worker keeps one core busy with one ORT thread per
 * model. On 'webgpu' too: there the workers prepare the models' inputs, and the models run on the
 * GPU's own thread beside them (model-server.ts).
 */
export function defaultWorkers(vision: Pick<VisionConfig, 'workers'>): number {
  return vision.workers ?? Math.min(MAX_VISION_WORKERS, availableParallelism());
}

/**
 * The daemon's vision core on worker threads, each with its own FaceAnalyzer, so that vision uses
 * every core and the main thread stays free for MQTT, control and HTTP. Each new frame of a camera
 * goes to the worker with the fewest calls waiting, and every call on that frame follows it there,
 * so the frame crosses once. Choosing per frame rather than pinning a camera to a worker keeps both
 * cores busy whatever the cameras' number and load (three cameras pinned to two workers give one
 * camera a worker of its own and the other two half of one), and a worker serves the calls waiting
 * on it in order, so under overload every camera gets its turn. Calls not tied to a camera
 * (enrolment, identify) go to the worker with the fewest calls waiting too.
 */
export class VisionPool implements VisionEngine {
  private readonly cameras = new Map<string, CameraSlot>();
  private nextKey = 1;

  private constructor(
    private readonly workers: readonly VisionWorker[],
    private readonly config: VisionConfig,
    private readonly server: ModelServer | undefined,
  ) {}

  /**
   * Verifies the models once, then starts every worker and waits for all their models. On
   * 'webgpu' with an adapter, the GPU's model thread is started first and every worker sends it
   * its models' inputs; without one, the workers run on the CPU, said once here.
   */
  static async create(options: VisionPoolOptions): Promise<VisionPool> {
    const models = options.models ?? verifyModels(options.vision.models_dir);
    const server = await startServer(options.vision, models, options.logger);
    // Without a GPU the workers are told the CPU, so that none of them asks for the adapter again.
    const vision: VisionConfig = server || options.vision.execution_provider !== 'webgpu' ? options.vision : { ...options.vision, execution_provider: 'cpu' };
    const count = defaultWorkers(vision);
    const workers = Array.from(
      { length: count },
      (_, index) =>
        new VisionWorker({ setup: { index, vision, models, logLevel: options.logger.level as 'info' }, logger: options.logger, ...(server ? { connect: () => server.connect() } : {}) }),
    );
    const started = await Promise.allSettled(workers.map((w) => w.start()));
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await Promise.all(workers.map((w) => w.close()));
      await server?.close();
      throw failed.reason;
    }
    // A new model thread took over from one that ended: each worker is restarted onto it, as after a crash.
    server?.onRestarted(() => workers.forEach((w) => w.kill()));
    options.logger.debug({ stage: 'vision', workers: count, provider: workers[0]!.provider, model_thread: server !== undefined }, 'vision workers ready');
    return new VisionPool(workers, vision, server);
  }

  get provider(): ExecutionProvider {
    return this.workers[0]!.provider;
  }

  get size(): number {
    return this.workers.length;
  }

  /** Where the models run: the provider they got, the workers, the most inputs one model run takes. */
  info(): { provider: ExecutionProvider; workers: number; batchMax: number } {
    return { provider: this.provider, workers: this.size, batchMax: batchPolicy(this.config, this.provider).max };
  }

  /**
   * The engine of one camera; `release` it when the camera stops. It counts the detector's runs it
   * asked for (the full frame and each tile, as the worker plans them from the same config): on a
   * busy camera they are most of its cost.
   */
  engineFor(camera: string): CountedEngine {
    this.release(camera);
    // A key of its own: a camera re-added under the same name never names the old one's frame.
    const slot: CameraSlot = { key: `${camera}#${this.nextKey++}`, worker: undefined, image: undefined };
    this.cameras.set(camera, slot);
    const workerFor = (img: Picture): VisionWorker => {
      if (slot.worker && slot.image === img) return slot.worker;
      const next = this.leastBusy();
      // The worker it leaves lets go of the old frame now rather than at the camera's next visit.
      if (slot.worker && slot.worker !== next) slot.worker.forget(slot.key);
      slot.worker = next;
      slot.image = img;
      return next;
    };
    // Once released, a call still under way sends its frame without keeping it there.
    const keep = () => (this.cameras.get(camera) === slot ? slot.key : undefined);
    const { mode, min_face_px: minFacePx } = this.config.detect;
    let detectorRuns = 0;
    return {
      detect: (img, focus) => {
        detectorRuns += detectionPlan(img.width, img.height, { mode, minFacePx, focus }).length;
        return workerFor(img).callOn(img, keep(), (frame) => ({ op: 'detect', frame, ...(focus ? { focus } : {}) })) as Promise<Detection[]>;
      },
      analyzeFace: (img, detection, options) =>
        workerFor(img).callOn(img, keep(), (frame) => ({ op: 'analyzeFace', frame, detection, ...(options ? { options } : {}) })) as Promise<FaceAnalysis>,
      get detectorRuns() {
        return detectorRuns;
      },
    };
  }

  /** The camera stopped: the worker holding its frame lets go of it. */
  release(camera: string): void {
    const slot = this.cameras.get(camera);
    if (!slot) return;
    this.cameras.delete(camera);
    slot.worker?.forget(slot.key);
  }

  detect(img: Picture, mode?: DetectMode, focus?: readonly SearchArea[]): Promise<Detection[]> {
    return this.leastBusy().callOn(img, undefined, (frame) => ({ op: 'detect', frame, ...(mode ? { mode } : {}), ...(focus ? { focus } : {}) })) as Promise<Detection[]>;
  }

  analyze(img: Picture, options?: AnalyzeOptions): Promise<FaceAnalysis[]> {
    return this.leastBusy().callOn(img, undefined, (frame) => ({ op: 'analyze', frame, ...(options ? { options } : {}) })) as Promise<FaceAnalysis[]>;
  }

  analyzeFace(img: Picture, detection: Detection, options?: AnalyzeOptions): Promise<FaceAnalysis> {
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
      cameras: [...this.cameras].filter(([, slot]) => slot.worker === w).map(([camera]) => camera),
      busy: w.busy,
      calls: w.calls,
      framesSent: w.framesSent,
      restarts: w.restarts,
    }));
  }

  /** Waits for the calls under way, then ends every worker thread. */
  async close(): Promise<void> {
    this.cameras.clear();
    await Promise.all(this.workers.map((w) => w.close()));
    await this.server?.close();
  }

  /** The worker with the fewest calls waiting, among those that take calls now (a restarting one would fail them). */
  private leastBusy(): VisionWorker {
    const up = this.workers.filter((w) => w.ready);
    return (up.length > 0 ? up : this.workers).reduce((best, w) => (w.busy < best.busy ? w : best));
  }
}

/** The GPU's model thread where 'webgpu' is asked for and an adapter answers; none otherwise. */
async function startServer(vision: VisionConfig, models: ModelPaths, logger: Logger): Promise<ModelServer | undefined> {
  if (vision.execution_provider !== 'webgpu') return undefined;
  const settings = await usableSettings({ provider: 'webgpu', threads: vision.threads }, models.detector, logger);
  if (settings.provider !== 'webgpu') return undefined;
  const server = await ModelServer.start({ vision, models, provider: 'webgpu', logger });
  if (server.provider === 'webgpu') return server;
  // The adapter answered but the models would not load on it (said in the log): the CPU workers run them.
  await server.close();
  return undefined;
}
