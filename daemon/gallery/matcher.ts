import { createMemory, loadKernels, MAX_PAGES, scalarKernels, type Kernels, type WasmMemory } from './dot-kernel.js';
import { DotThreads, WAIT_MS } from './dot-threads.js';

export const EMBEDDING_DIM = 512;
const PAGE = 65536;
const QUERY_SCALE = 32767;
/**
 * Rows from which a search is shared with a second thread. Below it, waking the worker costs
 * more than it saves: on a 2-core machine with the other core busy, two threads were ~10 % slower
 * at 10k rows, even at 20-30k, and ahead from 50-100k (`npm run bench -- gallery`, `--threads 1`).
 */
export const PARALLEL_FROM = 30_000;

export interface Candidate {
  personId: string;
  /** Best cosine similarity among this person's templates. */
  score: number;
  templateId: number;
}

export interface SearchResult {
  /** Persons best first, at most top_k. */
  candidates: Candidate[];
  /** Templates compared. */
  searched: number;
}

/**
 * Every enrolled template in one contiguous block of WebAssembly memory, as int8 rows with one
 * float scale each (symmetric quantisation: cosine error ~5e-4, far under any threshold step),
 * kept current as templates come and go. A search scores every row with the SIMD kernel, keeps
 * each person's best template, and returns the top persons.
 *
 * From PARALLEL_FROM rows a search is shared with a second thread (dot-threads.ts): on one core
 * the kernel and the ranking take ~70 ms for a million templates, near twice what one core needs
 * only to read their bytes, and two cores read them faster than one. The memory
 * is therefore a shared one, and search() stays synchronous: the calling thread scores its share
 * and blocks, briefly and with a time limit, for the worker's. close() stops that thread.
 * Lives in memory only: nothing here is ever written out.
 */
export class Matcher {
  readonly dim: number;
  #memory: WasmMemory;
  #kernels: Kernels;
  /** Whether a second thread may run the kernel: the memory is shared and the kernel is SIMD. */
  #canShare: boolean;
  #parallelFrom: number;
  #threads: DotThreads | undefined;
  #closed = false;
  #capacity = 0;
  #count = 0;
  #rowsOffset: number;
  #scales = new Float32Array(0);
  #rowPerson = new Int32Array(0);
  #rowTemplate = new Float64Array(0);
  #slotOfTemplate = new Map<number, number>();
  #personIds: string[] = [];
  #personIndex = new Map<string, number>();

