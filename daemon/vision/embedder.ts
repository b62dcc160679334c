import type { Logger } from '../base/log.js';
import { ALIGNED_SIZE } from './align.js';
import { ModelBatcher, ONE_AT_A_TIME, type BatchPolicy, type ModelRunner } from './batcher.js';
import type { SessionSettings } from './ort.js';
import type { PlanarLayout } from './sample-store.js';

export const EMBEDDING_DIM = 512;
/** What fr_feature reads: the aligned 112×112 face, planar BGR, (px − 127) / 128. */
export const EMBEDDER_INPUT: PlanarLayout = { planes: 'bgr', mean: 127, div: 128 };
export const EMBEDDER_INPUT_SIZE = ALIGNED_SIZE * ALIGNED_SIZE * 3;

/** fr_feature: 512-d identity embedding of an aligned 112×112 face. */
export class Embedder {
  private constructor(private readonly model: ModelBatcher) {}

  static async load(path: string, settings: SessionSettings, log: Logger, batch: BatchPolicy = ONE_AT_A_TIME, runner?: ModelRunner): Promise<Embedder> {
    return new Embedder(await ModelBatcher.load('embedder', path, settings, log, batch, runner));
  }

  /**
   * `input`: the aligned face sampled as EMBEDDER_INPUT. Returns the unit vector and the raw
   * vector's norm, which (as MagFace showed for such networks) falls for blurred, tiny or non-face
   * inputs: a cheap "is this a recognisable face" signal.
   */
  async embed(input: Float32Array): Promise<{ embedding: Float32Array; norm: number }> {
    const [out] = await this.model.run(input);
    const raw = Float32Array.from(out!);
    const norm = Math.sqrt(dot(raw, raw));
    return { embedding: scale(raw, norm > 0 ? 1 / norm : 0), norm };
  }

  async close(): Promise<void> {
    await this.model.close();
  }
}

function scale(v: Float32Array, k: number): Float32Array {
  for (let i = 0; i < v.length; i++) v[i]! *= k;
  return v;
}

export function dot(p: Float32Array, q: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < p.length; i++) sum += p[i]! * q[i]!;
  return sum;
}

/** Cosine similarity of two unit vectors. */
export const cosine = dot;
