// The model server's thread: the five models on the GPU, each behind a queue that gathers the
// inputs of every vision worker into runs (model-server.ts). It only runs models: the vision
// workers crop, sample and decode on the CPU cores, so this thread's time goes to the GPU's runs,
// which ONNX Runtime's WebGPU provider waits for busily.
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { createLogger } from '../base/log.js';
import { ModelBatcher } from './batcher.js';
import { batchPolicy } from './config.js';
import { MODEL_NAMES, type ModelName } from './model-files.js';
import type { FromServer, RunReply, RunRequest, ServerSetup, ToServer } from './model-server-protocol.js';

const port = parentPort!;
const setup = workerData as ServerSetup;
const post = (message: FromServer) => port.postMessage(message);
const logger = createLogger({ level: setup.logLevel, destination: { write: (line: string) => post({ log: line }) } }).child({ worker: 'models' });

const loading = (async () => {
  const settings = { provider: setup.provider, threads: setup.vision.threads };
  const policy = batchPolicy(setup.vision, setup.provider);
  const queues = await Promise.all(MODEL_NAMES.map((name) => ModelBatcher.load(name, setup.models[name], settings, logger, policy)));
  return new Map<ModelName, ModelBatcher>(MODEL_NAMES.map((name, i) => [name, queues[i]!]));
})();

loading.then(
  (queues) => post({ hello: true, provider: queues.get('detector')!.provider, shapes: Object.fromEntries([...queues].map(([name, q]) => [name, q.inputShape])) as Record<ModelName, readonly number[]> }),
  (e: unknown) => {
    post({ hello: true, error: { message: e instanceof Error ? e.message : String(e) } });
    port.close();
  },
);

/** One vision worker's port: each request's inputs join the model's queue one by one, beside every other worker's. */
function serve(worker: MessagePort): void {
  worker.on('message', (request: RunRequest) => {
    void answer(request).then((reply) => worker.postMessage(reply, 'outputs' in reply ? reply.outputs.map((o) => o.buffer as ArrayBuffer) : []));
  });
}

async function answer({ id, model, inputs, count }: RunRequest): Promise<RunReply> {
  try {
    const queue = (await loading).get(model);
    if (!queue) throw new Error(`no model '${model}'`);
    const size = queue.inputSize;
    const each = await Promise.all(Array.from({ length: count }, (_, i) => queue.run(inputs.subarray(i * size, (i + 1) * size))));
    return { id, outputs: each[0]!.map((_, k) => concat(each.map((outputs) => outputs[k]!))) };
  } catch (e) {
    return { id, error: e instanceof Error ? e.message : String(e) };
  }
}

function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

port.on('message', (m: ToServer) => {
  if ('connect' in m) return serve(m.connect);
  void loading
    .then((queues) => Promise.all([...queues.values()].map((q) => q.close())))
    .catch(() => undefined)
    .then(() => {
      post({ closed: true });
      port.close();
    });
});
