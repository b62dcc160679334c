import type { Worker } from 'node:worker_threads';
import { spawnModuleWorker } from '../base/module-worker.js';
import { loadKernels, MAX_PAGES, type KernelName, type Kernels, type WasmMemory } from './dot-kernel.js';

/**
 * A second thread for the kernels (dot-kernel.ts): on one thread a million int8 rows take ~70 ms, and two threads
 * scoring halves of them read memory faster than one (measured: 1.4-1.8×); so do a million binary
 * codes' distances. A worker instantiates the same kernels over the same
 * shared memory, runs the one a request names, and both threads take chunks of rows from one atomic counter until none are
 * left, each writing its rows' scores in place. Taking chunks rather than fixed halves means that
 * a worker that wakes late, or loses its core to another process, only does less: the calling
 * thread does the rest instead of waiting for it. The caller blocks (Atomics.wait) only when the
 * worker took chunks and has not said it is done, and only for about as long as a few chunks take
 * it (at most WAIT_MS): a worker that has lost its core may stay off it for a whole time slice,
 * and scoring its chunks again costs less. It gets no new request until it has caught up.
 *
 * The handshake is a small SharedArrayBuffer of int32 slots, apart from the kernel's memory
 * (which clear() zeroes).
 */

const enum Slot {
  /** Request number: the caller bumps it to start one. */
  seq = 0,
  /** The last request the worker has finished with. */
  ack,
  /** Next chunk to take. */
  next,
  /** 1 once the worker's kernel is ready, -1 if it could not load one. */
  ready,
  stop,
  q,
  rows,
  n,
  out,
  chunkRows,
  dim,
  /** Which kernel, by its number in KERNELS. */
  kernel,
  /** Then one slot per chunk: the request in which the worker finished it; then one per chunk for what the kernel returned on it. */
  chunkDone,
}

/** A kernel as the threads run it, whatever it returns (the near kernel: how many codes it listed). */
type ChunkKernel = (q: number, rows: number, n: number, dim: number, out: number) => number | void;

/** The kernels a request can name, by their number in Slot.kernel. */
const KERNELS: readonly KernelName[] = ['scores', 'near'];

/** Rows per chunk: 1 MiB of int8 rows at 512 values, ~45 µs of kernel, so a few hundred atomic takes per million rows. */
export const CHUNK_ROWS = 2048;
/** Longest the caller waits for the worker (scoring a chunk takes well under a millisecond). */
export const WAIT_MS = 50;
/** How many of its own chunks' time the caller waits for the worker's last ones. */
const WAIT_CHUNKS = 3;

export interface WorkerData {
  memory: WasmMemory;
  control: SharedArrayBuffer;
}

/** The worker's side: wait for a request, take chunks until none are left, say so, wait again. */
export function serve({ memory, control }: WorkerData): void {
  const ctrl = new Int32Array(control);
  const kernels = loadKernels(memory);
  Atomics.store(ctrl, Slot.ready, kernels ? 1 : -1);
  Atomics.notify(ctrl, Slot.ready);
  if (!kernels) return;
  let seen = Atomics.load(ctrl, Slot.seq);
  for (;;) {
    Atomics.wait(ctrl, Slot.seq, seen);
    if (Atomics.load(ctrl, Slot.stop) !== 0) return;
    const seq = Atomics.load(ctrl, Slot.seq);
    if (seq === seen) continue;
    seen = seq;
    const q = Atomics.load(ctrl, Slot.q), rows = Atomics.load(ctrl, Slot.rows), n = Atomics.load(ctrl, Slot.n);
    const out = Atomics.load(ctrl, Slot.out), chunkRows = Atomics.load(ctrl, Slot.chunkRows), dim = Atomics.load(ctrl, Slot.dim);
    const kernel = KERNELS[Atomics.load(ctrl, Slot.kernel)];
    // The memory may have grown since the last request: a shared memory's buffer, read again, has
    // the new length. Rows beyond what this thread sees are left to the caller.
    if (!kernel || rows + n * dim > memory.buffer.byteLength || out + n * 4 > memory.buffer.byteLength) {
      Atomics.store(ctrl, Slot.ack, seq);
      Atomics.notify(ctrl, Slot.ack);
      continue;
    }
    takeChunks(ctrl, kernels[kernel], q, rows, n, dim, out, chunkRows, seq);
    Atomics.store(ctrl, Slot.ack, seq);
    Atomics.notify(ctrl, Slot.ack);
  }
}

