// Rewrites applied to a model file when it is brought in from its npm package (`npm run models`).
// Each one leaves the network's function unchanged and only reshapes its graph (or, for
// zero-tiny-weights, sets weights too small to count to 0) for ONNX Runtime's CPU kernels; the
// manifest names the steps and the sha256 of the result, so a model facegate runs is still pinned
// to exact bytes.
import { decodeModel, encodeModel, setBatch, type OnnxGraph } from './onnx-graph.js';
import { padChannels } from './pad-channels.js';
import { preluAsRelu } from './prelu-as-relu.js';
import { zeroTinyWeights } from './zero-tiny-weights.js';

export const REWRITE_STEPS = {
  // 16 channels is AVX-512's block; a multiple of AVX2's 8 too.
  'pad-channels-16': (g: OnnxGraph) => padChannels(g, 16),
  'prelu-as-relu': preluAsRelu,
  // Both eyes in one run: one call's overhead instead of two.
  'batch-2': (g: OnnxGraph) => setBatch(g, 2),
  // No weight whose products are subnormal: the same speed on every thread.
  'zero-tiny-weights': zeroTinyWeights,
} as const;

export type RewriteStep = keyof typeof REWRITE_STEPS;

export function isRewriteStep(s: string): s is RewriteStep {
  return Object.hasOwn(REWRITE_STEPS, s);
}

/** Applies the steps in order; returns the new file and how many places each step changed. */
export function rewriteModel(bytes: Uint8Array, steps: readonly RewriteStep[]): { bytes: Uint8Array; changes: Record<string, number> } {
  const model = decodeModel(bytes);
  const changes: Record<string, number> = {};
  for (const step of steps) changes[step] = REWRITE_STEPS[step](model.graph);
  return { bytes: encodeModel(model), changes };
}
