import { CODE_BYTES, createMemory, loadKernels, MAX_PAGES, scalarKernels, type KernelName, type Kernels, type WasmMemory } from './dot-kernel.js';
import { CHUNK_ROWS, DotThreads, WAIT_MS } from './dot-threads.js';
import { CODE_BITS, signCode } from './binary-codes.js';
import { BINARY_FROM, searchByCodes, type CodedRows, type CodeSearchOptions } from './code-search.js';
import { EMBEDDING_DIM } from './embedding.js';
import { quantiseQuery, quantiseRow } from './quantise.js';
import { topRows, type TopRow } from './top-rows.js';

const PAGE = 65536;
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
  /** Templates compared (by code, where the search went by codes first). */
  searched: number;
  /** Templates scored exactly after their codes were compared; 0 where every template was scored. */
  reranked: number;
}

export interface SearchOptions extends CodeSearchOptions {
  /** Scores every row, whatever the gallery's size: the answer a search by codes is measured against. */
  exact?: boolean;
}

/**
 * Every enrolled template in one contiguous block of WebAssembly memory, as int8 rows with one
 * float scale each (symmetric quantisation: cosine error ~5e-4, far under any threshold step),
 * kept current as templates come and go. A search scores every row with the SIMD kernel, keeps
 * each person's best template, and returns the top persons.
 *
 * From BINARY_FROM rows a search goes by binary codes first (code-search.ts): each row has its
 * code beside it (the signs of its 512 values), derived when the row is added, and the kernels list
 * the rows whose codes lie near the query's for that search to score. Nothing of it is written
 * out: the codes live beside the rows, in memory only.
 *
 * From PARALLEL_FROM rows a scan (rows or codes) is shared with a second thread (dot-threads.ts):
 * on one core the kernel and the ranking take ~70 ms for a million templates, near twice what one
 * core needs only to read their bytes, and two cores read them faster than one. The memory
 * is therefore a shared one, and search() stays synchronous: the calling thread scans its share
 * and blocks, briefly and with a time limit, for the worker's. close() stops that thread.
 */
export class Matcher {
  readonly dim: number;
  #memory: WasmMemory;
  #kernels: Kernels;
  /** Whether a second thread may run the kernels: the memory is shared and the kernels are WebAssembly. */
  #canShare: boolean;
  #parallelFrom: number;
  #binaryFrom: number;
  #threads: DotThreads | undefined;
  #closed = false;
  #capacity = 0;
  #count = 0;
  #codeOffset: number;
  #scoreOffset: number;
  #rowsOffset: number;
  #scales = new Float32Array(0);
  #rowPerson = new Int32Array(0);
  #rowTemplate = new Float64Array(0);
  /** The rows the first stage listed, then those it chose; the listed rows' distances. */
  #nearest = new Int32Array(0);
  #nearDistance = new Uint16Array(0);
  #slotOfTemplate = new Map<number, number>();
  #personIds: string[] = [];
  #personIndex = new Map<string, number>();

