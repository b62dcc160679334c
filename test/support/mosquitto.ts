import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A free TCP port on 127.0.0.1 (bound then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface MosquittoOptions {
  /** Require this user name and password (mosquitto_passwd file). */
  password?: { user: string; pass: string };
  /** Serve TLS with these PEM files (see makeTestCa). */
  tls?: { ca: string; cert: string; key: string; requireClientCert?: boolean };
  /** Contents of an ACL file (reloaded on `reload()` with new contents). */
  acl?: string;
  /**
   * Bridge `topic` out to another broker on 127.0.0.1 (a site broker to a central one): QoS 1, a
   * persistent session on both sides (`cleansession false`), reconnecting within a second or two;
   * `inTopic` comes the other way (a central server's command requests to its boxes).
   */
  bridge?: { port: number; topic: string; clientId: string; inTopic?: string };
  /** Refuse packets larger than this from any client (`max_packet_size`), as a fleet's broker does before boxes that declare a small receive maximum. */
  maxPacketBytes?: number;
}

/**
 * A real Mosquitto on 127.0.0.1 and a free port, with persistence in a temp folder, started by the
 * test and stopped (SIGTERM: it saves its store) or killed on demand; `start()` again reuses the
 * same port and store, as a restarted broker would.
 */
export class Mosquitto {
  readonly dir: string;
  private proc: ChildProcess | undefined;
  log = '';

  private constructor(
    readonly port: number,
    private readonly options: MosquittoOptions,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'fg-mosq-'));
    const lines = [
      `listener ${port} 127.0.0.1`,
      'persistence true',
      `persistence_location ${this.dir}/`,
      'autosave_interval 1800',
      // Persistent subscribers in tests may be offline while thousands of events arrive.
      'max_queued_messages 0',
      'log_type error',
      'log_type warning',
      'log_type notice',
    ];
    if (process.getuid?.() === 0) lines.push('user root');
    if (options.maxPacketBytes !== undefined) lines.push(`max_packet_size ${options.maxPacketBytes}`);
    if (options.password) {
      const file = join(this.dir, 'passwd');
      execFileSync('mosquitto_passwd', ['-c', '-b', file, options.password.user, options.password.pass]);
      lines.push('allow_anonymous false', `password_file ${file}`);
    } else {
      lines.push('allow_anonymous true');
    }
    if (options.acl !== undefined) {
      writeFileSync(join(this.dir, 'acl'), options.acl);
      lines.push(`acl_file ${join(this.dir, 'acl')}`);
    }
    if (options.tls) {
      lines.push(`cafile ${options.tls.ca}`, `certfile ${options.tls.cert}`, `keyfile ${options.tls.key}`);
      if (options.tls.requireClientCert) lines.push('require_certificate true');
    }
    // Last: every line after `connection` belongs to the bridge.
    if (options.bridge) {
      const b = options.bridge;
      lines.push(
        `connection ${b.clientId}`,
        `address 127.0.0.1:${b.port}`,
        `remote_clientid ${b.clientId}`,
        `topic ${b.topic} out 1`,
        ...(b.inTopic !== undefined ? [`topic ${b.inTopic} in 1`] : []),
        'cleansession false',
        'bridge_protocol_version mqttv50',
        'try_private true',
        'notifications false',
        'keepalive_interval 5',
        'restart_timeout 1 2',
      );
    }
    writeFileSync(join(this.dir, 'mosquitto.conf'), lines.join('\n') + '\n');
  }

  static async start(options: MosquittoOptions = {}): Promise<Mosquitto> {
    const m = new Mosquitto(await freePort(), options);
    await m.start();
    return m;
  }

  get url(): string {
    return `${this.options.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${this.port}`;
  }

  /** The broker's process id while it runs: what a benchmark reads its memory by. */
  get pid(): number | undefined {
    return this.proc?.pid;
  }

  get running(): boolean {
    return this.proc !== undefined;
  }

  async start(): Promise<void> {
    if (this.proc) return;
    const proc = spawn('mosquitto', ['-c', join(this.dir, 'mosquitto.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout!.on('data', (d: Buffer) => (this.log += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (this.log += d.toString()));
    this.proc = proc;
    const deadline = Date.now() + 10_000;
    while (!(await canConnect(this.port))) {
      if (proc.exitCode !== null) throw new Error(`mosquitto exited ${proc.exitCode}: ${this.log}`);
      if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${this.port}: ${this.log}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    this.resume();
    this.proc = undefined;
    if (proc.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill(signal);
    });
  }

  /** The broker stops answering (SIGSTOP): connections stay open, nothing is acknowledged. */
  freeze(): void {
    this.proc?.kill('SIGSTOP');
  }

  /** Back from `freeze()`: it reads what was sent meanwhile and answers it. */
  resume(): void {
    this.proc?.kill('SIGCONT');
  }

  /** New ACL contents, applied by SIGHUP without dropping connections. */
  reloadAcl(acl: string): void {
    writeFileSync(join(this.dir, 'acl'), acl);
    this.proc?.kill('SIGHUP');
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async dispose(): Promise<void> {
    await this.stop('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/** A throwaway CA and a server certificate for 127.0.0.1, plus a client certificate, made with openssl. */
export function makeTestCa(dir: string): { ca: string; serverCert: string; serverKey: string; clientCert: string; clientKey: string } {
  const p = (n: string) => join(dir, n);
  const run = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', p('ca.key'), '-out', p('ca.pem'), '-days', '2', '-subj', '/CN=facegate test CA']);
  writeFileSync(p('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  for (const who of ['server', 'client']) {
    run(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', p(`${who}.key`), '-out', p(`${who}.csr`), '-subj', `/CN=facegate test ${who}`]);
    run(['x509', '-req', '-in', p(`${who}.csr`), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial', '-out', p(`${who}.pem`), '-days', '2', ...(who === 'server' ? ['-extfile', p('san.ext')] : [])]);
  }
  return { ca: p('ca.pem'), serverCert: p('server.pem'), serverKey: p('server.key'), clientCert: p('client.pem'), clientKey: p('client.key') };
}
