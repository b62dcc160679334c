import { floatInitializer, setInitializer, type OnnxGraph } from './onnx-graph.js';

/**
 * Below this a weight is read as 0. Times any activation a network holds (|a| ≤ 10⁸), such a
 * weight adds at most 10⁻²² to a sum, nothing a float32 sum of ordinary size can hold; times an
 * activation below 10⁻⁸ it makes a subnormal product.
 */
export const TINY_WEIGHT = 1e-30;

/** TINY_WEIGHT's bits: a float32's magnitude orders as its bits without the sign do. */
const TINY_BITS = new Uint32Array(Float32Array.of(TINY_WEIGHT).buffer)[0]!;

/**
 * Sets every float weight smaller than TINY_WEIGHT (in magnitude) to 0; returns how many it set.
 *
 * Why: x86 computes with subnormal floats in microcode, many times slower than with normal ones.
 * The embedder ships ~119 000 weights below 10⁻³⁰ (9 % of it) and the landmark model ~27 000,
 * and their products with ordinary activations are subnormal. ONNX Runtime's
 * `set_denormal_as_zero` flushes them only on the thread that made the process's first session
 * (a process-wide once), so the vision worker that loaded its models second ran the embedder six
 * times slower than the other on an Intel Xeon. With these weights at 0 each model computes the
 * same outputs on any thread, at the speed of the flushing one.
 *
 * The weights are read by their bits: on a thread that flushes, JavaScript reads a subnormal
 * float32 as 0, and the result (and the manifest's sha256) would depend on the thread.
 */
export function zeroTinyWeights(graph: OnnxGraph): number {
  let zeroed = 0;
  for (const name of [...graph.initializers.keys()]) {
    const tensor = floatInitializer(graph, name);
    if (!tensor) continue;
    const bits = new Uint32Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.length);
    let tiny = 0;
    for (const b of bits) if (isTiny(b)) tiny++;
    if (tiny === 0) continue;
    setInitializer(graph, { ...tensor, data: new Float32Array(bits.map((b) => (isTiny(b) ? 0 : b)).buffer) });
    zeroed += tiny;
  }
  return zeroed;
}

/** A float32 (by its bits) that is not ±0 and smaller than TINY_WEIGHT in magnitude. */
function isTiny(bits: number): boolean {
  const magnitude = bits & 0x7fffffff;
  return magnitude !== 0 && magnitude < TINY_BITS;
}
