// `facegate central` (the build) given a PostgreSQL store it cannot use: a URL in the config
// itself, a malformed one, one of another kind, an unreadable file, a server that is not there,
// a wrong password. Each is a coded error and a non-zero exit, and no password, right or wrong,
// is ever printed. And `facegate central timesheet` and `status` read a PostgreSQL store as they
// read the SQLite file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExitCode } from '../../daemon/base/errors.js';
import { PgCentralStore } from '../../central/pg-store.js';
import { maskedStoreUrl, readStoreUrl } from '../../central/store-url.js';
import { runCli } from '../support/cli.js';
import { freePort } from '../support/mosquitto.js';
import { PG_MISSING, PG_PASSWORD, Postgres } from '../support/postgres.js';

const SECRET = 'hunter2-store-secret';

function setUp(t: { after(fn: () => void): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'fg-central-pg-hostile-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = (store: string) => {
    const path = join(dir, 'central.yaml');
    writeFileSync(path, `broker: { url: "mqtt://127.0.0.1:1", client_id: c }\nstore: ${store}\ntimesheet_dir: ${join(dir, 'ts')}\ntime_zone: Europe/Berlin\n`);
    return path;
  };
  return { dir, config };
}

/** Every command that opens the store, run on `configPath`: each refuses, coded, and says no secret. */
async function refusedEverywhere(configPath: string, env: Record<string, string>, code: string, exit: number, secrets: string[]): Promise<void> {
  for (const args of [['central', '--config', configPath], ['central', 'status', '--config', configPath], ['central', 'timesheet', '--config', configPath, '--day', '2026-01-12']]) {
    const r = await runCli(args, { env });
    assert.equal(r.code, exit, `${args.join(' ')}: exit ${exit}\n${r.stderr}`);
    assert.match(r.stderr, new RegExp(code), `${args.join(' ')}: ${code}`);
    for (const s of secrets) assert.ok(!r.stderr.includes(s) && !r.stdout.includes(s), `${args.join(' ')}: the password is never printed:\n${r.stderr}`);
  }
}

test('a store URL in the config itself, or from two places, is refused before anything is read; no password printed', async (t) => {
  const { config } = setUp(t);
  const inline = config(`{ kind: postgres, url: "postgres://facegate:${SECRET}@127.0.0.1:5432/central" }`);
  const r = await runCli(['central', '--config', inline]);
  assert.equal(r.code, ExitCode.CONFIG, r.stderr);
  assert.match(r.stderr, /store/);
  assert.ok(!r.stderr.includes(SECRET), r.stderr);
  const both = config('{ kind: postgres, url_file: /nonexistent, url_env: FG_STORE_URL }');
  const b = await runCli(['central', '--config', both]);
  assert.equal(b.code, ExitCode.CONFIG, b.stderr);
  assert.match(b.stderr, /exactly one of store\.url_file and store\.url_env/);
  const mixed = config('{ kind: sqlite, url_env: FG_STORE_URL }');
  assert.equal((await runCli(['central', '--config', mixed])).code, ExitCode.CONFIG);
});

test('malformed store URLs: FG_ERR_CENTRAL_STORE_URL, exit 78, from every command; the URL is never echoed', async (t) => {
  const { dir, config } = setUp(t);
  const fromEnv = config('{ kind: postgres, url_env: FG_STORE_URL }');
  for (const bad of [`postgres//facegate:${SECRET}@127.0.0.1/central`, `mysql://facegate:${SECRET}@127.0.0.1/central`, `postgres://facegate:${SECRET}@127.0.0.1:5432`, `postgres://facegate:${SECRET}@127.0.0.1/central postgres://x`, `postgres://facegate:${SECRET}@[::1/central`]) {
    await refusedEverywhere(fromEnv, { FG_STORE_URL: bad }, 'FG_ERR_CENTRAL_STORE_URL', ExitCode.CONFIG, [SECRET]);
  }
  await refusedEverywhere(fromEnv, {}, 'FG_ERR_CENTRAL_STORE_URL', ExitCode.CONFIG, []);
  const fromFile = config(`{ kind: postgres, url_file: ${join(dir, 'missing.url')} }`);
  await refusedEverywhere(fromFile, {}, 'FG_ERR_CENTRAL_STORE_URL', ExitCode.CONFIG, []);
  // And the pure check, every way round: no character of what was read in the message.
  for (const bad of ['', 'x', `http://u:${SECRET}@h/db`, `postgres://u:${SECRET}@/db`, `postgres://u:${SECRET}@h/a/b`, `postgres://u:${SECRET}@h/db\n\npostgres://v@h/db`]) {
    assert.throws(() => readStoreUrl({ env: 'U' }, { U: bad }), (e: Error & { code?: string }) => e.code === 'FG_ERR_CENTRAL_STORE_URL' && !e.message.includes(SECRET), JSON.stringify(bad));
  }
  assert.equal(maskedStoreUrl(`postgres://facegate:${SECRET}@db.example:6432/central`), 'db.example:6432/central as facegate');
});

