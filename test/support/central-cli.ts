import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './mosquitto.js';
import { CLI_MAIN } from './cli.js';

/** `facegate central` as an operator runs it: the built CLI with its config file, its output kept. */
export class CentralCli {
  proc: ChildProcess;
  output = '';
  constructor(
    readonly configPath: string,
    readonly metricsPort: number,
  ) {
    this.proc = this.spawn();
  }

  private spawn(): ChildProcess {
    const proc = spawn(process.execPath, [CLI_MAIN, 'central', '--config', this.configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    return proc;
  }

  /** `facegate_central_messages_total` by `outcome` or `outcome/reason`. */
  async metrics(): Promise<Map<string, number>> {
    const text = await fetch(`http://127.0.0.1:${this.metricsPort}/metrics`).then((r) => r.text());
    const counts = new Map<string, number>();
    for (const m of text.matchAll(/^facegate_central_messages_total\{outcome="(\w+)",reason="([\w.]*)"\} (\d+)$/gm)) counts.set(m[2] ? `${m[1]}/${m[2]}` : m[1]!, Number(m[3]));
    return counts;
  }

  /** Waits (no time is asserted) until the metrics say `want`. */
  async until(want: Record<string, number>): Promise<Map<string, number>> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const have = await this.metrics().catch(() => new Map<string, number>());
      if (Object.entries(want).every(([k, n]) => have.get(k) === n)) return have;
      if (Date.now() > deadline) assert.fail(`central never reached ${JSON.stringify(want)}: ${JSON.stringify(Object.fromEntries(have))}\n${this.output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The JSON log lines written so far. */
  logLines(): Record<string, unknown>[] {
    return this.output
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  async stop(): Promise<number | null> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return this.proc.exitCode;
    const exited = new Promise<number | null>((resolve) => this.proc.once('exit', (code) => resolve(code)));
    this.proc.kill('SIGTERM');
    return exited;
  }

  /** Stopped (SIGTERM) and started again on the same config: the same client id, session and database. */
  async restart(): Promise<void> {
    await this.stop();
    this.output = '';
    this.proc = this.spawn();
  }
}

/** A central config `name`.yaml in `dir` (its database and timesheets beside it) with a metrics port, and the CLI started on it. */
export async function startCentralCli(t: { after(fn: () => Promise<unknown> | void): void }, dir: string, name: string, url: string, extra: string): Promise<CentralCli> {
  const port = await freePort();
  const path = join(dir, `${name}.yaml`);
  writeFileSync(
    path,
    [
      `broker: { url: "${url}", client_id: ${name} }`,
      'subscribe: [facegate/+]',
      `database: ${join(dir, `${name}.db`)}`,
      `timesheet_dir: ${join(dir, `${name}-timesheets`)}`,
      'time_zone: Europe/Berlin',
      'employees: { EMP-17: Anna Weber, EMP-42: Ben Okafor }',
      `metrics_port: ${port}`,
      extra,
    ].join('\n') + '\n',
  );
  const c = new CentralCli(path, port);
  t.after(() => c.stop());
  return c;
}
