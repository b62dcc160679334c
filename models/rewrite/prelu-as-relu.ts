import {
  consumersOf,
  dropUnusedInitializers,
  floatInitializer,
  intAttr,
  intsAttr,
  makeNode,
  producersOf,
  scaledWeight,
  setInitializer,
  type FloatTensor,
  type OnnxGraph,
  type OnnxNode,
} from './onnx-graph.js';

/**
 * Up to this many multiply-adds per output value, the convolution before a PRelu is computed a
 * second time rather than scaling its output in a pass of its own (see below): the depthwise 3×3
 * convolutions (9), a network's first convolution (27) and the anti-spoof's 32→112-channel
 * expansion. Measured on both rewritten networks, one thread, each setting alternated with the
 * others in one process: computing the 64-input expansions twice too made the embedder 7–9 %
 * slower on a 2-core AMD EPYC (AVX2) and 3–5 % on a 16-core Xeon (AVX-512), and the 128-input ones
 * slower still.
 */
const FOLD_MAX_MACS = 32;

/**
 * Replaces each per-channel PRelu after a 2-D convolution by ops that ONNX Runtime's CPU provider
 * keeps in its blocked (NCHWc) layout:
 *
 *   PRelu(x, s) = x + (1 − s)·Relu(−x) = x + Relu((s − 1)·x)      for a channel with s ≤ 1
 *               = x − (s − 1)·Relu(−x) = x − Relu((1 − s)·x)      for a channel with s > 1
 *
 * ORT has no NCHWc PRelu: it converts every PRelu's input back to NCHW and its output forward
 * again, and those reorders plus PRelu cost as much as half of the embedder's time.
 *
 * The scale inside the Relu, −|s − 1|, is either a 1×1 depthwise convolution of x, or, where x
 * comes from a cheap convolution that nothing else reads, that convolution again with its weights
 * and bias scaled; ORT then fuses the Add into the original convolution, saving two passes over x.
 * Results equal the PRelu's up to float rounding (test/models compares them on real faces).
 */
export function preluAsRelu(graph: OnnxGraph): number {
  const producers = producersOf(graph);
  const consumers = consumersOf(graph);
  let rewritten = 0;
  const nodes: OnnxNode[] = [];
  for (const node of graph.nodes) {
    const slope = node.opType === 'PRelu' ? floatInitializer(graph, node.inputs[1] ?? '') : undefined;
    const x = node.inputs[0] ?? '';
    const conv = producers.get(x);
    const weight = conv?.opType === 'Conv' ? floatInitializer(graph, conv.inputs[1] ?? '') : undefined;
    if (!slope || !weight || weight.dims.length !== 4 || !isPerChannel(slope.dims)) {
      nodes.push(node);
      continue;
    }
    const base = node.name || (node.outputs[0] ?? '');
    // A layer with a channel of s > 1 gets a ±1 per channel after the Relu (a 1×1 depthwise
    // convolution, into which ORT fuses the Add); the others do without.
    const factor = slope.data.map((s) => scaledWeight(-Math.abs(s - 1), 1));
    const signs = slope.data.some((s) => s > 1) ? slope.data.map((s) => (s > 1 ? -1 : 1)) : undefined;
    const foldable = consumers.get(x)?.length === 1 && !graph.outputs.has(x) && macsPerOutput(weight) <= FOLD_MAX_MACS;
    const scaled = foldable
      ? scaledCopy(graph, conv!, weight, factor, base)
      : channelScale(graph, x, factor, `${base}/slope_minus_1`, `${base}/scale`, `${base}/scaled`);
    nodes.push(scaled, makeNode('Relu', `${base}/relu`, [`${base}/scaled`], [`${base}/negative_part`]));
    if (signs) {
      nodes.push(
        channelScale(graph, `${base}/negative_part`, signs, `${base}/signs`, `${base}/sign`, `${base}/signed`),
        makeNode('Add', `${base}/add`, [x, `${base}/signed`], node.outputs),
      );
    } else nodes.push(makeNode('Add', `${base}/add`, [x, `${base}/negative_part`], node.outputs));
    rewritten++;
  }
  graph.nodes = nodes;
  dropUnusedInitializers(graph);
  return rewritten;
}

/** factor·x, one factor per channel, as a 1×1 depthwise convolution whose weights are `weightName`. */
function channelScale(graph: OnnxGraph, x: string, factor: Float32Array, weightName: string, nodeName: string, output: string): OnnxNode {
  setInitializer(graph, { name: weightName, dims: [factor.length, 1, 1, 1], data: factor });
  return makeNode('Conv', nodeName, [x, weightName], [output], [intAttr('group', factor.length), intsAttr('kernel_shape', [1, 1])]);
}

/** factor·conv(z) as conv(z) with each output channel's weights and bias scaled by its factor. */
function scaledCopy(graph: OnnxGraph, conv: OnnxNode, weight: FloatTensor, factor: Float32Array, base: string): OnnxNode {
  const perChannel = weight.data.length / factor.length;
  const w = weight.data.map((v, i) => scaledWeight(v, factor[Math.floor(i / perChannel)]!));
  setInitializer(graph, { name: `${base}/weight_scaled`, dims: weight.dims, data: w });
  const inputs = [conv.inputs[0]!, `${base}/weight_scaled`];
  const bias = conv.inputs[2] ? floatInitializer(graph, conv.inputs[2]) : undefined;
  if (bias) {
    setInitializer(graph, { name: `${base}/bias_scaled`, dims: bias.dims, data: bias.data.map((v, i) => scaledWeight(v, factor[i]!)) });
    inputs.push(`${base}/bias_scaled`);
  }
  return { ...conv, name: `${base}/scaled_conv`, inputs, outputs: [`${base}/scaled`] };
}

/** Multiply-adds per output value: input channels per group × kernel area. */
function macsPerOutput(weight: FloatTensor): number {
  const [, perGroup = 1, kh = 1, kw = 1] = weight.dims;
  return perGroup * kh * kw;
}

/** [C,1,1] or [1,C,1,1]: one slope per channel of an NCHW tensor. */
function isPerChannel(dims: readonly number[]): boolean {
  const lead = dims.length === 4 ? dims[0] : 1;
  return (dims.length === 3 || dims.length === 4) && lead === 1 && dims.at(-1) === 1 && dims.at(-2) === 1;
}
