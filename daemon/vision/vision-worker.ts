import type { Worker } from 'node:worker_threads';
import { spawnModuleWorker } from '../base/module-worker.js';
import { FacegateError } from '../base/errors.js';
import type { Logger } from '../base/log.js';
import type { ExecutionProvider } from './ort.js';
import type { ServerLink } from './model-server-protocol.js';
import { relayThreadLog } from './thread-log.js';
import type { FromWorker, ImageRef, Request, WireError, WorkerSetup } from './pool-protocol.js';
import type { Picture } from './types.js';

type Call = Request extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/** One run of the thread: what it was sent, and which frames it holds. */
interface Thread {
  worker: Worker;
  ready: boolean;
  /** The frame data last sent under each key: a call on the same data names it instead of sending it. */
  kept: Map<string, Uint8Array>;
  /** Why it failed, once it did (the 'error' event or its failed hello come before 'exit'). */
  failure: string | undefined;
  /** Resolves once the thread said hello (models loaded or not) or ended. */
  settled: Promise<void>;
  settle(): void;
  /** Replaced as if it had crashed (see `kill`): it only finishes and ends; nothing waits on it. */
  retired: boolean;
}

export interface VisionWorkerOptions {
  setup: WorkerSetup;
  logger: Logger;
  /** Where the thread sends its models' inputs, asked anew for each thread (a restarted one too); its own models when absent. */
  connect?: () => ServerLink;
}

/** The id of the close sent to a retired thread: calls are numbered from 1. */
const RETIRE_ID = 0;

/** How long close() lets a thread that is loading its models finish before ending it anyway. */
const LOAD_WAIT_MS = 30_000;

const WORKER_FAILED_HINT = 'the worker is restarted by itself; if this repeats, the log lines before this one say why (`facegate doctor` checks the models)';

/**
 * One vision thread seen from the main thread: its calls and their answers, the frames it holds,
 * and its restarts. A thread that dies takes its calls with it: they are rejected with
 * FG_ERR_VISION_WORKER, never left waiting, and a new thread is started (at once after a thread
 * that had worked, then with growing delays while new ones fail to load their models).
 */
export class VisionWorker {
  readonly index: number;
  /** Calls answered or failed, frames sent whole, and threads restarted: for the pool's stats. */
  calls = 0;
  framesSent = 0;
  restarts = 0;
  provider: ExecutionProvider = 'cpu';
  private thread: Thread | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Threads in a row that died before their models loaded. */
  private failedStarts = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private closing = false;
  private readonly log: Logger;
  private firstHello: { resolve(): void; reject(e: Error): void } | undefined;
  /** Whether a thread ever loaded its models: until one has, a failure fails `start` instead of restarting. */
  private started = false;

  constructor(private readonly o: VisionWorkerOptions) {
    this.index = o.setup.index;
    this.log = o.logger.child({ stage: 'vision', worker: this.index });
  }

