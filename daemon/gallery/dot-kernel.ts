/**
 * The matcher's inner loop: int8 gallery rows · int16 query, for every row, written as a tiny
 * WebAssembly SIMD module. Int8 rows are a quarter of float32's bytes, and a big gallery's search
 * is bound by how fast rows come from memory; V8 does not vectorise plain JavaScript loops.
 *
 * scores(q, rows, n, dim, out): out[r] = Σ_j q[j] · rows[r·dim + j]  (i16 · i8 → i32), dim % 16 == 0.
 * |q| ≤ 32767 and |row| ≤ 127 keep every partial sum far inside i32 for dim ≤ 512·8.
 *
 * One row per pass over the query, on purpose. Scoring two or four rows per pass (each query load
 * shared, one accumulator per row) was measured: 10-30 % less time per row while the rows sit in
 * cache, but twice the time on a gallery that does not fit there: reading 2-4 rows side by side
 * instead of one after the other left the hardware prefetcher behind. The matcher gets its extra
 * speed from a second thread instead, which is why the memory can be shared.
 */

const enum Op {
  block = 0x02,
  loop = 0x03,
  end = 0x0b,
  brIf = 0x0d,
  localGet = 0x20,
  localSet = 0x21,
  localTee = 0x22,
  i32Store = 0x36,
  i32Const = 0x41,
  i32Eqz = 0x45,
  i32LtU = 0x49,
  i32Add = 0x6a,
  i32Shl = 0x74,
  simd = 0xfd,
}
const VOID = 0x40;
// SIMD sub-opcodes, LEB128-encoded after the 0xfd prefix.
const V128_LOAD = [0x00];
const I32X4_SPLAT = [0x11];
const I32X4_EXTRACT_LANE = [0x1b];
const I16X8_EXTEND_LOW_I8X16_S = [0x87, 0x01];
const I16X8_EXTEND_HIGH_I8X16_S = [0x88, 0x01];
const I32X4_DOT_I16X8_S = [0xba, 0x01];
const I32X4_ADD = [0xae, 0x01];

// Locals: params q, rows, n, dim, out; then r, the query and row pointers and the row's end (i32),
// and acc, rv (v128). Walking two pointers keeps the inner loop's scalar work to two adds and a
// compare per 16 row bytes: indexing both arrays from one counter took six.
const Q = 0, ROWS = 1, N = 2, DIM = 3, OUT = 4, R = 5, QP = 6, RP = 7, END = 8, ACC = 9, RV = 10;

const get = (i: number) => [Op.localGet, i];
const set = (i: number) => [Op.localSet, i];
const simd = (op: number[], ...imm: number[]) => [Op.simd, ...op, ...imm];
const load = (offset: number) => simd(V128_LOAD, 0, ...uleb(offset));

function body(): number[] {
  return [
    ...get(ROWS), ...set(RP),
    Op.i32Const, 0, ...set(R),
    Op.block, VOID,
    ...get(N), Op.i32Eqz, Op.brIf, 0,
    Op.loop, VOID,
    Op.i32Const, 0, ...simd(I32X4_SPLAT), ...set(ACC),
    ...get(Q), ...set(QP),
    ...get(RP), ...get(DIM), Op.i32Add, ...set(END),
    Op.loop, VOID,
    ...get(RP), ...load(0), ...set(RV),
    // acc += dot(16 query values, low 8 of the row's 16) + dot(the next 16, high 8)
    ...get(ACC),
    ...get(QP), ...load(0),
    ...get(RV), ...simd(I16X8_EXTEND_LOW_I8X16_S),
    ...simd(I32X4_DOT_I16X8_S), ...simd(I32X4_ADD),
    ...get(QP), ...load(16),
    ...get(RV), ...simd(I16X8_EXTEND_HIGH_I8X16_S),
    ...simd(I32X4_DOT_I16X8_S), ...simd(I32X4_ADD),
    ...set(ACC),
    ...get(QP), Op.i32Const, 32, Op.i32Add, ...set(QP),
    ...get(RP), Op.i32Const, 16, Op.i32Add, Op.localTee, RP,
    ...get(END), Op.i32LtU, Op.brIf, 0,
    Op.end,
    // out[r] = horizontal sum of acc
    ...get(OUT), ...get(R), Op.i32Const, 2, Op.i32Shl, Op.i32Add,
    ...get(ACC), ...simd(I32X4_EXTRACT_LANE, 0),
    ...get(ACC), ...simd(I32X4_EXTRACT_LANE, 1), Op.i32Add,
    ...get(ACC), ...simd(I32X4_EXTRACT_LANE, 2), Op.i32Add,
    ...get(ACC), ...simd(I32X4_EXTRACT_LANE, 3), Op.i32Add,
    Op.i32Store, 2, 0,
    ...get(R), Op.i32Const, 1, Op.i32Add, Op.localTee, R,
    ...get(N), Op.i32LtU, Op.brIf, 0,
    Op.end,
    Op.end,
    Op.end,
  ];
}

