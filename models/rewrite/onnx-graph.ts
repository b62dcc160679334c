// A view of an ONNX model as its rewrites need it: nodes with names, inputs, outputs and attributes,
// and float initializers as typed arrays. Every other field (opsets, metadata, value infos, doc
// strings, non-float tensors) is carried through as the bytes it was read as.
import {
  decodeFields,
  encodeFields,
  intField,
  readInts,
  readString,
  readStrings,
  stringField,
  type Field,
} from './protobuf.js';

// Field numbers from onnx.proto.
const MODEL_GRAPH = 7;
const GRAPH = { node: 1, initializer: 5, input: 11, output: 12 } as const;
const NODE = { input: 1, output: 2, name: 3, opType: 4, attribute: 5 } as const;
const ATTRIBUTE = { name: 1, i: 3, ints: 8, type: 20 } as const;
const ATTRIBUTE_TYPE = { INT: 2, INTS: 7 } as const;
const TENSOR = { dims: 1, dataType: 2, floatData: 4, int64Data: 7, name: 8, rawData: 9 } as const;
const DATA_TYPE_FLOAT = 1;
const DATA_TYPE_INT64 = 7;
const VALUE_INFO = { name: 1, type: 2 } as const;
// TypeProto.tensor_type → TypeProto.Tensor.shape → TensorShapeProto.dim → Dimension.dim_value | dim_param
const TYPE_TENSOR = 1;
const TENSOR_TYPE_SHAPE = 2;
const SHAPE_DIM = 1;
const DIM = { value: 1, param: 2 } as const;

export interface OnnxNode {
  name: string;
  opType: string;
  inputs: string[];
  outputs: string[];
  /** One field list per AttributeProto. */
  attributes: Field[][];
  /** domain, doc_string and anything newer, kept as read. */
  other: Field[];
}

export interface FloatTensor {
  name: string;
  dims: number[];
  data: Float32Array;
}

export interface OnnxGraph {
  nodes: OnnxNode[];
  /** By name: the TensorProto bytes as read, or a float tensor that a rewrite made. */
  initializers: Map<string, Uint8Array | FloatTensor>;
  outputs: Set<string>;
  /** Initializers a rewrite dropped: older exporters also list them as graph inputs, which must go. */
  dropped: Set<string>;
  /** The GraphProto's fields as read; nodes and initializers are written back where they stood. */
  fields: Field[];
}

export interface OnnxModel {
  fields: Field[];
  graph: OnnxGraph;
}

export class OnnxFormatError extends Error {}

export function decodeModel(bytes: Uint8Array): OnnxModel {
  const fields = decodeFields(bytes);
  const graphField = fields.find((f) => f.num === MODEL_GRAPH);
  if (!graphField || graphField.wire !== 'bytes') throw new OnnxFormatError('no graph in the model');
  return { fields, graph: decodeGraph(graphField.value) };
}

export function encodeModel(model: OnnxModel): Uint8Array {
  const graph = encodeGraph(model.graph);
  return encodeFields(model.fields.map((f) => (f.num === MODEL_GRAPH ? { num: f.num, wire: 'bytes', value: graph } : f)));
}

function decodeGraph(bytes: Uint8Array): OnnxGraph {
  const fields = decodeFields(bytes);
  const nodes: OnnxNode[] = [];
  const initializers = new Map<string, Uint8Array | FloatTensor>();
  const outputs = new Set<string>();
  for (const f of fields) {
    if (f.wire !== 'bytes') continue;
    if (f.num === GRAPH.node) nodes.push(decodeNode(f.value));
    else if (f.num === GRAPH.initializer) initializers.set(readString(decodeFields(f.value), TENSOR.name) ?? '', f.value);
    else if (f.num === GRAPH.output) outputs.add(readString(decodeFields(f.value), VALUE_INFO.name) ?? '');
  }
  return { nodes, initializers, outputs, dropped: new Set(), fields };
}

