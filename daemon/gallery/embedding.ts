/** Values in one face embedding: what every template, stored or matched, holds. */
export const EMBEDDING_DIM = 512;

/**
 * Why a vector is not an embedding the matcher can hold, or undefined when it is one: EMBEDDING_DIM
 * values, each a finite number. A stored template is checked with it as it is read (a row written
 * otherwise quarantines its person rather than stopping the gallery from opening), and every
 * template is checked with it before it is written.
 */
export function embeddingProblem(v: Float32Array): string | undefined {
  if (v.length !== EMBEDDING_DIM) return `it has ${v.length} values, not ${EMBEDDING_DIM}`;
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) return `its value ${i} is ${v[i]}, not a finite number`;
  return undefined;
}
