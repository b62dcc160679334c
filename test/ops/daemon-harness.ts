import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { exportJWK, generateKeyPair } from 'jose';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI_MAIN, runCli } from '../support/cli.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A site folder: keys, a gallery with one person enrolled from a frame of `clip`, and a config writer
 * (the gallery section is kept; `yaml` gives every other section, mqtt.device_key_file included). */
export async function makeSite(clip: string, at = 2.5): Promise<{ dir: string; config: string; writeConfig(yaml: string): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'fg-daemon-'));
  const config = join(dir, 'config.yaml');
  const gallery = `gallery:\n  path: ${dir}/state.db\n  key_file: ${dir}/gallery.key\n`;
  writeFileSync(config, `${gallery}mqtt:\n  device_key_file: ${dir}/device.key\n`);
  const photo = join(dir, 'enrol.jpg');
  const r = spawnSync('ffmpeg', ['-loglevel', 'error', '-y', '-ss', String(at), '-i', clip, '-frames:v', '1', photo]);
  if (r.status !== 0) throw new Error(r.stderr.toString());
  for (const args of [['keys', 'init'], ['person', 'add', '--name', 'May', '--id', 'emp-7', '--group', 'staff', '--image', photo]]) {
    const out = await runCli([...args, '--config', config]);
    if (out.code !== 0) throw new Error(`${args.join(' ')}: ${out.stderr}`);
  }
  return { dir, config, writeConfig: (yaml) => writeFileSync(config, gallery + yaml) };
}

/**
 * A site whose daemon takes signed remote commands (device gate-1) on the broker at `brokerUrl`:
 * a central server's key pair made, its public key written into the site, and the config written
 * with `rest` as its other sections. The central server's key pair, to sign commands with.
 */
export async function withRemoteCommands(site: { dir: string; writeConfig(yaml: string): void }, brokerUrl: string, rest: string): Promise<Awaited<ReturnType<typeof generateKeyPair>>> {
  const central = await generateKeyPair('EdDSA', { extractable: true });
  writeFileSync(join(site.dir, 'central.jwk'), JSON.stringify(await exportJWK(central.publicKey)));
  site.writeConfig(
    `mqtt:\n  enabled: true\n  url: ${brokerUrl}\n  device_id: gate-1\n  device_key_file: ${site.dir}/device.key\n  reconnect: { min_ms: 50, max_ms: 500 }\n` +
      `  commands: { enabled: true, central_public_key: ${site.dir}/central.jwk }\n` +
      rest,
  );
  return central;
}

/** `facegate daemon` as its own process, from dist/ as systemd runs it; stderr (JSON log lines) kept. */
export class DaemonProcess {
  readonly child: ChildProcess;
  log = '';
  readonly exited: Promise<number | null>;

  constructor(config: string, env: NodeJS.ProcessEnv = {}) {
    this.child = spawn(process.execPath, [CLI_MAIN, 'daemon', '--config', config], {
      cwd: ROOT,
      env: { ...process.env, FACEGATE_CONFIG: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (d: Buffer) => (this.log += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.log += d.toString()));
    this.exited = once(this.child, 'exit').then(([code]) => code as number | null);
  }

  signal(s: NodeJS.Signals): void {
    this.child.kill(s);
  }

  /** Resolves when a log line matches. */
  async waitForLog(re: RegExp, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!re.test(this.log)) {
      if (this.child.exitCode !== null) throw new Error(`daemon exited ${this.child.exitCode} before ${re}: ${this.log.slice(-2000)}`);
      if (Date.now() > deadline) throw new Error(`no ${re} in the daemon log within ${timeoutMs} ms: ${this.log.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}
