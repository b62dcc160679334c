import type { Logger } from '../base/log.js';
import { OrtModel, type ExecutionProvider, type SessionSettings } from './ort.js';

/** What runs a model's inputs: its session on this thread (OrtModel), or the GPU's thread (RemoteModel). */
export interface ModelRunner {
  readonly name: string;
  /** One input's shape, as the model file gives it. */
  readonly inputShape: readonly number[];
  readonly inputSize: number;
  readonly provider: ExecutionProvider;
  /** Whether `runMany` may take more than one input. */
  readonly batches: boolean;
  runMany(inputs: Float32Array, count: number): Promise<Float32Array[]>;
  close(): Promise<void>;
}

/** How a model's inputs are gathered into runs. */
export interface BatchPolicy {
  /** Most inputs in one run; 1 runs each input alone. */
  max: number;
  /**
   * How long the first input of a run waits for others (ms). 0 takes what is already waiting: the
   * inputs given in the same turn of the event loop, and those that came while the last run ran.
   */
  windowMs: number;
  /**
   * Whether a run's inputs are padded up to a power of two: a GPU compiles its kernels once for each
   * shape it meets, so six shapes rather than `max`; on a CPU padding is only more work.
   */
  padToPowerOfTwo: boolean;
}

/** Each input in a run of its own: the CPU's way, where batching buys nothing. */
export const ONE_AT_A_TIME: BatchPolicy = { max: 1, windowMs: 0, padToPowerOfTwo: false };

interface Waiting {
  /** The input, copied into a buffer of this queue's. */
  input: Float32Array;
  resolve: (outputs: Float32Array[]) => void;
  reject: (e: unknown) => void;
}

/**
 * One model's queue: each `run` is one input, and the inputs waiting when a run starts go to the
 * model in one call, in the order they came, at most `max` of them. So the faces and tiles of every
 * camera of a worker that are due at the same moment share one call, and no input waits for longer
 * than the run before it and the window. Runs of one model never overlap (ONNX Runtime runs each on
 * the calling thread anyway). Each input is copied when given, so a caller reuses its own buffer at
 * once; the copies' buffers are reused, so a busy queue allocates nothing.
 */
export class ModelBatcher {
  private readonly waiting: Waiting[] = [];
  private readonly spare: Float32Array[] = [];
  /** Where a run of several inputs lays them end to end; made at the first such run. */
  private together: Float32Array | undefined;
  private timer: ReturnType<typeof setTimeout> | ReturnType<typeof setImmediate> | undefined;
  private running = false;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(
    private readonly model: ModelRunner,
    private readonly policy: BatchPolicy,
  ) {
    if (!Number.isInteger(policy.max) || policy.max < 1) throw new RangeError(`batch max must be a positive integer, got ${policy.max}`);
    if (policy.max > 1 && !model.batches) throw new RangeError(`model '${model.name}' was not loaded for batches`);
  }

  /**
   * A queue of `policy`'s in front of `runner`, or else of the model file at `path` on this thread
   * (loaded for batches when the queue gathers any).
   */
  static async load(name: string, path: string, settings: SessionSettings, log: Logger, policy: BatchPolicy, runner?: ModelRunner): Promise<ModelBatcher> {
    return new ModelBatcher(runner ?? (await OrtModel.load(name, path, settings, log, { batches: policy.max > 1 })), policy);
  }

  get provider(): ExecutionProvider {
    return this.model.provider;
  }

  get inputShape(): readonly number[] {
    return this.model.inputShape;
  }

  get inputSize(): number {
    return this.model.inputSize;
  }

  /** Once the inputs given have their outputs. */
  async close(): Promise<void> {
    await this.idle();
    await this.model.close();
  }

  /** The model's outputs for one input (`model.inputSize` floats, read before this returns). */
  run(input: Float32Array): Promise<Float32Array[]> {
    const size = this.model.inputSize;
    if (input.length !== size) return Promise.reject(new RangeError(`model '${this.model.name}' takes ${size} floats an input, got ${input.length}`));
    const copy = this.spare.pop() ?? new Float32Array(size);
    copy.set(input);
    return new Promise((resolve, reject) => {
      this.waiting.push({ input: copy, resolve, reject });
      this.schedule();
    });
  }

  /** Once nothing waits and no run is under way. */
  idle(): Promise<void> {
    if (!this.running && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.running) return;
    if (this.waiting.length >= this.policy.max) {
      this.clearTimer();
      void this.flush();
      return;
    }
    if (this.timer !== undefined) return;
    const flush = () => {
      this.timer = undefined;
      void this.flush();
    };
    this.timer = this.policy.windowMs > 0 ? setTimeout(flush, this.policy.windowMs) : setImmediate(flush);
  }

  private clearTimer(): void {
    if (this.timer === undefined) return;
    clearTimeout(this.timer as ReturnType<typeof setTimeout>);
    clearImmediate(this.timer as ReturnType<typeof setImmediate>);
    this.timer = undefined;
  }

  private async flush(): Promise<void> {
    if (this.running || this.waiting.length === 0) return;
    this.running = true;
    const batch = this.waiting.splice(0, this.policy.max);
    const run = paddedCount(batch.length, this.policy.padToPowerOfTwo);
    try {
      const outputs = await this.model.runMany(run === 1 ? batch[0]!.input : this.layOut(batch, run), run);
      batch.forEach((w, i) => w.resolve(outputs.map((out) => out.subarray((i * out.length) / run, ((i + 1) * out.length) / run))));
    } catch (e) {
      for (const w of batch) w.reject(e);
    } finally {
      for (const w of batch) this.spare.push(w.input);
      this.running = false;
      if (this.waiting.length > 0) this.schedule();
      else for (const done of this.idleWaiters.splice(0)) done();
    }
  }

  /** The batch's inputs end to end, then zeros up to `run` inputs (their outputs are dropped). */
  private layOut(batch: readonly Waiting[], run: number): Float32Array {
    const size = this.model.inputSize;
    this.together ??= new Float32Array(paddedCount(this.policy.max, this.policy.padToPowerOfTwo) * size);
    batch.forEach((w, i) => this.together!.set(w.input, i * size));
    this.together.fill(0, batch.length * size, run * size);
    return this.together;
  }
}

/** The inputs a run of `count` takes: `count`, or the power of two at or above it. */
export function paddedCount(count: number, padToPowerOfTwo: boolean): number {
  return padToPowerOfTwo ? 2 ** Math.ceil(Math.log2(Math.max(1, count))) : count;
}
