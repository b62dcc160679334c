// Synthetic face embeddings with the structure that matters to a search by binary codes: people
// as random directions, each template and query a noisy sample around its person's, at the
// spread real templates of one person have (cosine ~0.5-0.8 to each other). Random unit vectors,
// every one a stranger to every other, say nothing about how near codes find near faces.
// Deterministic for a seed, and fast enough to fill a million templates (a table of normal values,
// drawn by a 32-bit generator).

const TABLE = 1 << 16;

export class FaceClusters {
  readonly dim: number;
  #state: number;
  #normal = new Float32Array(TABLE);

  constructor(seed: number, dim = 512) {
    this.dim = dim;
    this.#state = seed >>> 0 || 1;
    // Box-Muller over the generator's uniforms.
    for (let i = 0; i < TABLE; i += 2) {
      const u = (this.#next() + 1) / 4294967297;
      const v = this.#next() / 4294967296;
      const r = Math.sqrt(-2 * Math.log(u));
      this.#normal[i] = r * Math.cos(2 * Math.PI * v);
      this.#normal[i + 1] = r * Math.sin(2 * Math.PI * v);
    }
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + ((hi - lo) * this.#next()) / 4294967296;
  }

  /**
   * A new person: a random direction. With `id`, the same direction for the same id every time,
   * whatever was drawn before: a gallery of a million persons need not keep them all.
   */
  person(id?: number): Float32Array {
    if (id === undefined) return this.sample(new Float32Array(this.dim), 1);
    const saved = this.#state;
    // A state of its own for the id (a multiplicative hash, never 0).
    this.#state = (Math.imul(id + 1, 0x9e3779b1) ^ 0x5bd1e995) >>> 0 || 1;
    for (let i = 0; i < 4; i++) this.#next();
    const v = this.sample(new Float32Array(this.dim), 1);
    this.#state = saved;
    return v;
  }

  /**
   * A sample of `centre`'s: centre + noise of norm ~`spread`, made unit. Its cosine to the centre is
   * ~1/√(1+spread²); two samples' is ~1/√((1+a²)(1+b²)).
   */
  sample(centre: Float32Array, spread: number): Float32Array {
    const out = new Float32Array(this.dim);
    const k = spread / Math.sqrt(this.dim);
    let norm = 0;
    for (let i = 0; i < this.dim; i++) {
      const x = centre[i]! + k * this.#normal[this.#next() >>> 16]!;
      out[i] = x;
      norm += x * x;
    }
    const s = 1 / Math.sqrt(norm);
    for (let i = 0; i < this.dim; i++) out[i]! *= s;
    return out;
  }

  /** xorshift32. */
  #next(): number {
    let x = this.#state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#state = x >>> 0;
    return this.#state;
  }
}

/** How a template's spread is drawn: same-person templates at cosine ~0.5-0.8 to each other. */
export const TEMPLATE_SPREAD = [0.5, 1] as const;
/** A query's: a new sample of an enrolled person, from a good view (~0.8 to a template) to a poor one (~0.45). */
export const QUERY_SPREAD = [0.5, 1.3] as const;
/** How far a lookalike's direction lies from the person it resembles (cosine ~0.7). */
export const LOOKALIKE_SPREAD = 1;