  /** Starts the thread; resolves once its models are loaded, rejects with why they did not. */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.firstHello = { resolve, reject };
      this.spawn();
    });
  }

  /** Calls sent and not yet answered. */
  get busy(): number {
    return this.pending.size;
  }

  /** Whether its thread has its models loaded and takes calls (not restarting after a failure). */
  get ready(): boolean {
    return this.thread?.ready === true && !this.closing;
  }

  /**
   * The image as the next call carries it. With a `key` (one per camera), the same frame data as
   * the last call under that key is named, not sent; data on a SharedArrayBuffer crosses without a
   * copy, other data is copied once and that copy moved (transferred) to the thread.
   */
  private imageRef(img: Picture, key: string | undefined, transfer: ArrayBuffer[]): ImageRef {
    const thread = this.thread;
    if (key !== undefined && thread?.kept.get(key) === img.data) return { kept: key };
    let data = img.data;
    if (!(data.buffer instanceof SharedArrayBuffer)) {
      data = data.slice();
      transfer.push(data.buffer as ArrayBuffer);
    }
    if (key !== undefined) thread?.kept.set(key, img.data);
    this.framesSent++;
    const image: Picture = { ...img, data };
    return key === undefined ? { image } : { image, keep: key };
  }

  /** A call on an image (see `imageRef`). */
  callOn(img: Picture, key: string | undefined, build: (frame: ImageRef) => Call): Promise<unknown> {
    const transfer: ArrayBuffer[] = [];
    const frame: ImageRef = this.thread && !this.closing ? this.imageRef(img, key, transfer) : { kept: '' };
    return this.call(build(frame), transfer);
  }

  /** Lets go of the frame kept under `key` (its camera stopped). */
  forget(key: string): void {
    this.thread?.kept.delete(key);
    if (this.thread) void this.call({ op: 'forget', key }, []).catch(() => undefined);
  }

  call(call: Call, transfer: ArrayBuffer[]): Promise<unknown> {
    if (this.closing) return Promise.reject(new Error(`vision worker ${this.index} is closed`));
    return this.post(call, transfer);
  }

  private post(call: Call, transfer: ArrayBuffer[]): Promise<unknown> {
    const thread = this.thread;
    if (!thread) return Promise.reject(this.failed('is restarting after a failure'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      thread.worker.postMessage({ ...call, id }, transfer);
    });
  }

  /**
   * Replaces the thread as a crash would, for a thread that no longer answers and for the tests of
   * what a crash does: its calls fail now and a new thread takes over. The old thread is not ended
   * on the spot (ended while ONNX Runtime runs a call, its native callback finds the thread gone
   * and aborts the whole process): it closes its analyzer, which lets the call under way finish
   * unheard, and then ends.
   */
  kill(): void {
    const thread = this.thread;
    if (!thread || this.closing) return;
    thread.retired = true;
    this.died(thread, 'stopped (killed)');
    thread.worker.postMessage({ op: 'close', id: RETIRE_ID });
  }

  /** Waits for the calls under way, closes the thread's analyzer, and ends the thread. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearTimeout(this.retryTimer);
    const thread = this.thread;
    // A thread still loading its models is let finish first: ended while ONNX Runtime creates a
    // session, its native callback finds the thread gone and aborts the whole process.
    if (thread && !thread.ready) await Promise.race([thread.settled, new Promise((r) => setTimeout(r, LOAD_WAIT_MS).unref())]);
    // Calls already sent are answered first: the thread runs its messages in order.
    if (thread?.ready) await this.post({ op: 'close' }, []).catch(() => undefined);
    this.thread = undefined;
    await thread?.worker.terminate();
  }

  private failed(what: string): FacegateError {
    return new FacegateError('FG_ERR_VISION_WORKER', `vision worker ${this.index} ${what}`, WORKER_FAILED_HINT);
  }

  private spawn(): void {
    const server = this.o.connect?.();
    const worker = spawnModuleWorker(import.meta.url, 'pool-worker', server ? { ...this.o.setup, server } : this.o.setup, server ? [server.port] : []);
    let settle = () => {};
    const settled = new Promise<void>((r) => (settle = r));
    const thread: Thread = { worker, ready: false, kept: new Map(), failure: undefined, settled, settle, retired: false };
    this.thread = thread;
    worker.on('message', (m: FromWorker) => this.onMessage(thread, m));
    worker.on('error', (e) => (thread.failure ??= e.message));
    worker.on('exit', (code) => this.onExit(thread, code));
  }

  private onMessage(thread: Thread, m: FromWorker): void {
    if ('log' in m) return this.relayLog(m.log);
    if (thread.retired) {
      if ('id' in m && m.id === RETIRE_ID) void thread.worker.terminate();
      return;
    }
    if ('hello' in m) {
      thread.settle();
      if ('error' in m) {
        thread.failure = m.error.message;
        // The thread ends by itself; terminate makes sure of it (and 'exit' follows).
        void thread.worker.terminate();
        if (this.firstHello) this.firstHello.reject(m.error.code ? fromWire(m.error) : this.failed(`failed to load its models: ${m.error.message}`));
        this.firstHello = undefined;
        return;
      }
      thread.ready = true;
      this.started = true;
      this.provider = m.provider;
      this.failedStarts = 0;
      this.firstHello?.resolve();
      this.firstHello = undefined;
      return;
    }
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    this.calls++;
    if (m.ok) p.resolve(m.value);
    else p.reject(fromWire(m.error));
  }

  private onExit(thread: Thread, code: number): void {
    thread.settle();
    if (thread.retired) return;
    if (this.thread !== thread || this.closing) {
      // Closed on purpose; calls that raced the close fail rather than wait for ever.
      for (const p of this.pending.values()) p.reject(new Error(`vision worker ${this.index} is closed`));
      this.pending.clear();
      return;
    }
    this.died(thread, `${thread.ready ? 'stopped' : 'failed to start'} (exit code ${code}${thread.failure ? `: ${thread.failure}` : ''})`);
  }

  /** The thread is gone (it ended, or was retired): its calls fail, and a new one is started. */
  private died(thread: Thread, what: string): void {
    this.thread = undefined;
    const error = this.failed(what);
    const lost = [...this.pending.values()];
    this.pending.clear();
    for (const p of lost) p.reject(error);
    if (!this.started) {
      // A pool that cannot start does not retry: start-up fails with the reason (its hello may have said it already).
      this.firstHello?.reject(error);
      this.firstHello = undefined;
      return;
    }
    if (!thread.ready) this.failedStarts++;
    const delayMs = this.failedStarts === 0 ? 0 : Math.min(30_000, 500 * 2 ** (this.failedStarts - 1));
    this.log.error({ code: error.code, err: error.message, calls_failed: lost.length, restart_in_ms: delayMs }, 'vision worker died; its calls failed, restarting it');
    this.retryTimer = setTimeout(() => {
      this.restarts++;
      this.spawn();
    }, delayMs);
  }

  /** The thread's pino line (it has its own `worker` field), written again by the daemon's logger. */
  private relayLog(line: string): void {
    relayThreadLog(this.o.logger, line);
  }
}

function fromWire(e: WireError): Error {
  return e.code ? new FacegateError(e.code, e.message, e.hint) : new Error(e.message);
}