  /**
   * `threads: 1` keeps every search on the calling thread; `parallelFrom` moves the row count from
   * which a search is shared with the second thread (PARALLEL_FROM), `binaryFrom` the one from
   * which it goes by codes first (BINARY_FROM).
   */
  constructor(options: { dim?: number; initialCapacity?: number; forceScalar?: boolean; threads?: 1 | 2; parallelFrom?: number; binaryFrom?: number } = {}) {
    this.dim = options.dim ?? EMBEDDING_DIM;
    if (this.dim % 16 !== 0 || this.dim > CODE_BITS) throw new Error(`matcher dimension must be a multiple of 16 up to ${CODE_BITS}, got ${this.dim}`);
    // The query (int16), its code and the first stage's limit (u32), a row's score for the second
    // stage, then the rows.
    this.#codeOffset = align(this.dim * 2, 64);
    this.#scoreOffset = this.#codeOffset + align(CODE_BYTES + 4, 64);
    this.#rowsOffset = this.#scoreOffset + 64;
    const { memory, shared } = createMemory(1, { shared: options.threads !== 1 && !options.forceScalar });
    this.#memory = memory;
    const wasm = options.forceScalar ? undefined : loadKernels(this.#memory);
    this.#kernels = wasm ?? scalarKernels(this.#memory);
    this.#canShare = shared && wasm !== undefined;
    this.#parallelFrom = options.parallelFrom ?? PARALLEL_FROM;
    this.#binaryFrom = options.binaryFrom ?? BINARY_FROM;
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
    // From the int8 row, so that a value quantised to 0 has the same bit as when the row is scored.
    signCode(row, new Uint8Array(this.#memory.buffer, this.#codesOffset + slot * CODE_BYTES, CODE_BYTES));
    this.#rowPerson[slot] = this.#personSlot(personId);
    this.#rowTemplate[slot] = templateId;
    this.#slotOfTemplate.set(templateId, slot);
  }

  removeTemplate(templateId: number): boolean {
    const slot = this.#slotOfTemplate.get(templateId);
    if (slot === undefined) return false;
    const last = --this.#count;
    const bytes = new Int8Array(this.#memory.buffer);
    const codes = this.#codesOffset;
    if (slot !== last) {
      // Move the last row and its code into the hole so that the blocks stay contiguous.
      const from = this.#rowsOffset + last * this.dim;
      bytes.copyWithin(this.#rowsOffset + slot * this.dim, from, from + this.dim);
      bytes.copyWithin(codes + slot * CODE_BYTES, codes + last * CODE_BYTES, codes + (last + 1) * CODE_BYTES);
      this.#scales[slot] = this.#scales[last]!;
      this.#rowPerson[slot] = this.#rowPerson[last]!;
      this.#rowTemplate[slot] = this.#rowTemplate[last]!;
      this.#slotOfTemplate.set(this.#rowTemplate[slot]!, slot);
    }
    bytes.fill(0, this.#rowsOffset + last * this.dim, this.#rowsOffset + (last + 1) * this.dim);
    bytes.fill(0, codes + last * CODE_BYTES, codes + (last + 1) * CODE_BYTES);
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

  /** Chunks of rows the second thread has scanned so far. */
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

  /**
   * The topK persons by their best template's score against `query`: from BINARY_FROM rows by
   * codes first, below it, or with `exact`, every row scored.
   */
  search(query: Float32Array, topK: number, options: SearchOptions = {}): SearchResult {
    if (query.length !== this.dim) throw new Error(`query has ${query.length} values, expected ${this.dim}`);
    const n = this.#count;
    if (n === 0) return { candidates: [], searched: 0, reranked: 0 };
    const q16 = new Int16Array(this.#memory.buffer, 0, this.dim);
    const qScale = quantiseQuery(query, q16);
    const byCodes = n >= this.#binaryFrom && !options.exact;
    const top = (byCodes && this.#byCodes(q16, qScale, topK, options)) || {
      rows: this.#scoreAll(qScale, topK),
      reranked: 0,
    };
    return {
      candidates: top.rows.map((t) => ({ personId: this.#personIds[t.person]!, score: t.score, templateId: this.#rowTemplate[t.row]! })),
      searched: n,
      reranked: top.reranked,
    };
  }

  /** Every row scored: the search below BINARY_FROM, and where the codes point to too many rows. */
  #scoreAll(qScale: number, topK: number): TopRow[] {
    const n = this.#count;
    const raw = new Int32Array(this.#memory.buffer, this.#scoreRows(), n);
    return topRows(raw, this.#scales, this.#rowPerson, qScale, topK);
  }

  /** The search by codes, on the query's code; undefined where it would score too many rows. */
  #byCodes(q16: Int16Array, qScale: number, topK: number, options: CodeSearchOptions): { rows: TopRow[]; reranked: number } | undefined {
    signCode(q16, new Uint8Array(this.#memory.buffer, this.#codeOffset, CODE_BYTES));
    return searchByCodes(this.#codedRows(), qScale, topK, options);
  }

  /**
   * The rows as a search by codes reaches them. A row is scored on its own and read back at once,
   * in a place of its own: a worker that lags behind the first stage still reads the query's code
   * and writes its lists.
   */
  #codedRows(): CodedRows {
    const score = this.#kernels.scores;
    const out = this.#scoreOffset;
    const got = new Int32Array(this.#memory.buffer, out, 1);
    const rowsOffset = this.#rowsOffset;
    const dim = this.dim;
    return {
      count: this.#count,
      dim,
      scales: this.#scales,
      rowPerson: this.#rowPerson,
      nearCodes: (limit) => this.#nearCodes(limit),
      nearest: this.#nearest,
      nearDistance: this.#nearDistance,
      scoreRow: (row) => {
        score(0, rowsOffset + row * dim, 1, dim, out);
        return got[0]!;
      },
    };
  }

  /**
   * Lists the rows whose codes lie within `limit` of the query's, in row order, into #nearest and
   * their distances into #nearDistance; returns how many. In chunks of CHUNK_ROWS, on two threads
   * from PARALLEL_FROM rows: each chunk's list is written at the chunk's place in a results area.
   */
  #nearCodes(limit: number): number {
    const n = this.#count;
    new Uint32Array(this.#memory.buffer, this.#codeOffset + CODE_BYTES, 1)[0] = limit;
    const { out, returned } = this.#scan('near', this.#codeOffset, this.#codesOffset, CODE_BYTES);
    const lists = new Uint32Array(this.#memory.buffer, out, n);
    let listed = 0;
    for (let c = 0, first = 0; first < n; c++, first += CHUNK_ROWS) {
      const chunkListed = returned[c]!;
      for (let i = 0; i < chunkListed; i++) {
        const entry = lists[first + i]!;
        this.#nearest[listed] = first + (entry & 0xffff);
        this.#nearDistance[listed++] = entry >>> 16;
      }
    }
    return listed;
  }

  /** Scores every row; returns where the n scores are. */
  #scoreRows(): number {
    return this.#scan('scores', 0, this.#rowsOffset, this.dim).out;
  }

  /**
   * Runs a kernel over every row (`stride` bytes apart from `first`) in chunks of CHUNK_ROWS, on
   * two threads from PARALLEL_FROM rows: where the results are (each chunk's at its place), and
   * what the kernel returned on each chunk.
   */
  #scan(kernel: KernelName, q: number, first: number, stride: number): { out: number; returned: Int32Array } {
    const n = this.#count;
    // A worker that lags behind a search it was left out of still writes into the first results
    // area; until it catches up, searches write theirs into the second.
    const threads = n >= this.#parallelFrom ? this.#startThreads() : undefined;
    const area = this.#threads?.lagging ? 1 : 0;
    const out = this.#resultsOffset + area * this.#capacity * 4;
    const shared = threads?.run(kernel, q, first, n, stride, out);
    if (shared) return { out, returned: shared };
    const run = this.#kernels[kernel];
    const returned = new Int32Array(Math.ceil(n / CHUNK_ROWS));
    for (let c = 0, r = 0; r < n; c++, r += CHUNK_ROWS) returned[c] = run(q, first + r * stride, Math.min(CHUNK_ROWS, n - r), stride, out + r * 4) ?? 0;
    return { out, returned };
  }

  get #codesOffset(): number {
    return this.#rowsOffset + this.#capacity * this.dim;
  }

  get #resultsOffset(): number {
    return this.#codesOffset + this.#capacity * CODE_BYTES;
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

  /** Copies the query, the rows and their codes into a new memory with kernels over it; the old one is dropped. */
  #leaveMemory(): void {
    const old = this.#memory;
    const { memory } = createMemory(old.buffer.byteLength / PAGE, { shared: true });
    new Uint8Array(memory.buffer).set(new Uint8Array(old.buffer, 0, this.#resultsOffset));
    const kernels = loadKernels(memory);
    if (!kernels) throw new Error('the kernels loaded once and not again');
    this.#memory = memory;
    this.#kernels = kernels;
  }

  #reserve(capacity: number): void {
    // Rows, their codes, then two areas for the kernels' results.
    const needed = this.#rowsOffset + capacity * (this.dim + CODE_BYTES) + 2 * capacity * 4;
    const pages = Math.ceil(needed / PAGE);
    const have = this.#memory.buffer.byteLength / PAGE;
    if (pages > MAX_PAGES) throw new Error(`matcher cannot hold ${capacity} templates of ${this.dim} values in 4 GiB`);
    // The codes and the results areas move with the capacity, onto what becomes rows: a lagging
    // worker must have finished writing first. One that has not may still write there after it is
    // told to stop, so the rows move to a memory of their own and the old one is left to it.
    if (this.#threads?.lagging && !this.#threads.settle(4 * WAIT_MS)) {
      void this.#threads.close();
      this.#threads = undefined;
      this.#leaveMemory();
    }
    if (pages > have) this.#memory.grow(pages - have);
    const codesFrom = this.#codesOffset;
    const codesEnd = codesFrom + this.#count * CODE_BYTES;
    this.#capacity = capacity;
    const bytes = new Uint8Array(this.#memory.buffer);
    bytes.copyWithin(this.#codesOffset, codesFrom, codesEnd);
    // No copy of a code stays behind where it would outlive its template's removal.
    bytes.fill(0, codesFrom, Math.min(codesEnd, this.#codesOffset));
    this.#scales = grow(this.#scales, capacity, Float32Array);
    this.#rowPerson = grow(this.#rowPerson, capacity, Int32Array);
    this.#rowTemplate = grow(this.#rowTemplate, capacity, Float64Array);
    this.#nearest = new Int32Array(capacity);
    this.#nearDistance = new Uint16Array(capacity);
  }
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
