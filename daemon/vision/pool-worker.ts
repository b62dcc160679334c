// A vision thread of the daemon's VisionPool: one FaceAnalyzer, fed by the main thread's messages
// (pool-protocol.ts). Calls run one at a time in the order they arrive, so a camera pinned here
// sees its calls answered in order.
import { parentPort, workerData } from 'node:worker_threads';
import { isFacegateError } from '../base/errors.js';
import { createLogger } from '../base/log.js';
import { FaceAnalyzer } from './analyzer.js';
import type { FromWorker, ImageRef, Request, WireError, WorkerSetup } from './pool-protocol.js';
import type { Picture } from './types.js';

const port = parentPort!;
const setup = workerData as WorkerSetup;
const post = (message: FromWorker) => port.postMessage(message);

function wireError(e: unknown): WireError {
  if (isFacegateError(e)) return { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) };
  return { message: e instanceof Error ? e.message : String(e) };
}

// Log lines go to the main thread, which writes them with its own logger and destination.
const logger = createLogger({ level: setup.logLevel, destination: { write: (line: string) => post({ log: line }) } }).child({ worker: setup.index });

/** The frame each camera's calls name, by key: the latest one sent, replaced by the next. */
const kept = new Map<string, Picture>();

function resolve(ref: ImageRef): Picture {
  if ('kept' in ref) {
    const img = kept.get(ref.kept);
    // The main thread only names a frame it sent to this thread, so this is a bug, not a state.
    if (!img) throw new Error(`vision worker ${setup.index}: no frame kept under '${ref.kept}'`);
    return img;
  }
  if (ref.keep !== undefined) kept.set(ref.keep, ref.image);
  return ref.image;
}

const loading = FaceAnalyzer.create({ vision: setup.vision, logger, models: setup.models, ...(setup.server ? { server: setup.server } : {}) });
loading.then(
  (analyzer) => post({ hello: true, provider: analyzer.provider }),
  (e: unknown) => {
    post({ hello: true, error: wireError(e) });
    // Nothing to serve without models: the thread ends and the pool reports and restarts it.
    port.close();
  },
);

async function run(request: Request, img: Picture | undefined): Promise<unknown> {
  const analyzer = await loading;
  switch (request.op) {
    case 'detect':
      return analyzer.detect(img!, request.mode, request.focus);
    case 'analyze':
      return analyzer.analyze(img!, request.options);
    case 'analyzeFace':
      return analyzer.analyzeFace(img!, request.detection, request.options);
    case 'forget':
      kept.delete(request.key);
      return undefined;
    case 'ping':
      return undefined;
    case 'close':
      await analyzer.close();
      kept.clear();
      return undefined;
  }
}

port.on('message', (request: Request) => {
  // The frame is looked up now, in arrival order: a later message may already replace it.
  let img: Picture | undefined;
  try {
    img = 'frame' in request ? resolve(request.frame) : undefined;
  } catch (e) {
    post({ id: request.id, ok: false, error: wireError(e) });
    return;
  }
  run(request, img).then(
    (value) => {
      post({ id: request.id, ok: true, value });
      if (request.op === 'close') port.close();
    },
    (e: unknown) => post({ id: request.id, ok: false, error: wireError(e) }),
  );
});
