/**
 * The matcher's number format: a template as int8 values and a query as int16 values, each with
 * one float scale (symmetric quantisation: cosine error ~5e-4, far under any threshold step). The
 * kernels multiply the integers; a score is their sum times both scales.
 */

const QUERY_SCALE = 32767;

/** int8 row = round(x · 127 / max|x|); returns the scale that maps it back. */
export function quantiseRow(v: Float32Array, out: Int8Array): number {
  let max = 0;
  for (let i = 0; i < v.length; i++) max = Math.max(max, Math.abs(v[i]!));
  if (max === 0) {
    out.fill(0);
    return 0;
  }
  const k = 127 / max;
  for (let i = 0; i < v.length; i++) out[i] = Math.round(v[i]! * k);
  return max / 127;
}

/** int16 query = round(x · 32767 / max|x|); returns the scale that maps it back. */
export function quantiseQuery(v: Float32Array, out: Int16Array): number {
  let max = 0;
  for (let i = 0; i < v.length; i++) max = Math.max(max, Math.abs(v[i]!));
  if (max === 0) {
    out.fill(0);
    return 0;
  }
  const k = QUERY_SCALE / max;
  for (let i = 0; i < v.length; i++) out[i] = Math.round(v[i]! * k);
  return max / QUERY_SCALE;
}