function uleb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

const section = (id: number, content: number[]) => [id, ...uleb(content.length), ...content];
const name = (s: string) => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];

/** Largest memory the kernel may use, in 64 KiB pages (4 GiB: wasm32's limit). */
export const MAX_PAGES = 65536;

function moduleBytes(shared: boolean): Uint8Array {
  const I32 = 0x7f, V128 = 0x7b;
  const code = [...uleb(2), 4, I32, 2, V128, ...body()];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 5, I32, I32, I32, I32, I32, 0]),
    // The memory's limits: a maximum (0x01), and shared (0x02) when it is: an import must say which.
    ...section(2, [1, ...name('env'), ...name('mem'), 0x02, shared ? 0x03 : 0x01, ...uleb(1), ...uleb(MAX_PAGES)]),
    ...section(3, [1, 0]),
    ...section(7, [1, ...name('scores'), 0x00, 0]),
    ...section(10, [1, ...uleb(code.length), ...code]),
  ]);
}

/**
 * The few WebAssembly calls used here. Node has the global, but its types live in TypeScript's DOM
 * lib, which a daemon should not pull in.
 */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum: number; shared?: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  validate(bytes: Uint8Array): boolean;
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/**
 * A memory for the kernel. Shared where it can be, so that a second thread can run the kernel over
 * the same rows; `shared` says which it got.
 */
export function createMemory(initialPages: number, options: { shared?: boolean } = {}): { memory: WasmMemory; shared: boolean } {
  if (options.shared !== false && typeof SharedArrayBuffer === 'function') {
    try {
      return { memory: new wasm.Memory({ initial: initialPages, maximum: MAX_PAGES, shared: true }), shared: true };
    } catch {
      // No shared WebAssembly memory here: one thread it is.
    }
  }
  return { memory: new wasm.Memory({ initial: initialPages, maximum: MAX_PAGES }), shared: false };
}

export type ScoresFn = (q: number, rows: number, n: number, dim: number, out: number) => void;

/** Instantiates the kernel over `memory`, or returns undefined where WebAssembly SIMD is missing. */
export function loadDotKernel(memory: WasmMemory): ScoresFn | undefined {
  const bytes = moduleBytes(typeof SharedArrayBuffer === 'function' && memory.buffer instanceof SharedArrayBuffer);
  if (!wasm.validate(bytes)) return undefined;
  const instance = new wasm.Instance(new wasm.Module(bytes), { env: { mem: memory } });
  return instance.exports.scores as ScoresFn;
}

/** The same computation in plain JavaScript: the fallback, and the reference the tests compare to. */
export function scoresScalar(memory: WasmMemory, q: number, rows: number, n: number, dim: number, out: number): void {
  const buf = memory.buffer;
  const qv = new Int16Array(buf, q, dim);
  const rv = new Int8Array(buf, rows, n * dim);
  const ov = new Int32Array(buf, out, n);
  for (let r = 0; r < n; r++) {
    const base = r * dim;
    let acc = 0;
    for (let j = 0; j < dim; j++) acc += qv[j]! * rv[base + j]!;
    ov[r] = acc;
  }
}