test('a server that is not there: FG_ERR_CENTRAL_STORE_UNREACHABLE, exit 1 (systemd tries again), naming host and database but no password', async (t) => {
  const { dir, config } = setUp(t);
  const port = await freePort();
  writeFileSync(join(dir, 'store.url'), `postgres://facegate:${SECRET}@127.0.0.1:${port}/central\n`, { mode: 0o600 });
  const path = config(`{ kind: postgres, url_file: ${join(dir, 'store.url')} }`);
  await refusedEverywhere(path, {}, `FG_ERR_CENTRAL_STORE_UNREACHABLE: PostgreSQL at 127.0.0.1:${port}/central as facegate`, ExitCode.FAILED, [SECRET]);
});

test('a wrong password on a real server: FG_ERR_CENTRAL_STORE_UNREACHABLE, and neither password printed; the right one opens the store', { skip: PG_MISSING }, async (t) => {
  const { config } = setUp(t);
  const pg = await Postgres.start();
  t.after(() => pg.dispose());
  const url = await pg.createDatabase('central');
  const path = config('{ kind: postgres, url_env: FG_STORE_URL }');
  await refusedEverywhere(path, { FG_STORE_URL: url.replace(PG_PASSWORD, SECRET) }, 'FG_ERR_CENTRAL_STORE_UNREACHABLE', ExitCode.FAILED, [SECRET, PG_PASSWORD]);

  // Status and timesheet on a database the consumer never opened: refused, and no table made there.
  for (const args of [['central', 'status', '--config', path], ['central', 'timesheet', '--config', path, '--day', '2026-01-12']]) {
    const r = await runCli(args, { env: { FG_STORE_URL: url } });
    assert.equal(r.code, ExitCode.FAILED, r.stderr);
    assert.match(r.stderr, /FG_ERR_DB_MISSING: the central database at 127\.0\.0\.1:\d+\/central as facegate has no central tables/);
  }
  assert.deepEqual(await pg.query('central', "SELECT tablename FROM pg_tables WHERE tablename LIKE 'central%'"), []);

  // Timesheets and status from the PostgreSQL store, as from the SQLite file.
  const store = await PgCentralStore.open(url);
  const at = '2026-01-12T08:01:00+01:00';
  await store.record('facegate/gate-1', 'attendance', { id: '019b4f3a-6c00-7000-8000-0000000000a1', type: 'check_in', time: at, seq: 1 }, { employee: 'EMP-17', type: 'check_in', day: '2026-01-12', atMs: Date.parse(at), assurance: 'live', door: null, liveness: null }, at);
  await store.raiseHigh('facegate/gate-1', 'gate-1', 2, at);
  await store.close();
  const sheet = await runCli(['central', 'timesheet', '--config', path, '--day', '2026-01-12'], { env: { FG_STORE_URL: url } });
  assert.equal(sheet.code, 0, sheet.stderr);
  assert.equal(sheet.stdout, 'external_id,name,day,first_in,last_out,first_in_assurance,last_out_assurance,first_in_door,last_out_door,first_in_liveness,last_out_liveness\r\n"EMP-17","","2026-01-12","2026-01-12T08:01:00+01:00","","live","","","","",""\r\n');
  const status = await runCli(['central', 'status', '--config', path, '--json'], { env: { FG_STORE_URL: url } });
  assert.equal(status.code, 0, status.stderr);
  const shown = JSON.parse(status.stdout) as { events: number; boxes: { base: string; high: number; stored: number; missing: number }[] };
  assert.equal(shown.events, 1);
  assert.deepEqual(shown.boxes.map((b) => [b.base, b.high, b.stored, b.missing]), [['facegate/gate-1', 2, 1, 1]]);
});