function encodeGraph(graph: OnnxGraph): Uint8Array {
  const out: Field[] = [];
  const emitted = new Set<number>();
  const emitOnce = (num: number, values: Iterable<Uint8Array>) => {
    if (emitted.has(num)) return;
    emitted.add(num);
    for (const value of values) out.push({ num, wire: 'bytes', value });
  };
  const nodes = () => graph.nodes.map(encodeNode);
  const initializers = () => [...graph.initializers.values()].map((t) => (t instanceof Uint8Array ? t : encodeFloatTensor(t)));
  for (const f of graph.fields) {
    if (f.num === GRAPH.node) emitOnce(GRAPH.node, nodes());
    else if (f.num === GRAPH.initializer) emitOnce(GRAPH.initializer, initializers());
    else if (f.num === GRAPH.input && f.wire === 'bytes') {
      const name = readString(decodeFields(f.value), VALUE_INFO.name) ?? '';
      if (!graph.dropped.has(name)) out.push(f);
    } else out.push(f);
  }
  emitOnce(GRAPH.node, nodes());
  emitOnce(GRAPH.initializer, initializers());
  return encodeFields(out);
}

function decodeNode(bytes: Uint8Array): OnnxNode {
  const fields = decodeFields(bytes);
  const known = new Set<number>(Object.values(NODE));
  return {
    name: readString(fields, NODE.name) ?? '',
    opType: readString(fields, NODE.opType) ?? '',
    inputs: readStrings(fields, NODE.input),
    outputs: readStrings(fields, NODE.output),
    attributes: fields.flatMap((f) => (f.num === NODE.attribute && f.wire === 'bytes' ? [decodeFields(f.value)] : [])),
    other: fields.filter((f) => !known.has(f.num)),
  };
}

function encodeNode(node: OnnxNode): Uint8Array {
  return encodeFields([
    ...node.inputs.map((s) => stringField(NODE.input, s)),
    ...node.outputs.map((s) => stringField(NODE.output, s)),
    ...(node.name ? [stringField(NODE.name, node.name)] : []),
    stringField(NODE.opType, node.opType),
    ...node.attributes.map((a): Field => ({ num: NODE.attribute, wire: 'bytes', value: encodeFields(a) })),
    ...node.other,
  ]);
}

/**
 * Sets the first dimension of every graph input (initializers aside) and output to `batch` (a
 * symbolic name makes it whatever each run gives: one session for every batch size), and
 * makes each reshape to a constant shape that starts with 1 (a flatten written for one input,
 * `[1, -1]`) keep its input's first dimension instead, so that a batch stays one row per input.
 * Only right for a graph whose other reshapes take the batch from the input (Shape → Gather), and
 * whose constant reshapes start with the batch, which the caller's test has to show.
 */
export function setBatch(graph: OnnxGraph, batch: number | string): number {
  let changed = keepBatchInReshapes(graph);
  graph.fields = graph.fields.map((f) => {
    if (f.wire !== 'bytes' || (f.num !== GRAPH.input && f.num !== GRAPH.output)) return f;
    if (f.num === GRAPH.input && graph.initializers.has(readString(decodeFields(f.value), VALUE_INFO.name) ?? '')) return f;
    const value = editFirst(f.value, [VALUE_INFO.type, TYPE_TENSOR, TENSOR_TYPE_SHAPE, SHAPE_DIM], (dim) => [
      typeof batch === 'number' ? intField(DIM.value, batch) : stringField(DIM.param, batch),
      ...dim.filter((d) => d.num !== DIM.value && d.num !== DIM.param),
    ]);
    if (value === f.value) return f;
    changed++;
    return { ...f, value };
  });
  return changed;
}

