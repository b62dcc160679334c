import { Worker, type Transferable } from 'node:worker_threads';

/**
 * A worker thread running the module `name` (no extension) beside the module at `nearUrl` (its
 * import.meta.url): name.js from the built dist/, name.ts from the TypeScript sources (tests,
 * benches, `tsx`). In Node 20 a worker does not inherit the parent's `--import tsx` loader for its
 * entry, so from the sources it registers tsx itself before importing the module.
 */
export function spawnModuleWorker(nearUrl: string, name: string, workerData: unknown, transferList: Transferable[] = []): Worker {
  if (!nearUrl.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, nearUrl), { workerData, transferList });
  const entry = new URL(`./${name}.ts`, nearUrl).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(boot, { eval: true, workerData, transferList });
}
