import { MessageChannel, type Worker } from 'node:worker_threads';
import { FacegateError } from '../base/errors.js';
import type { Logger } from '../base/log.js';
import { spawnModuleWorker } from '../base/module-worker.js';
import type { ModelRunner } from './batcher.js';
import type { VisionConfig } from './config.js';
import type { ModelName, ModelPaths } from './model-files.js';
import type { FromServer, RunReply, RunRequest, ServerLink, ServerSetup, ToServer } from './model-server-protocol.js';
import type { ExecutionProvider } from './ort.js';
import { relayThreadLog } from './thread-log.js';

const SERVER_FAILED_HINT = 'restart the daemon; if this repeats, the log lines before this one say why (`facegate doctor` checks the GPU and the models)';

/** The longest wait between starts while new model threads keep failing to load. */
const RESTART_MAX_DELAY_MS = 30_000;

/**
 * The GPU's own thread. ONNX Runtime's WebGPU provider keeps one GPU queue per process and its
 * calling thread waits busy on every run, so one thread holds the models on the GPU and does
 * nothing else, while every vision worker crops, samples and decodes on its own core and sends
 * it the models' inputs (`RemoteModel`). Its queues gather the inputs of every worker, and so of
 * every camera, into runs of up to `vision.batch.max`: what makes a GPU pay.
 *
 * A thread that ends by itself (a driver fault, a crash in the provider) takes the runs it had with
 * it: they fail with FG_ERR_VISION_WORKER. A new thread is started at once, then with growing
 * delays while new ones fail to load, and once it is up the `restarted` listeners are told, so
 * that the vision workers reconnect (the pool restarts them).
 */
export class ModelServer {
  private worker: Worker | undefined;
  private closing = false;
  private failedStarts = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly listeners: (() => void)[] = [];
  private readonly log: Logger;
  /** Threads started again after one ended by itself. */
  restarts = 0;

  private constructor(
    private readonly options: ServerOptions,
    readonly provider: ExecutionProvider,
    private readonly shapes: Record<ModelName, readonly number[]>,
    private closed: Promise<void>,
    worker: Worker,
  ) {
    this.log = options.logger.child({ stage: 'vision', worker: 'models' });
    this.worker = worker;
    this.watch(worker);
  }

  static async start(options: ServerOptions): Promise<ModelServer> {
    const started = await spawnServer(options);
    return new ModelServer(options, started.provider, started.shapes, started.closed, started.worker);
  }

  /** `listener` runs each time a new thread took over from one that ended by itself. */
  onRestarted(listener: () => void): void {
    this.listeners.push(listener);
  }

  /**
   * A port of its own for one vision worker thread (transfer it there), with each model's input
   * shape. While no thread is up the port is closed at once: that worker's runs fail at once, and
   * the worker is restarted onto the new thread when it is up.
   */
  connect(): ServerLink {
    const { port1, port2 } = new MessageChannel();
    if (this.worker) this.worker.postMessage({ connect: port1 } satisfies ToServer, [port1]);
    // Closed once port2 has gone to its worker, which then sees the close.
    else setImmediate(() => port1.close());
    return { port: port2, provider: this.provider, shapes: this.shapes };
  }

  /** Once the runs given have been answered: closes the models and ends the thread. */
  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.retryTimer);
    const worker = this.worker;
    if (!worker) return;
    worker.postMessage({ close: true } satisfies ToServer);
    await Promise.race([this.closed, new Promise((r) => setTimeout(r, 30_000).unref())]);
    await worker.terminate();
  }

  /** Ends the thread as a crash would (for the tests of what a crash does). */
  async kill(): Promise<void> {
    await this.worker?.terminate();
  }

  private watch(worker: Worker): void {
    worker.on('exit', (code) => {
      if (this.closing || this.worker !== worker) return;
      this.worker = undefined;
      this.scheduleRestart(`ended (exit code ${code})`);
    });
  }

  private scheduleRestart(why: string): void {
    const delayMs = this.failedStarts === 0 ? 0 : Math.min(RESTART_MAX_DELAY_MS, 500 * 2 ** (this.failedStarts - 1));
    this.log.error({ code: 'FG_ERR_VISION_WORKER', err: `the GPU's model thread ${why}`, restart_in_ms: delayMs }, "the GPU's model thread is gone; its runs failed, restarting it");
    this.retryTimer = setTimeout(() => {
      spawnServer(this.options).then(
        (started) => {
          if (this.closing) return void started.worker.terminate();
          this.failedStarts = 0;
          this.restarts++;
          this.worker = started.worker;
          this.closed = started.closed;
          this.watch(started.worker);
          this.log.info({ restarts: this.restarts }, "the GPU's model thread is back");
          for (const listener of this.listeners) listener();
        },
        (e: unknown) => {
          if (this.closing) return;
          this.failedStarts++;
          this.scheduleRestart(`failed to start again: ${e instanceof Error ? e.message : String(e)}`);
        },
      );
    }, delayMs);
  }
}

