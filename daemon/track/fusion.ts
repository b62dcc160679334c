/**
 * A track's identity as the quality-weighted mean of its frames' embeddings, renormalised: noise of
 * single small or blurred frames averages out while the person's direction adds up.
 */
export class EmbeddingFusion {
  private readonly sum: Float64Array;
  private totalWeight = 0;
  private frames = 0;

  constructor(readonly dim = 512) {
    this.sum = new Float64Array(dim);
  }

  add(embedding: Float32Array, weight: number): void {
    if (embedding.length !== this.dim) throw new RangeError(`embedding has ${embedding.length} values, expected ${this.dim}`);
    if (!(weight > 0)) return;
    for (let i = 0; i < this.dim; i++) this.sum[i]! += weight * embedding[i]!;
    this.totalWeight += weight;
    this.frames++;
  }

  get count(): number {
    return this.frames;
  }

  get weight(): number {
    return this.totalWeight;
  }

  /** The fused unit vector, or undefined before any frame. */
  fused(): Float32Array | undefined {
    if (this.frames === 0) return undefined;
    return normalise(this.sum);
  }

  /** Forgets the sums (embeddings are personal data). */
  clear(): void {
    this.sum.fill(0);
    this.totalWeight = 0;
    this.frames = 0;
  }
}

export function normalise(v: ArrayLike<number>): Float32Array {
  let n = 0;
  for (let i = 0; i < v.length; i++) n += v[i]! * v[i]!;
  const k = n > 0 ? 1 / Math.sqrt(n) : 0;
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i]! * k;
  return out;
}
