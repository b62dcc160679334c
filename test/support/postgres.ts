import { execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './mosquitto.js';

/** Debian's PostgreSQL server binaries (package postgresql, scripts/test-deps.sh installs it). */
export const PG_BIN = ['/usr/lib/postgresql/17/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/15/bin'].find((d) => existsSync(join(d, 'initdb')));

/** Why the PostgreSQL tests skip here, or undefined where they can run. */
export const PG_MISSING = PG_BIN ? undefined : 'PostgreSQL server binaries missing (/usr/lib/postgresql/*/bin/initdb): run scripts/test-deps.sh, which installs Debian\'s postgresql';

/** The password of the tests' server user: secret enough that a test can grep every output for it. */
export const PG_PASSWORD = 'pg-s3cret-never-printed';

/**
 * A real PostgreSQL server from Debian's packages on 127.0.0.1 and a free port, in a temp folder:
 * initdb with a password user (scram-sha-256, so that the URLs the tests use carry a password, as
 * a real deployment's do), started and stopped with pg_ctl. `stop` and `start` again keep the data
 * and the port, as a restarted server would. As root (initdb refuses root), the server runs as
 * Debian's `postgres` user.
 */
export class Postgres {
  private running = false;
  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly owner: { uid: number; gid: number } | undefined,
  ) {}

  static async start(): Promise<Postgres> {
    if (!PG_BIN) throw new Error(PG_MISSING);
    const dir = mkdtempSync(join(tmpdir(), 'fg-pg-'));
    try {
      const owner = process.getuid?.() === 0 ? { uid: Number(execFileSync('id', ['-u', 'postgres']).toString()), gid: Number(execFileSync('id', ['-g', 'postgres']).toString()) } : undefined;
      if (owner) chownSync(dir, owner.uid, owner.gid);
      const pw = join(dir, 'pwfile');
      writeFileSync(pw, `${PG_PASSWORD}\n`, { mode: 0o600 });
      if (owner) chownSync(pw, owner.uid, owner.gid);
      await run(join(PG_BIN, 'initdb'), ['-D', join(dir, 'data'), '-U', 'facegate', `--pwfile=${pw}`, '--auth=scram-sha-256', '--locale=C', '-E', 'UTF8', '--no-sync'], owner);
      const p = new Postgres(dir, await freePort(), owner);
      await p.start();
      return p;
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
  }

  /** The URL of database `db` (made by `createDatabase`), with the password in it. */
  url(db = 'postgres'): string {
    return `postgres://facegate:${PG_PASSWORD}@127.0.0.1:${this.port}/${db}`;
  }

  async start(): Promise<void> {
    if (this.running) return;
    // fsync off: a test server, thrown away; the socket in the temp folder, not /var/run.
    await run(join(PG_BIN!, 'pg_ctl'), ['-D', join(this.dir, 'data'), '-l', join(this.dir, 'log'), '-w', '-t', '30', '-o', `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60`, 'start'], this.owner);
    this.running = true;
  }

  /** pg_ctl stop: `fast` ends every session (what a restart does), `immediate` is a crash. */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await run(join(PG_BIN!, 'pg_ctl'), ['-D', join(this.dir, 'data'), '-m', mode, '-w', 'stop'], this.owner);
  }

  /** A new empty database, one per test, on this server. */
  async createDatabase(name: string): Promise<string> {
    const client = new pg.Client({ connectionString: this.url() });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
    } finally {
      await client.end();
    }
    return this.url(name);
  }

  /** One query on database `db`, for a test to look at the rows. */
  async query<R extends pg.QueryResultRow>(db: string, text: string, values: unknown[] = []): Promise<R[]> {
    const client = new pg.Client({ connectionString: this.url(db) });
    await client.connect();
    try {
      return (await client.query<R>(text, values)).rows;
    } finally {
      await client.end();
    }
  }

  async dispose(): Promise<void> {
    await this.stop('immediate').catch(() => {});
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function run(cmd: string, args: string[], owner: { uid: number; gid: number } | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(owner ?? {}) });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
    proc.once('error', reject);
    proc.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.at(-1)} exited ${code}: ${out.slice(-2000)}`))));
  });
}
