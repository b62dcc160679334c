/**
 * The matcher's two inner loops, written as a tiny WebAssembly module (V8 does not vectorise plain
 * JavaScript loops, and JavaScript has no popcount):
 *
 * scores(q, rows, n, dim, out): out[r] = Σ_j q[j] · rows[r·dim + j]  (i16 · i8 → i32), dim % 16 == 0,
 * with SIMD. Int8 rows are a quarter of float32's bytes, and a big gallery's search is bound by
 * how fast rows come from memory. |q| ≤ 32767 and |row| ≤ 127 keep every partial sum far inside
 * i32 for dim ≤ 512·8.
 *
 * near(q, codes, n, stride, out) → count: the codes within a Hamming distance of the query's code,
 * d = popcount(q XOR codes[r]) over CODE_BYTES bytes (codes `stride` bytes apart), listed in row
 * order as out[i] = d << 16 | r for every r with d ≤ the limit, an i32 at q + CODE_BYTES; returns
 * how many (matcher.ts: the first stage of a search by codes). r < 65536: a caller scans in chunks.
 * Only the few near codes are written, so the pass that picks them is the scan itself. Scalar
 * i64.popcnt with the query's 8 words held in locals: 1.8 ns a code in cache on the 2-core x86
 * development machine, where i8x16.popcnt (SIMD; x86 has no byte popcount, so V8 builds it from
 * table lookups), four blocks a code and one horizontal sum, took 3.0 ns, and 32-bit popcount in
 * plain JavaScript ~30 ns.
 *
 * One row per pass over the query, on purpose. Scoring two or four rows per pass (each query load
 * shared, one accumulator per row) was measured: 10-30 % less time per row while the rows sit in
 * cache, but twice the time on a gallery that does not fit there: reading 2-4 rows side by side
 * instead of one after the other left the hardware prefetcher behind. The matcher gets its extra
 * speed from a second thread instead, which is why the memory can be shared.
 */

/** Bytes in a binary code: one bit for each of up to 512 values. */
export const CODE_BYTES = 64;

