// The fast tier's marker and its guard. A test file that imports this module (`import
// '../support/fast-tier.js';`) states that it starts no process and loads no model, and
// `npm run test:fast` (scripts/run-tests.mjs --fast) runs exactly the files that import it. The
// import also holds the file to that, in every run, `npm test` included: from here on, in this
// process and in every worker thread it starts, each function of node:child_process throws, and so
// does ONNX Runtime's InferenceSession.create, the one way a model is loaded (daemon/vision/ort.ts).
// A file that needs either drops the import and runs in the full tier only.
import { createRequire } from 'node:module';

/**
 * Installs the guard in the thread it runs in. Self-contained (it uses nothing but its arguments)
 * because its source text is also run at the top of each worker thread: a worker has its own
 * modules, untouched by what the guard did to its parent's.
 */
function installFastTierGuard(load: NodeJS.Require, ortPath: string): void {
  const refuse = (what: string) => () => {
    throw new Error(
      `${what} in a fast-tier test: this file imports test/support/fast-tier.js, which says it starts no process and loads no model ` +
        '(npm run test:fast runs it); drop that import to run it in the full tier only',
    );
  };
  const childProcess = load('node:child_process') as Record<string, unknown>;
  for (const name of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork']) childProcess[name] = refuse(`child_process.${name}`);
  const ort = load(ortPath) as { InferenceSession: Record<string, unknown> };
  ort.InferenceSession.create = refuse('loading a model (InferenceSession.create)');
  const threads = load('node:worker_threads') as { Worker: new (filename: string | URL, options?: Record<string, unknown>) => object };
  const url = load('node:url') as typeof import('node:url');
  const Original = threads.Worker;
  // The worker runs the guard first, then its own code: an eval'd script as it was, a file imported.
  // tsx (esbuild's keepNames) calls a module-level __name helper inside the function's text; the
  // worker has no such helper, so it gets one that does nothing, scoped to the guard's block.
  threads.Worker = class GuardedWorker extends Original {
    constructor(filename: string | URL, options: Record<string, unknown> = {}) {
      const entry = options.eval === true ? String(filename) : `import(${JSON.stringify(filename instanceof URL ? filename.href : url.pathToFileURL(filename).href)});`;
      const guard = `{ const __name = (target) => target; (${installFastTierGuard.toString()})(require, ${JSON.stringify(ortPath)}); }`;
      super(`${guard}\n${entry}`, { ...options, eval: true });
    }
  };
  // `import { spawn } from 'node:child_process'` binds to the builtin's ESM exports: bring them in line.
  (load('node:module') as typeof import('node:module')).syncBuiltinESMExports();
}

const load = createRequire(import.meta.url);
installFastTierGuard(load, load.resolve('onnxruntime-node'));
