// Synthetic face embeddings with the structure that matters to a search by binary codes: people
// as random directions, each template and query a noisy sample around its person's, at the
// spread real templates of one person have (cosine ~0.5-0.8 to each other). Random unit vectors,
// every one a stranger to every other, say nothing about how near codes find near faces.
//
// Persons are not spread evenly over all 512 directions, as a model's are not: on the 86
// single-person identity photos of ../shared/media (19 persons), two different persons' embeddings
// have a cosine of 0.01 ± 0.098 and codes 254 ± 18 bits apart (4.6 % within 222 bits), where evenly
// spread vectors would give ± 0.044 and ± 11.3 bits: many more strangers have codes near a query's.
// A person's direction here is a Gaussian whose variance falls off over the values
// (e^(-i/PERSON_DIMS)), turned by a random Hadamard rotation so that no value stands out; two
// different persons' templates then have a cosine of 0.000 ± 0.106 and codes 256 ± 20.5 bits apart
// (5.0 % within 222), and the codes of two templates of one person lie 0.96 binomial deviations
// about the binomial mean for their cosine (the model's: 0.84): a little harsher on codes than the
// model on both counts. Deterministic for a seed, and fast enough to fill a million templates (a
// table of normal values, drawn by a 32-bit generator).
const TABLE = 1 << 16;
/** Over how many values a person's variance falls by e (see above). */
const PERSON_DIMS = 20;

export class FaceClusters {
  readonly dim: number;
  #state: number;
  #normal = new Float32Array(TABLE);
  /** A person's spread per value before the rotation, and the rotation's random signs. */
  #personScale: Float32Array;
  #signs: Float32Array;

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
    this.#personScale = Float32Array.from({ length: dim }, (_, i) => Math.exp(-i / (2 * PERSON_DIMS)));
    this.#signs = Float32Array.from({ length: dim }, () => (this.#next() & 1 ? 1 : -1));
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
    if (id === undefined) return this.#direction();
    const saved = this.#state;
    // A state of its own for the id (a multiplicative hash, never 0).
    this.#state = (Math.imul(id + 1, 0x9e3779b1) ^ 0x5bd1e995) >>> 0 || 1;
    for (let i = 0; i < 4; i++) this.#next();
    const v = this.#direction();
    this.#state = saved;
    return v;
  }

  #direction(): Float32Array {
    const v = new Float32Array(this.dim);
    for (let i = 0; i < this.dim; i++) v[i] = this.#personScale[i]! * this.#normal[this.#next() >>> 16]! * this.#signs[i]!;
    // Walsh-Hadamard transform (dim a power of 2), then unit length.
    for (let h = 1; h < this.dim; h *= 2) {
      for (let i = 0; i < this.dim; i += 2 * h) {
        for (let j = i; j < i + h; j++) {
          const x = v[j]!, y = v[j + h]!;
          v[j] = x + y;
          v[j + h] = x - y;
        }
      }
    }
    let norm = 0;
    for (let i = 0; i < this.dim; i++) norm += v[i]! * v[i]!;
    const k = 1 / Math.sqrt(norm);
    for (let i = 0; i < this.dim; i++) v[i]! *= k;
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
/** A query's: a new sample of an enrolled person, as a template is. */
export const QUERY_SPREAD = TEMPLATE_SPREAD;
/** How far a lookalike's direction lies from the person it resembles (cosine ~0.7). */
export const LOOKALIKE_SPREAD = 1;
