import {
  consumersOf,
  dropUnusedInitializers,
  floatInitializer,
  intAttribute,
  setInitializer,
  withIntAttribute,
  type FloatTensor,
  type OnnxGraph,
  type OnnxNode,
} from './onnx-graph.js';

/**
 * Pads the channels of inverted-residual blocks up to a multiple of `block` with zero weights.
 *
 * ONNX Runtime's CPU provider runs convolutions in a blocked layout (NCHWc, 16 channels a block
 * with AVX-512, 8 with AVX2) only when the channel count is a multiple of the block; the
 * anti-spoof network was pruned to counts like 103, 13 and 231, so most of its convolutions
 * fell back to the generic path with layout reorders around each one.
 *
 * The pattern padded: Conv (expand, E channels) → [PRelu | Relu | depthwise Conv]* → Conv
 * (project, reads E channels), where each tensor in between has one reader and is not a graph
 * output. The extra channels get zero weights and zero bias, so they stay 0 through PRelu, Relu
 * and the depthwise convolution, and the projection reads them with zero weights: the result is
 * the same.
 */
export function padChannels(graph: OnnxGraph, block: number): number {
  const consumers = consumersOf(graph);
  let padded = 0;
  for (const expand of graph.nodes) {
    const weight = convWeight(graph, expand);
    if (!weight || (intAttribute(expand, 'group') ?? 1) !== 1) continue;
    const channels = weight.dims[0]!;
    if (channels % block === 0) continue;
    const found = innerBlock(graph, consumers, expand, channels);
    if (!found) continue;
    const to = Math.ceil(channels / block) * block;
    padConvOutputs(graph, expand, channels, to);
    for (const node of found.inner) {
      if (node.opType === 'PRelu') {
        const slope = floatInitializer(graph, node.inputs[1]!)!;
        node.inputs[1] = put(graph, slope, [to, ...slope.dims.slice(1)], padOuter(slope.data, channels, to));
      } else if (node.opType === 'Conv') {
        padConvOutputs(graph, node, channels, to);
        Object.assign(node, withIntAttribute(node, 'group', to));
      }
    }
    const projectWeight = convWeight(graph, found.project)!;
    const [out, , ...kernel] = projectWeight.dims as [number, number, ...number[]];
    found.project.inputs[1] = put(graph, projectWeight, [out, to, ...kernel], padSecond(projectWeight.data, out, channels, to));
    padded++;
  }
  dropUnusedInitializers(graph);
  return padded;
}

interface InnerBlock {
  inner: OnnxNode[];
  project: OnnxNode;
}

/** The nodes between an expanding Conv and the Conv that projects its channels back, if the pattern holds. */
function innerBlock(graph: OnnxGraph, consumers: Map<string, OnnxNode[]>, expand: OnnxNode, channels: number): InnerBlock | undefined {
  const inner: OnnxNode[] = [];
  let tensor = expand.outputs[0]!;
  for (;;) {
    const readers = consumers.get(tensor) ?? [];
    if (readers.length !== 1 || graph.outputs.has(tensor)) return undefined;
    const node = readers[0]!;
    const weight = convWeight(graph, node);
    const group = intAttribute(node, 'group') ?? 1;
    const passesChannels =
      node.opType === 'Relu' ||
      (node.opType === 'PRelu' && floatInitializer(graph, node.inputs[1] ?? '')?.data.length === channels) ||
      (weight !== undefined && group === channels && weight.dims[0] === channels && weight.dims[1] === 1);
    if (passesChannels) {
      inner.push(node);
      tensor = node.outputs[0]!;
      continue;
    }
    if (weight !== undefined && group === 1 && weight.dims[1] === channels) return { inner, project: node };
    return undefined;
  }
}

function convWeight(graph: OnnxGraph, node: OnnxNode): FloatTensor | undefined {
  if (node.opType !== 'Conv') return undefined;
  const w = floatInitializer(graph, node.inputs[1] ?? '');
  return w?.dims.length === 4 ? w : undefined;
}

function padConvOutputs(graph: OnnxGraph, conv: OnnxNode, channels: number, to: number): void {
  const weight = convWeight(graph, conv)!;
  conv.inputs[1] = put(graph, weight, [to, ...weight.dims.slice(1)], padOuter(weight.data, channels, to));
  const bias = conv.inputs[2] ? floatInitializer(graph, conv.inputs[2]) : undefined;
  if (bias) conv.inputs[2] = put(graph, bias, [to], padOuter(bias.data, channels, to));
}

/** Adds the padded copy under a new name (the original may have other readers) and returns the name. */
function put(graph: OnnxGraph, original: FloatTensor, dims: number[], data: Float32Array): string {
  const name = `${original.name}/padded${dims.join('x')}`;
  setInitializer(graph, { name, dims, data });
  return name;
}

/** [n, …] → [to, …], new rows zero. */
export function padOuter(data: Float32Array, n: number, to: number): Float32Array {
  const out = new Float32Array((data.length / n) * to);
  out.set(data);
  return out;
}

/** [outer, n, …] → [outer, to, …], new entries of the second axis zero. */
export function padSecond(data: Float32Array, outer: number, n: number, to: number): Float32Array {
  const inner = data.length / (outer * n);
  const out = new Float32Array(outer * to * inner);
  for (let o = 0; o < outer; o++) out.set(data.subarray(o * n * inner, (o + 1) * n * inner), o * to * inner);
  return out;
}