  /**
   * `threads: 1` keeps every search on the calling thread; `parallelFrom` moves the row count from
   * which a search is shared with the second thread (PARALLEL_FROM).
   */
  constructor(options: { dim?: number; initialCapacity?: number; forceScalar?: boolean; threads?: 1 | 2; parallelFrom?: number } = {}) {
    this.dim = options.dim ?? EMBEDDING_DIM;
    if (this.dim % 16 !== 0) throw new Error(`matcher dimension must be a multiple of 16, got ${this.dim}`);
    this.#rowsOffset = align(this.dim * 2, 64);
    const { memory, shared } = createMemory(1, { shared: options.threads !== 1 && !options.forceScalar });
    this.#memory = memory;
    const wasm = options.forceScalar ? undefined : loadKernels(this.#memory);
    this.#kernels = wasm ?? scalarKernels(this.#memory);
    this.#canShare = shared && wasm !== undefined;
    this.#parallelFrom = options.parallelFrom ?? PARALLEL_FROM;
    this.#reserve(options.initialCapacity ?? 1024);
  }

  get size(): number {
    return this.#count;
  }

  has(templateId: number): boolean {
    return this.#slotOfTemplate.has(templateId);
  }

  add(templateId: number, personId: string, embedding: Float32Array): void {
    if (embedding.length !== this.dim) throw new Error(`embedding has ${embedding.length} values, expected ${this.dim}`);
    if (this.#slotOfTemplate.has(templateId)) this.removeTemplate(templateId);
    if (this.#count === this.#capacity) this.#reserve(this.#capacity * 2);
    const slot = this.#count++;
    const row = new Int8Array(this.#memory.buffer, this.#rowsOffset + slot * this.dim, this.dim);
    this.#scales[slot] = quantiseRow(embedding, row);
    this.#rowPerson[slot] = this.#personSlot(personId);
    this.#rowTemplate[slot] = templateId;
    this.#slotOfTemplate.set(templateId, slot);
  }

  removeTemplate(templateId: number): boolean {
    const slot = this.#slotOfTemplate.get(templateId);
    if (slot === undefined) return false;
    const last = --this.#count;
    if (slot !== last) {
      // Move the last row into the hole so that the block stays contiguous.
      const bytes = new Int8Array(this.#memory.buffer);
      const from = this.#rowsOffset + last * this.dim;
      bytes.copyWithin(this.#rowsOffset + slot * this.dim, from, from + this.dim);
      this.#scales[slot] = this.#scales[last]!;
      this.#rowPerson[slot] = this.#rowPerson[last]!;
      this.#rowTemplate[slot] = this.#rowTemplate[last]!;
      this.#slotOfTemplate.set(this.#rowTemplate[slot]!, slot);
    }
    new Int8Array(this.#memory.buffer, this.#rowsOffset + last * this.dim, this.dim).fill(0);
    this.#slotOfTemplate.delete(templateId);
    return true;
  }

  removePerson(personId: string): number {
    const p = this.#personIndex.get(personId);
    if (p === undefined) return 0;
    const ids: number[] = [];
    for (let s = 0; s < this.#count; s++) if (this.#rowPerson[s] === p) ids.push(this.#rowTemplate[s]!);
    for (const id of ids) this.removeTemplate(id);
    return ids.length;
  }

  /**
   * Starts the second thread now rather than at the first search that needs it, and resolves
   * whether it is ready (false where the matcher stays on one thread).
   */
  async startThreads(): Promise<boolean> {
    return (this.#startThreads()?.ready()) ?? false;
  }

  /** Threads a search above PARALLEL_FROM rows would use now. */
  get threads(): 1 | 2 {
    return this.#threads?.available ? 2 : 1;
  }

  /** Chunks of rows the second thread has scored so far. */
  get secondThreadChunks(): number {
    return this.#threads?.workerChunks ?? 0;
  }

  /** Stops the second thread; resolves once it has ended. The matcher still answers, on the calling thread. */
  close(): Promise<void> {
    this.#closed = true;
    const threads = this.#threads;
    this.#threads = undefined;
    return threads?.close() ?? Promise.resolve();
  }

  /** Zeroes every row: the process's copy of the gallery goes with it. */
  clear(): void {
    new Uint8Array(this.#memory.buffer).fill(0);
    this.#count = 0;
    this.#slotOfTemplate.clear();
  }

  search(query: Float32Array, topK: number): SearchResult {
    if (query.length !== this.dim) throw new Error(`query has ${query.length} values, expected ${this.dim}`);
    const n = this.#count;
    if (n === 0) return { candidates: [], searched: 0 };
    const qScale = quantiseQuery(query, new Int16Array(this.#memory.buffer, 0, this.dim));
    // A worker that lags behind a search it was left out of still writes into the first scores
    // area; until it catches up, searches write theirs into the second.
    const threads = n >= this.#parallelFrom ? this.#startThreads() : undefined;
    const area = this.#threads?.lagging ? 1 : 0;
    const outOffset = this.#rowsOffset + this.#capacity * this.dim + area * this.#capacity * 4;
    if (!threads?.run('scores', 0, this.#rowsOffset, n, this.dim, outOffset)) this.#kernels.scores(0, this.#rowsOffset, n, this.dim, outOffset);
    const raw = new Int32Array(this.#memory.buffer, outOffset, n);
    const top = topRows(raw, this.#scales, this.#rowPerson, qScale, topK);
    return {
      candidates: top.map((t) => ({ personId: this.#personIds[t.person]!, score: t.score, templateId: this.#rowTemplate[t.row]! })),
      searched: n,
    };
  }

  #startThreads(): DotThreads | undefined {
    if (!this.#threads && this.#canShare && !this.#closed) {
      this.#threads = DotThreads.start(this.#memory, this.#kernels, this.dim);
      // One try: where a worker cannot start, the matcher stays on one thread.
      if (!this.#threads) this.#canShare = false;
    }
    return this.#threads;
  }

  #personSlot(personId: string): number {
    let p = this.#personIndex.get(personId);
    if (p === undefined) {
      p = this.#personIds.length;
      this.#personIds.push(personId);
      this.#personIndex.set(personId, p);
    }
    return p;
  }

  /** Copies the query and the rows into a new memory with a kernel over it; the old one is dropped. */
  #leaveMemory(): void {
    const old = this.#memory;
    const { memory } = createMemory(old.buffer.byteLength / PAGE, { shared: true });
    new Uint8Array(memory.buffer).set(new Uint8Array(old.buffer, 0, this.#rowsOffset + this.#count * this.dim));
    const kernels = loadKernels(memory);
    if (!kernels) throw new Error('the kernels loaded once and not again');
    this.#memory = memory;
    this.#kernels = kernels;
  }

  #reserve(capacity: number): void {
    // Rows, then two areas for their scores.
    const needed = this.#rowsOffset + capacity * this.dim + 2 * capacity * 4;
    const pages = Math.ceil(needed / PAGE);
    const have = this.#memory.buffer.byteLength / PAGE;
    if (pages > MAX_PAGES) throw new Error(`matcher cannot hold ${capacity} templates of ${this.dim} values in 4 GiB`);
    // The scores areas move with the capacity, onto what becomes rows: a lagging worker must have
    // finished writing first. One that has not may still write there after it is told to stop, so
    // the rows move to a memory of their own and the old one is left to it.
    if (this.#threads?.lagging && !this.#threads.settle(4 * WAIT_MS)) {
      void this.#threads.close();
      this.#threads = undefined;
      this.#leaveMemory();
    }
    if (pages > have) this.#memory.grow(pages - have);
    this.#scales = grow(this.#scales, capacity, Float32Array);
    this.#rowPerson = grow(this.#rowPerson, capacity, Int32Array);
    this.#rowTemplate = grow(this.#rowTemplate, capacity, Float64Array);
    this.#capacity = capacity;
  }
}

export interface TopRow {
  person: number;
  row: number;
  score: number;
}

/**
 * The k persons with the best scores, each with the row of its best score, best first (ties: the
 * lower person index first, and a person's first row). One pass over the rows, holding only the k
 * best so far: once k persons are held, a row under the k-th best score costs a multiply and a
 * compare, where keeping every person's best cost a random store per row and a pass over the persons.
 */
export function topRows(raw: Int32Array, scales: Float32Array, rowPerson: Int32Array, qScale: number, k: number): TopRow[] {
  const top: TopRow[] = [];
  if (k <= 0) return top;
  let floor = -Infinity;
  const n = raw.length;
  for (let r = 0; r < n; r++) {
    const score = Math.fround(raw[r]! * scales[r]! * qScale);
    if (score < floor) continue;
    offer(top, k, rowPerson[r]!, r, score);
    if (top.length === k) floor = top[k - 1]!.score;
  }
  return top;
}

/** `a` ranks before `b`: higher score, then lower person index. */
const before = (score: number, person: number, b: TopRow) => score > b.score || (score === b.score && person < b.person);

function offer(top: TopRow[], k: number, person: number, row: number, score: number): void {
  const held = top.findIndex((t) => t.person === person);
  if (held >= 0) {
    if (score <= top[held]!.score) return;
    top.splice(held, 1);
  }
  let i = top.length;
  while (i > 0 && before(score, person, top[i - 1]!)) i--;
  if (i >= k) return;
  top.splice(i, 0, { person, row, score });
  if (top.length > k) top.pop();
}

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

function quantiseQuery(v: Float32Array, out: Int16Array): number {
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

function grow<T extends Float32Array | Int32Array | Float64Array>(
  old: T,
  capacity: number,
  Ctor: new (n: number) => T,
): T {
  const next = new Ctor(capacity);
  next.set(old.subarray(0, Math.min(old.length, capacity)) as never);
  return next;
}

function align(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}