/** The first dimension of the graph's first input (initializers aside) where it is a number: the rows one run takes. */
export function inputBatch(graph: OnnxGraph): number | undefined {
  for (const f of graph.fields) {
    if (f.num !== GRAPH.input || f.wire !== 'bytes') continue;
    let fields = decodeFields(f.value);
    if (graph.initializers.has(readString(fields, VALUE_INFO.name) ?? '')) continue;
    for (const num of [VALUE_INFO.type, TYPE_TENSOR, TENSOR_TYPE_SHAPE, SHAPE_DIM]) {
      const inner = fields.find((x) => x.num === num && x.wire === 'bytes');
      if (!inner) return undefined;
      fields = decodeFields(inner.value as Uint8Array);
    }
    return readInts(fields, DIM.value)[0];
  }
  return undefined;
}

/** Reshape's shape 0 copies the input's dimension there (unless allowzero = 1 says 0 is a size). */
function keepBatchInReshapes(graph: OnnxGraph): number {
  let changed = 0;
  for (const node of graph.nodes) {
    if (node.opType !== 'Reshape' || intAttribute(node, 'allowzero') === 1) continue;
    const name = node.inputs[1] ?? '';
    const shape = int64Initializer(graph, name);
    if (shape?.values[0] !== 1n) continue;
    // A shape another node also reads is left alone: it may not be a batch there.
    if (graph.nodes.some((n) => n !== node && n.inputs.includes(name))) continue;
    graph.initializers.set(name, encodeInt64Tensor(name, shape.dims, [0n, ...shape.values.slice(1)]));
    changed++;
  }
  return changed;
}

/** The initializer `name` as int64 values (a shape, axes), or undefined when there is none or it is not int64. */
function int64Initializer(graph: OnnxGraph, name: string): { dims: number[]; values: bigint[] } | undefined {
  const t = graph.initializers.get(name);
  if (!(t instanceof Uint8Array)) return undefined;
  const fields = decodeFields(t);
  if (readInts(fields, TENSOR.dataType)[0] !== DATA_TYPE_INT64) return undefined;
  const raw = fields.find((f) => f.num === TENSOR.rawData);
  const values =
    raw && raw.wire === 'bytes'
      ? Array.from(new BigInt64Array(Uint8Array.from(raw.value).buffer))
      : readInts(fields, TENSOR.int64Data).map((v) => BigInt(v));
  return { dims: readInts(fields, TENSOR.dims), values };
}

function encodeInt64Tensor(name: string, dims: readonly number[], values: readonly bigint[]): Uint8Array {
  const data = BigInt64Array.from(values);
  return encodeFields([
    ...dims.map((d) => intField(TENSOR.dims, d)),
    intField(TENSOR.dataType, DATA_TYPE_INT64),
    stringField(TENSOR.name, name),
    { num: TENSOR.rawData, wire: 'bytes', value: new Uint8Array(data.buffer) },
  ]);
}

/** Rewrites the first message at `path` (field numbers, outermost first); the bytes as they were if there is none. */
function editFirst(bytes: Uint8Array, path: readonly number[], edit: (fields: Field[]) => Field[]): Uint8Array {
  const fields = decodeFields(bytes);
  if (path.length === 0) return encodeFields(edit(fields));
  const at = fields.findIndex((f) => f.num === path[0] && f.wire === 'bytes');
  if (at < 0) return bytes;
  const inner = fields[at]!.value as Uint8Array;
  const edited = editFirst(inner, path.slice(1), edit);
  if (edited === inner) return bytes;
  fields[at] = { num: path[0]!, wire: 'bytes', value: edited };
  return encodeFields(fields);
}

export function makeNode(opType: string, name: string, inputs: string[], outputs: string[], attributes: Field[][] = []): OnnxNode {
  return { name, opType, inputs, outputs, attributes, other: [] };
}

export function intAttribute(node: OnnxNode, name: string): number | undefined {
  const attr = node.attributes.find((a) => readString(a, ATTRIBUTE.name) === name);
  const i = attr?.find((f) => f.num === ATTRIBUTE.i);
  return i && i.wire === 'varint' ? Number(BigInt.asIntN(64, i.value)) : undefined;
}

export function withIntAttribute(node: OnnxNode, name: string, value: number): OnnxNode {
  return { ...node, attributes: [...node.attributes.filter((a) => readString(a, ATTRIBUTE.name) !== name), intAttr(name, value)] };
}

