import { readFileSync } from 'node:fs';
import { env, InferenceSession, Tensor } from 'onnxruntime-node';
import { decodeModel, encodeModel, inputBatch, setBatch } from '../../models/rewrite/onnx-graph.js';
import type { Logger } from '../base/log.js';
import { probeWebGpu } from './webgpu-probe.js';

/**
 * 'webgpu' is the GPU path onnxruntime-node carries itself (Dawn over Vulkan on Linux); 'cuda' needs
 * ONNX Runtime's CUDA provider library, which onnxruntime-node does not ship (see docs/vision.md).
 */
export type ExecutionProvider = 'cpu' | 'cuda' | 'webgpu';

export interface SessionSettings {
  provider: ExecutionProvider;
  threads: number;
}

/**
 * The provider the models of a process may ask for: 'webgpu' only where an adapter answered the
 * probe (webgpu-probe.ts), once for all of them, since starting it without one crashes the process
 * at exit; the others as asked (they fall back in OrtModel.load).
 */
export async function usableSettings(requested: SessionSettings, modelPath: string, log: Logger): Promise<SessionSettings> {
  if (requested.provider !== 'webgpu') return requested;
  const probe = await probeWebGpu(modelPath);
  if (probe.ok) return requested;
  log.warn({ stage: 'vision', reason: probe.reason }, "execution provider 'webgpu' found no GPU adapter; running on CPU");
  return { ...requested, provider: 'cpu' };
}

/** The batch dimension's name in a model loaded for batches (`OrtModel.load`'s `batches`). */
const BATCH_DIM = 'batch';

/** How every model session is made: on these providers, with this many threads for one run. */
export function sessionOptions(providers: ExecutionProvider[], threads: number): InferenceSession.SessionOptions {
  return {
    executionProviders: providers,
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    // Activations decay into denormal floats in these networks, and x86 handles denormals in
    // microcode: flushing them to zero made the embedder 2.5× faster (npm run bench -- vision).
    // ONNX Runtime flushes only on the thread that made the process's first session (a
    // process-wide once), so the models' own tiny weights, whose products were most of those
    // denormals, are zeroed when they are installed (models/rewrite/zero-tiny-weights.ts).
    extra: { session: { set_denormal_as_zero: '1' } },
  };
}

/**
 * One ONNX model. An input is what the model file takes in one run (one face; both eyes of one face
 * for the eye model). Loaded with `batches`, its first dimension is left free, so that one run takes
 * any number of inputs laid end to end (`runMany`): what a GPU needs to pay. The sessions of one
 * worker share nothing with other workers, so a camera's worker thread never waits on another's model.
 */
export class OrtModel {
  private constructor(
    private readonly session: InferenceSession,
    readonly name: string,
    private readonly inputName: string,
    /** One input's shape, as the model file gives it. */
    readonly inputShape: readonly number[],
    readonly provider: ExecutionProvider,
    /** Whether `runMany` may take more than one input. */
    readonly batches: boolean,
  ) {}

  /** Floats in one input. */
  get inputSize(): number {
    return this.inputShape.reduce((a, b) => a * b, 1);
  }

  static async load(
    name: string,
    path: string,
    settings: SessionSettings,
    log: Logger,
    options: { batches?: boolean } = {},
  ): Promise<OrtModel> {
    // The file was verified by its sha256 (model-files.ts); the batch dimension is freed in memory,
    // the same rewrite the batch test checks row by row against single runs.
    let model: string | Uint8Array = path;
    let rows: number | undefined;
    if (options.batches) {
      const graph = decodeModel(readFileSync(path));
      rows = inputBatch(graph.graph);
      setBatch(graph.graph, BATCH_DIM);
      model = encodeModel(graph);
    }
    let session: InferenceSession;
    let provider = settings.provider;
    try {
      // An accelerator takes what it can of the graph and leaves the rest to the CPU.
      const attempt = sessionOptions(provider === 'cpu' ? ['cpu'] : [provider, 'cpu'], settings.threads);
      // ONNX Runtime prints its own multi-line error when a GPU is missing; facegate says it once, below.
      // (Its log level is process-wide and read when the first session is made.)
      if (provider !== 'cpu') env.logLevel = 'fatal';
      session = await createSession(model, attempt);
    } catch (e) {
      if (provider === 'cpu') throw e;
      // onnxruntime-node throws when the provider library, the driver or a GPU adapter is absent.
      log.warn(
        { stage: 'vision', model: name, reason: (e as Error).message.split('\n')[0] },
        `execution provider '${provider}' could not load; running on CPU`,
      );
      provider = 'cpu';
      session = await createSession(model, sessionOptions(['cpu'], settings.threads));
    }
    const inputName = session.inputNames[0]!;
    const meta = session.inputMetadata[0];
    const shape = meta && 'shape' in meta ? meta.shape.map((d) => (typeof d === 'number' ? d : 1)) : [];
    if (rows !== undefined && shape.length > 0) shape[0] = rows;
    return new OrtModel(session, name, inputName, shape, provider, options.batches === true);
  }

  /** Runs the model on one input laid out as `inputShape`; returns its outputs in the model's order. */
  async run(input: Float32Array): Promise<Float32Array[]> {
    return this.runMany(input, 1);
  }

  /**
   * Runs the model once on `count` inputs laid end to end in `inputs`; returns each output of the
   * model with the inputs' rows end to end, in the same order.
   */
  async runMany(inputs: Float32Array, count: number): Promise<Float32Array[]> {
    if (count !== 1 && !this.batches) throw new Error(`model '${this.name}' was loaded for one input a run, given ${count}`);
    const [rows, ...rest] = this.inputShape;
    const tensor = new Tensor('float32', inputs.subarray(0, count * this.inputSize), [count * rows!, ...rest]);
    const results = await this.session.run({ [this.inputName]: tensor });
    return this.session.outputNames.map((n) => results[n]!.data as Float32Array);
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

/** A file's path, or the bytes of a model rewritten in memory (one call each: TypeScript picks no overload for the union). */
function createSession(model: string | Uint8Array, options: InferenceSession.SessionOptions): Promise<InferenceSession> {
  return typeof model === 'string' ? InferenceSession.create(model, options) : InferenceSession.create(model, options);
}

export function softmax2(logits: Float32Array, offset = 0): [number, number] {
  const a = logits[offset]!;
  const b = logits[offset + 1]!;
  const m = Math.max(a, b);
  const ea = Math.exp(a - m);
  const eb = Math.exp(b - m);
  return [ea / (ea + eb), eb / (ea + eb)];
}
