import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { waitingOn, type WaitingReport } from './hang-report.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The built CLI, what systemd and an operator run: the compiled JavaScript can fail where the
 * TypeScript under tsx does not (tsc's class-field output is one such place), so every test that
 * spawns `facegate` spawns this. scripts/run-tests.mjs builds it before any test runs.
 */
export const CLI_MAIN = `${ROOT}dist/daemon/cli/main.js`;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * How long a command may run before the test fails with what it was doing: well above the slowest
 * command a test runs (the demo on a clip for 30 s), below the tests' own limits.
 */
const CLI_LIMIT_MS = 120_000;

/**
 * Runs the real `facegate` CLI (the build, CLI_MAIN) as a separate process. One that has not ended
 * after `timeoutMs` fails the test with what it printed and what it was waiting on (Node's
 * diagnostic report: its JavaScript stack and open handles, its sockets' ends), then is killed: a
 * command that never exits would otherwise show only as the test's own timeout, with nothing
 * saying which command hung, or on what.
 */
export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  const reportName = `fg-cli-report-${randomUUID()}.json`;
  const report = join(tmpdir(), reportName);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--report-on-signal', '--report-signal=SIGUSR2', `--report-directory=${tmpdir()}`, `--report-filename=${reportName}`, CLI_MAIN, ...args], {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, FACEGATE_CONFIG: '', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const limitMs = options.timeoutMs ?? CLI_LIMIT_MS;
    const timer = setTimeout(() => {
      child.kill('SIGUSR2');
      void hungReport(report).then((waiting) => {
        child.kill('SIGKILL');
        reject(new Error(`facegate ${args.join(' ')} did not exit within ${limitMs / 1000} s\n${waiting}\nstdout: ${stdout.slice(-2000)}\nstderr: ${stderr.slice(-4000)}`));
      });
    }, limitMs);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      rmSync(report, { force: true });
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** What a hung command's diagnostic report says: its stack, and what it waits on. */
async function hungReport(file: string): Promise<string> {
  for (let tries = 0; tries < 50; tries++) {
    await sleep(100);
    try {
      const report = JSON.parse(readFileSync(file, 'utf8')) as WaitingReport;
      rmSync(file, { force: true });
      const stack = report.javascriptStack;
      return `stack: ${stack?.message ?? ''} ${(stack?.stack ?? []).slice(0, 8).join(' | ')}\n${waitingOn(report)}`;
    } catch {
      // Not written yet (or half written): wait on.
    }
  }
  return 'no diagnostic report came (the process did not answer SIGUSR2: its main thread is blocked)';
}