/** Runs the kernel on chunks taken from the shared counter until none are left; returns those this thread took. */
function takeChunks(ctrl: Int32Array, kernel: ChunkKernel, q: number, rows: number, n: number, dim: number, out: number, chunkRows: number, seq?: number): number[] {
  const chunks = Math.ceil(n / chunkRows);
  const taken: number[] = [];
  for (;;) {
    const c = Atomics.add(ctrl, Slot.next, 1);
    if (c >= chunks) return taken;
    runChunk(ctrl, kernel, c, q, rows, n, dim, out, chunkRows);
    taken.push(c);
    if (seq !== undefined) Atomics.store(ctrl, Slot.chunkDone + c, seq);
  }
}

/** Chunk c: the kernel over its rows, its results at the chunk's place in `out`, what it returned kept. */
function runChunk(ctrl: Int32Array, kernel: ChunkKernel, c: number, q: number, rows: number, n: number, dim: number, out: number, chunkRows: number): void {
  const first = c * chunkRows;
  const returned = kernel(q, rows + first * dim, Math.min(chunkRows, n - first), dim, out + first * 4);
  Atomics.store(ctrl, resultsSlot(ctrl) + c, returned ?? 0);
}

/** Where the slots of what the kernel returned per chunk start. */
const resultsSlot = (ctrl: Int32Array) => Slot.chunkDone + (ctrl.length - Slot.chunkDone) / 2;

/**
 * The calling thread's side. Starts the worker at once; until it is ready, and after close(),
 * `scores` declines and the caller scores alone.
 */
export class DotThreads {
  readonly #ctrl: Int32Array;
  readonly #kernels: Kernels;
  #worker: Worker | undefined;
  /** Chunks the worker scored, over all requests: for tests, which cannot see threads otherwise. */
  workerChunks = 0;

  private constructor(worker: Worker, ctrl: Int32Array, kernels: Kernels) {
    this.#worker = worker;
    this.#ctrl = ctrl;
    this.#kernels = kernels;
  }

  /** A second thread over `memory`, or undefined where none can start (the caller then works alone). */
  static start(memory: WasmMemory, kernels: Kernels, dim: number): DotThreads | undefined {
    try {
      const maxChunks = Math.ceil((MAX_PAGES * 65536) / dim / CHUNK_ROWS);
      const control = new SharedArrayBuffer((Slot.chunkDone + 2 * maxChunks) * 4);
      const worker = spawnModuleWorker(import.meta.url, 'dot-worker', { memory, control });
      worker.unref();
      const threads = new DotThreads(worker, new Int32Array(control), kernels);
      // A worker that dies (or fails to load) just leaves the caller alone: `ready` never reads 1.
      worker.on('error', () => void threads.close());
      worker.on('exit', () => {
        threads.#worker = undefined;
      });
      return threads;
    } catch {
      return undefined;
    }
  }

  /** Whether the worker is there and idle: only then does it get a request. */
  get available(): boolean {
    return this.#worker !== undefined && Atomics.load(this.#ctrl, Slot.ready) === 1 && !this.lagging;
  }

