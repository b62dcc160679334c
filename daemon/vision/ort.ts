import { env, InferenceSession, Tensor } from 'onnxruntime-node';
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

/**
 * One ONNX model with a fixed input shape, run one input at a time. The sessions of one worker
 * share nothing with other workers, so a camera's worker thread never waits on another's model.
 */
export class OrtModel {
  private constructor(
    private readonly session: InferenceSession,
    readonly name: string,
    private readonly inputName: string,
    readonly inputShape: readonly number[],
    readonly provider: ExecutionProvider,
  ) {}

  static async load(
    name: string,
    path: string,
    settings: SessionSettings,
    log: Logger,
  ): Promise<OrtModel> {
    const options = (providers: ExecutionProvider[]): InferenceSession.SessionOptions => ({
      executionProviders: providers,
      intraOpNumThreads: settings.threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      // Activations decay into denormal floats in these networks, and x86 handles denormals in
      // microcode: flushing them to zero made the embedder 2.5× faster (npm run bench -- vision).
      extra: { session: { set_denormal_as_zero: '1' } },
    });
    let session: InferenceSession;
    let provider = settings.provider;
    try {
      // An accelerator takes what it can of the graph and leaves the rest to the CPU.
      const attempt = options(provider === 'cpu' ? ['cpu'] : [provider, 'cpu']);
      // ONNX Runtime prints its own multi-line error when a GPU is missing; facegate says it once, below.
      // (Its log level is process-wide and read when the first session is made.)
      if (provider !== 'cpu') env.logLevel = 'fatal';
      session = await InferenceSession.create(path, attempt);
    } catch (e) {
      if (provider === 'cpu') throw e;
      // onnxruntime-node throws when the provider library, the driver or a GPU adapter is absent.
      log.warn(
        { stage: 'vision', model: name, reason: (e as Error).message.split('\n')[0] },
        `execution provider '${provider}' could not load; running on CPU`,
      );
      provider = 'cpu';
      session = await InferenceSession.create(path, options(['cpu']));
    }
    const inputName = session.inputNames[0]!;
    const meta = session.inputMetadata[0];
    const shape = meta && 'shape' in meta ? meta.shape.map((d) => (typeof d === 'number' ? d : 1)) : [];
    return new OrtModel(session, name, inputName, shape, provider);
  }

  /** Runs the model on one input laid out as `inputShape`; returns its outputs in the model's order. */
  async run(input: Float32Array): Promise<Float32Array[]> {
    const tensor = new Tensor('float32', input, this.inputShape as number[]);
    const results = await this.session.run({ [this.inputName]: tensor });
    return this.session.outputNames.map((n) => results[n]!.data as Float32Array);
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

export function softmax2(logits: Float32Array, offset = 0): [number, number] {
  const a = logits[offset]!;
  const b = logits[offset + 1]!;
  const m = Math.max(a, b);
  const ea = Math.exp(a - m);
  const eb = Math.exp(b - m);
  return [ea / (ea + eb), eb / (ea + eb)];
}