const enum Op {
  block = 0x02,
  loop = 0x03,
  if = 0x04,
  end = 0x0b,
  brIf = 0x0d,
  localGet = 0x20,
  localSet = 0x21,
  localTee = 0x22,
  i32Load = 0x28,
  i64Load = 0x29,
  i32Store = 0x36,
  i32Const = 0x41,
  i32Eqz = 0x45,
  i32LtU = 0x49,
  i32LeU = 0x4d,
  i32Add = 0x6a,
  i32Or = 0x72,
  i32Shl = 0x74,
  i64Popcnt = 0x7b,
  i64Add = 0x7c,
  i64Xor = 0x85,
  i32WrapI64 = 0xa7,
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

// The near kernel's locals after the params: r, count, limit, d (i32), then the query's 8 words (i64).
const COUNT = 6, LIMIT = 7, D = 8, QWORD = 9;

function nearBody(): number[] {
  const words = Array.from({ length: CODE_BYTES / 8 }, (_, i) => i);
  return [
    ...words.flatMap((i) => [...get(Q), Op.i64Load, 3, ...uleb(8 * i), ...set(QWORD + i)]),
    ...get(Q), Op.i32Load, 2, ...uleb(CODE_BYTES), ...set(LIMIT),
    Op.i32Const, 0, ...set(R),
    Op.i32Const, 0, ...set(COUNT),
    Op.block, VOID,
    ...get(N), Op.i32Eqz, Op.brIf, 0,
    Op.loop, VOID,
    // d = Σ popcount(row word XOR query word)
    ...words.flatMap((i) => [...get(ROWS), Op.i64Load, 3, ...uleb(8 * i), ...get(QWORD + i), Op.i64Xor, Op.i64Popcnt, ...(i > 0 ? [Op.i64Add] : [])]),
    Op.i32WrapI64, ...set(D),
    // if d <= limit: out[count++] = d << 16 | r
    ...get(D), ...get(LIMIT), Op.i32LeU,
    Op.if, VOID,
    ...get(OUT), ...get(COUNT), Op.i32Const, 2, Op.i32Shl, Op.i32Add,
    ...get(D), Op.i32Const, 16, Op.i32Shl, ...get(R), Op.i32Or,
    Op.i32Store, 2, 0,
    ...get(COUNT), Op.i32Const, 1, Op.i32Add, ...set(COUNT),
    Op.end,
    ...get(ROWS), ...get(DIM), Op.i32Add, ...set(ROWS),
    ...get(R), Op.i32Const, 1, Op.i32Add, Op.localTee, R,
    ...get(N), Op.i32LtU, Op.brIf, 0,
    Op.end,
    Op.end,
    ...get(COUNT),
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
  const I32 = 0x7f, I64 = 0x7e, V128 = 0x7b;
  const fn = (locals: number[], code: number[]) => [...uleb(locals.length + code.length), ...locals, ...code];
  const code = [...fn([...uleb(2), 4, I32, 2, V128], body()), ...fn([...uleb(2), 4, I32, CODE_BYTES / 8, I64], nearBody())];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    // Two function types, five i32 params each: scores returns nothing, near a count.
    ...section(1, [2, 0x60, 5, I32, I32, I32, I32, I32, 0, 0x60, 5, I32, I32, I32, I32, I32, 1, I32]),
    // The memory's limits: a maximum (0x01), and shared (0x02) when it is: an import must say which.
    ...section(2, [1, ...name('env'), ...name('mem'), 0x02, shared ? 0x03 : 0x01, ...uleb(1), ...uleb(MAX_PAGES)]),
    ...section(3, [2, 0, 1]),
    ...section(7, [2, ...name('scores'), 0x00, 0, ...name('near'), 0x00, 1]),
    ...section(10, [2, ...code]),
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
 * A memory for the kernels. Shared where it can be, so that a second thread can run them over
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

/** The scores kernel: over `n` rows from `rows`, `dim` (the stride) apart, into `out`. */
export type ScoresFn = (q: number, rows: number, n: number, dim: number, out: number) => void;
/** The near kernel: over `n` codes from `codes`, `stride` apart, into `out`; returns how many it listed. */
export type NearFn = (q: number, codes: number, n: number, stride: number, out: number) => number;

export interface Kernels {
  scores: ScoresFn;
  near: NearFn;
}
export type KernelName = keyof Kernels;
/** Most rows one call of the near kernel may scan: its list holds a row's number in 16 bits. */
export const NEAR_MAX_ROWS = 65536;

/** Instantiates the kernels over `memory`, or returns undefined where WebAssembly SIMD is missing. */
export function loadKernels(memory: WasmMemory): Kernels | undefined {
  const bytes = moduleBytes(typeof SharedArrayBuffer === 'function' && memory.buffer instanceof SharedArrayBuffer);
  if (!wasm.validate(bytes)) return undefined;
  const instance = new wasm.Instance(new wasm.Module(bytes), { env: { mem: memory } });
  return { scores: instance.exports.scores as ScoresFn, near: instance.exports.near as NearFn };
}

/** The same computations in plain JavaScript: the fallback, and the reference the tests compare to. */
export function scalarKernels(memory: WasmMemory): Kernels {
  return {
    scores: (q, rows, n, dim, out) => scoresScalar(memory, q, rows, n, dim, out),
    near: (q, codes, n, stride, out) => nearScalar(memory, q, codes, n, stride, out),
  };
}

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

/** The near kernel by 32-bit popcount; q, codes and stride 4-byte aligned. */
export function nearScalar(memory: WasmMemory, q: number, codes: number, n: number, stride: number, out: number): number {
  const buf = memory.buffer;
  const words = CODE_BYTES / 4;
  const qv = new Uint32Array(buf, q, words + 1);
  const limit = qv[words]!;
  if (n === 0) return 0;
  const cv = new Uint32Array(buf, codes, ((n - 1) * stride) / 4 + words);
  const ov = new Int32Array(buf, out, n);
  let count = 0;
  for (let r = 0; r < n; r++) {
    const base = (r * stride) / 4;
    let d = 0;
    for (let j = 0; j < words; j++) d += popcount32(cv[base + j]! ^ qv[j]!);
    if (d <= limit) ov[count++] = (d << 16) | r;
  }
  return count;
}

function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}
