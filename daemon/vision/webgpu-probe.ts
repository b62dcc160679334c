import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';

/** Longest the probe may take: starting Node, ONNX Runtime and Dawn, and one tiny session. */
const PROBE_TIMEOUT_MS = 60_000;

/**
 * Whether ONNX Runtime's WebGPU provider gets an adapter on this machine, asked in a child Node
 * process that loads `modelPath` on it. Asked there, not here: onnxruntime-node 1.26 without an
 * adapter fails the session (which the caller falls back from) and then crashes the whole process
 * at exit (SIGSEGV in Dawn's teardown), so the process that will serve must never start Dawn
 * unless an adapter is there. Only what the child printed is read: its own exit may still crash.
 */
export function probeWebGpu(modelPath: string): Promise<{ ok: true } | { ok: false; reason: string }> {
  const ort = createRequire(import.meta.url).resolve('onnxruntime-node');
  const script = [
    `const { InferenceSession, env } = require(${JSON.stringify(ort)});`,
    "env.logLevel = 'fatal';",
    "InferenceSession.create(process.argv[1], { executionProviders: ['webgpu'] })",
    "  .then(() => { process.stdout.write('webgpu:ok\\n'); process.exit(0); },",
    "        (e) => { process.stdout.write('webgpu:no ' + String(e && e.message || e).split('\\n')[0] + '\\n'); process.exit(0); });",
  ].join('\n');
  return new Promise((resolve) => {
    execFile(process.execPath, ['-e', script, modelPath], { timeout: PROBE_TIMEOUT_MS, encoding: 'utf8' }, (err, stdout) => {
      const line = stdout.split('\n').find((l) => l.startsWith('webgpu:'));
      if (line === 'webgpu:ok') resolve({ ok: true });
      // ONNX Runtime's message opens with its source path and a lambda's signature; its own words follow.
      else if (line) resolve({ ok: false, reason: /Failed to get a WebGPU adapter.*/.exec(line)?.[0] ?? (line.slice('webgpu:no '.length) || 'no adapter') });
      else resolve({ ok: false, reason: err ? `the probe ended without an answer (${err.signal ?? err.code ?? err.message})` : 'the probe said nothing' });
    });
  });
}