  /** Whether the worker is still on a request the caller has given up waiting for. */
  get lagging(): boolean {
    return Atomics.load(this.#ctrl, Slot.ack) !== Atomics.load(this.#ctrl, Slot.seq);
  }

  /** Resolves true once the worker's kernel is ready, false if it never will be. */
  async ready(): Promise<boolean> {
    const worker = this.#worker;
    if (!worker) return false;
    // The wait must keep the process alive, or a caller awaiting it alone would see it end.
    worker.ref();
    try {
      for (;;) {
        const state = Atomics.load(this.#ctrl, Slot.ready);
        if (state !== 0) return state === 1 && this.#worker !== undefined;
        if (!this.#worker) return false;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    } finally {
      worker.unref();
    }
  }

  /**
   * Runs `kernel` over n rows on both threads, in chunks of CHUNK_ROWS, each chunk's results at its
   * place in `out`. Returns what the kernel returned on each chunk (valid until the next request),
   * or undefined, having written nothing, when the worker cannot take a request now.
   */
  run(kernel: KernelName, q: number, rows: number, n: number, dim: number, out: number): Int32Array | undefined {
    if (!this.available) return undefined;
    const ctrl = this.#ctrl;
    const scan = this.#kernels[kernel];
    Atomics.store(ctrl, Slot.kernel, KERNELS.indexOf(kernel));
    Atomics.store(ctrl, Slot.q, q);
    Atomics.store(ctrl, Slot.rows, rows);
    Atomics.store(ctrl, Slot.n, n);
    Atomics.store(ctrl, Slot.out, out);
    Atomics.store(ctrl, Slot.chunkRows, CHUNK_ROWS);
    Atomics.store(ctrl, Slot.dim, dim);
    Atomics.store(ctrl, Slot.next, 0);
    const seq = Atomics.add(ctrl, Slot.seq, 1) + 1;
    Atomics.notify(ctrl, Slot.seq, 1);

    const chunks = Math.ceil(n / CHUNK_ROWS);
    const results = ctrl.subarray(resultsSlot(ctrl), resultsSlot(ctrl) + chunks);
    const started = performance.now();
    const mine = takeChunks(ctrl, scan, q, rows, n, dim, out, CHUNK_ROWS);
    const theirs = chunks - mine.length;
    // Every chunk was taken here: a worker that wakes now finds none left and writes nothing.
    if (theirs === 0) return results;
    // The worker says it is done once it finds no chunk left, just after its last one.
    const now = performance.now();
    const perChunk = mine.length > 0 ? (now - started) / mine.length : WAIT_MS;
    const deadline = now + Math.min(WAIT_MS, WAIT_CHUNKS * perChunk);
    for (;;) {
      const ack = Atomics.load(ctrl, Slot.ack);
      if (ack === seq) break;
      const left = deadline - performance.now();
      if (left <= 0) {
        // Run the worker's unfinished chunks here. It writes the same values if it gets there
        // too, and gets no request until it has caught up (see `available`).
        const own = new Set(mine);
        for (let c = 0; c < chunks; c++) {
          if (own.has(c) || Atomics.load(ctrl, Slot.chunkDone + c) === seq) continue;
          runChunk(ctrl, scan, c, q, rows, n, dim, out, CHUNK_ROWS);
        }
        return results;
      }
      Atomics.wait(ctrl, Slot.ack, ack, left);
    }
    this.workerChunks += theirs;
    return results;
  }

  /**
   * Waits up to `ms` for a worker that lags behind a request. Before the memory's layout changes
   * under it: a lagging worker still writes scores where the last request put them.
   */
  settle(ms: number): boolean {
    const ctrl = this.#ctrl;
    const deadline = performance.now() + ms;
    for (;;) {
      const seq = Atomics.load(ctrl, Slot.seq);
      const ack = Atomics.load(ctrl, Slot.ack);
      if (ack === seq || !this.#worker) return true;
      const left = deadline - performance.now();
      if (left <= 0) return false;
      Atomics.wait(ctrl, Slot.ack, ack, left);
    }
  }

  /** Stops the worker; resolves once its thread has ended. The caller goes on alone. */
  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    if (!worker) return;
    Atomics.store(this.#ctrl, Slot.stop, 1);
    Atomics.notify(this.#ctrl, Slot.seq);
    await worker.terminate();
  }
}