interface ServerOptions {
  vision: VisionConfig;
  models: ModelPaths;
  provider: ExecutionProvider;
  logger: Logger;
}

/** A model thread with its models loaded, or why not. */
function spawnServer(options: ServerOptions): Promise<{ worker: Worker; provider: ExecutionProvider; shapes: Record<ModelName, readonly number[]>; closed: Promise<void> }> {
  const setup: ServerSetup = { vision: options.vision, models: options.models, provider: options.provider, logLevel: options.logger.level as 'info' };
  const log = options.logger.child({ stage: 'vision', worker: 'models' });
  const worker = spawnModuleWorker(import.meta.url, 'model-server-worker', setup);
  let markClosed = () => {};
  const closed = new Promise<void>((r) => (markClosed = r));
  return new Promise((resolve, reject) => {
    let started = false;
    worker.on('message', (m: FromServer) => {
      if ('log' in m) return relayThreadLog(options.logger, m.log);
      if ('closed' in m) return markClosed();
      if ('error' in m) return reject(new FacegateError('FG_ERR_VISION_WORKER', `the GPU's model thread failed to load its models: ${m.error.message}`, SERVER_FAILED_HINT));
      started = true;
      resolve({ worker, provider: m.provider, shapes: m.shapes, closed });
    });
    worker.on('error', (e) => log.error({ code: 'FG_ERR_VISION_WORKER', err: e.message }, "the GPU's model thread failed"));
    worker.on('exit', (code) => {
      markClosed();
      if (!started) reject(new FacegateError('FG_ERR_VISION_WORKER', `the GPU's model thread ended before its models loaded (exit code ${code})`, SERVER_FAILED_HINT));
    });
  });
}

/**
 * A vision worker's end of its port to the model server: the requests of all its models, told
 * apart by id. When the server's thread ends, the port closes and every run waiting fails with
 * FG_ERR_VISION_WORKER rather than waiting for ever.
 */
export class ServerClient {
  private readonly pending = new Map<number, { resolve(outputs: Float32Array[]): void; reject(e: Error): void }>();
  private nextId = 1;
  private gone = false;

  constructor(private readonly link: ServerLink) {
    link.port.on('message', (reply: RunReply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if ('outputs' in reply) p.resolve(reply.outputs);
      else p.reject(new Error(reply.error));
    });
    link.port.on('close', () => {
      this.gone = true;
      for (const p of this.pending.values()) p.reject(serverGone());
      this.pending.clear();
    });
  }

  /** The model `name` as this worker's queues see it: a runner whose runs happen on the server. */
  model(name: ModelName): ModelRunner {
    const inputShape = this.link.shapes[name];
    const inputSize = inputShape.reduce((a, b) => a * b, 1);
    return {
      name,
      inputShape,
      inputSize,
      provider: this.link.provider,
      batches: true,
      runMany: (inputs, count) => this.run(name, inputs.slice(0, count * inputSize), count),
      close: async () => {},
    };
  }

  private run(model: ModelName, inputs: Float32Array, count: number): Promise<Float32Array[]> {
    if (this.gone) return Promise.reject(serverGone());
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.link.port.postMessage({ id, model, inputs, count } satisfies RunRequest, [inputs.buffer as ArrayBuffer]);
    });
  }

  close(): void {
    this.link.port.close();
  }
}

function serverGone(): FacegateError {
  return new FacegateError('FG_ERR_VISION_WORKER', "the GPU's model thread has ended", SERVER_FAILED_HINT);
}