export function intAttr(name: string, value: number): Field[] {
  return [stringField(ATTRIBUTE.name, name), intField(ATTRIBUTE.i, value), intField(ATTRIBUTE.type, ATTRIBUTE_TYPE.INT)];
}

export function intsAttr(name: string, values: readonly number[]): Field[] {
  return [
    stringField(ATTRIBUTE.name, name),
    ...values.map((v) => intField(ATTRIBUTE.ints, v)),
    intField(ATTRIBUTE.type, ATTRIBUTE_TYPE.INTS),
  ];
}

/** The initializer `name` as floats, or undefined when there is none or it is not float. */
export function floatInitializer(graph: OnnxGraph, name: string): FloatTensor | undefined {
  const t = graph.initializers.get(name);
  if (t === undefined || !(t instanceof Uint8Array)) return t;
  const fields = decodeFields(t);
  if (readInts(fields, TENSOR.dataType)[0] !== DATA_TYPE_FLOAT) return undefined;
  const dims = readInts(fields, TENSOR.dims);
  const raw = fields.find((f) => f.num === TENSOR.rawData);
  let data: Float32Array;
  if (raw && raw.wire === 'bytes') {
    // Copied: raw_data need not be 4-byte aligned inside the file's buffer (and a Buffer's
    // slice() would not copy).
    data = new Float32Array(Uint8Array.from(raw.value).buffer);
  } else {
    // float_data: packed (one bytes field) or not (one fixed32 field a value); both are raw floats.
    const bytes = fields.flatMap((f) => (f.num === TENSOR.floatData && f.wire !== 'varint' ? [f.value] : []));
    const all = new Uint8Array(bytes.reduce((n, b) => n + b.length, 0));
    let at = 0;
    for (const b of bytes) {
      all.set(b, at);
      at += b.length;
    }
    data = new Float32Array(all.buffer);
  }
  return { name, dims, data };
}

export function setInitializer(graph: OnnxGraph, tensor: FloatTensor): void {
  graph.initializers.set(tensor.name, tensor);
}

function encodeFloatTensor(t: FloatTensor): Uint8Array {
  return encodeFields([
    ...t.dims.map((d) => intField(TENSOR.dims, d)),
    intField(TENSOR.dataType, DATA_TYPE_FLOAT),
    stringField(TENSOR.name, t.name),
    { num: TENSOR.rawData, wire: 'bytes', value: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) },
  ]);
}

const FLT_MIN = 1.1754943508222875e-38;

/**
 * x·k as a float32 weight, the same whether or not the CPU flushes denormals: ONNX Runtime turns
 * flush-to-zero on for the thread that made the process's first session (set_denormal_as_zero),
 * which would otherwise change the bytes a rewrite writes there, and the manifest's sha256 with
 * them. ORT reads denormal weights as 0 on that thread anyway, so 0 is what they become.
 */
export function scaledWeight(x: number, k: number): number {
  if (Math.abs(x) < FLT_MIN) return 0;
  const y = Math.fround(x * k);
  return Math.abs(y) < FLT_MIN ? 0 : y;
}

/** Drops the initializers no node reads any more (a rewrite replaced them). */
export function dropUnusedInitializers(graph: OnnxGraph): void {
  const used = new Set(graph.nodes.flatMap((n) => n.inputs));
  for (const name of [...graph.initializers.keys()]) {
    if (used.has(name)) continue;
    graph.initializers.delete(name);
    graph.dropped.add(name);
  }
}

export function consumersOf(graph: OnnxGraph): Map<string, OnnxNode[]> {
  const map = new Map<string, OnnxNode[]>();
  for (const n of graph.nodes) {
    for (const i of n.inputs) {
      const readers = map.get(i);
      if (readers) readers.push(n);
      else map.set(i, [n]);
    }
  }
  return map;
}

export function producersOf(graph: OnnxGraph): Map<string, OnnxNode> {
  return new Map(graph.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
}
