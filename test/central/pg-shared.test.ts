// Two `facegate central` processes (the build) in one shared subscription group on a real
// Mosquitto, sharing one real PostgreSQL, reading a real box (outbox, signer, replay answers):
// every event stored once, when one consumer is killed mid-run (what its session held is found
// missing by number and asked for again, by one consumer) and when PostgreSQL restarts mid-run
// (the consumer waits for it and acknowledges only what it stored).
import '../support/paced-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Mosquitto, freePort } from '../support/mosquitto.js';
import { EventsStack } from '../support/events-stack.js';
import { answerReplays } from '../support/replay-box.js';
import { CentralCli } from '../support/central-cli.js';
import { PG_MISSING, PG_PASSWORD, Postgres } from '../support/postgres.js';

const BASE = 'facegate/gate-1';

test('two consumers in one shared group on one PostgreSQL: nothing lost, nothing stored twice, one consumer killed mid-run, PostgreSQL restarted mid-run', { skip: PG_MISSING, timeout: 240_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-central-shared-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const broker = await Mosquitto.start();
  t.after(() => broker.dispose());
  const pg = await Postgres.start();
  t.after(() => pg.dispose());
  const url = await pg.createDatabase('central');
  // The URL, password and all, in a file only the consumer's user reads: never in the config or argv.
  writeFileSync(join(dir, 'store.url'), `${url}\n`, { mode: 0o600 });

  const box = new EventsStack({ dbPath: join(dir, 'box.db'), keyPath: join(dir, 'box.key'), url: broker.url, baseTopic: BASE, clientId: 'facegate-gate-1', announceMs: 500 });
  const commandKey = answerReplays(box, dir);
  const consumer = async (name: string) => {
    const port = await freePort();
    const path = join(dir, `${name}.yaml`);
    writeFileSync(
      path,
      [
        // A short session: Mosquitto keeps dealing a group's messages to a member's kept session
        // while it is offline, so a dead member's session must end soon (docs/mqtt.md#two-consumers-on-one-postgresql).
        `broker: { url: "${broker.url}", client_id: ${name}, shared_group: central, session_expiry_s: 3 }`,
        'subscribe: [facegate/+]',
        'pinning: provisioned',
        `keys: { ${BASE}: ${JSON.stringify(box.key.publicJwk)} }`,
        `store: { kind: postgres, url_file: ${join(dir, 'store.url')} }`,
        `timesheet_dir: ${join(dir, `${name}-timesheets`)}`,
        `replay: { command_key: ${commandKey}, check_s: 1, grace_s: 1, backoff_s: 2 }`,
        `metrics_port: ${port}`,
      ].join('\n') + '\n',
    );
    const c = new CentralCli(path, port);
    t.after(() => c.stop());
    return c;
  };
  const a = await consumer('central-a');
  const b = await consumer('central-b');
  // Both subscribed before the box writes (the metrics answer once the consumer runs; the log says when it subscribed).
  for (const c of [a, b]) await untilLog(c, 'central consumer subscribed');

  box.start();
  t.after(() => box.stop());
  const written: string[] = [];
  const batch = async (n: number) => {
    for (let i = 0; i < n; i++) {
      written.push(box.writer.write('unknown', { type: 'unknown', camera: 'gate', anonymous_id: `anon-${written.length}`, face_px: 96, image_sha256: null }));
      // A box's pace, not a burst: each phase below meets events in flight.
      if (i % 10 === 9) await new Promise((r) => setTimeout(r, 100));
    }
  };
  const stored = async () => Number((await pg.query<{ n: string }>('central', 'SELECT count(*) AS n FROM central_events'))[0]!.n);

  await batch(100);
  // Killed, not stopped: what the broker had sent it and it had not acknowledged stays with its session.
  a.proc.kill('SIGKILL');
  // Until its session expires the broker deals it every other message still: replay finds them
  // missing, and one consumer asks the box for them.
  await batch(100);
  await new Promise((r) => setTimeout(r, 3500));
  // PostgreSQL goes away under the consumer that is left, while the box writes on, and comes back.
  await pg.stop('fast');
  await batch(50);
  await new Promise((r) => setTimeout(r, 1500));
  await pg.start();
  await batch(50);

  const deadline = Date.now() + 120_000;
  while ((await stored().catch(() => 0)) < written.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
  const rows = await pg.query<{ id: string; seq: string }>('central', 'SELECT id, seq FROM central_events');
  const ids = new Set(rows.map((r) => r.id));
  const missing = written.filter((id) => !ids.has(id));
  assert.deepEqual(missing, [], `every event stored (${ids.size} of ${written.length})\nb: ${b.output.slice(-3000)}`);
  assert.equal(rows.length, written.length, 'each stored once');
  assert.equal(new Set(rows.map((r) => r.seq)).size, written.length, 'each number once');
  const metrics = await b.metrics();
  assert.equal([...metrics].filter(([k]) => k.startsWith('failed')).length, 0, `nothing acknowledged that was not stored: ${JSON.stringify(Object.fromEntries(metrics))}`);
  assert.ok(b.logLines().some((l) => l.code === 'FG_ERR_CENTRAL_STORE_UNAVAILABLE'), 'the outage is said once, coded');
  assert.ok(b.logLines().some((l) => String(l.msg).startsWith('the store is back')), 'and the waiting messages stored once it is back');
  // What replay asked for, counted in the one database whatever consumer asked.
  const asked = await pg.query<{ requests: string }>('central', 'SELECT requests FROM central_replay_asked WHERE base = $1', [BASE]);
  t.diagnostic(`replay requests: ${asked[0]?.requests ?? 0}; b's outcomes: ${JSON.stringify(Object.fromEntries(metrics))}`);
  for (const c of [a, b]) assert.ok(!c.output.includes(PG_PASSWORD), 'the password is never printed');
});

async function untilLog(c: CentralCli, msg: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!c.logLines().some((l) => l.msg === msg)) {
    if (Date.now() > deadline) assert.fail(`never logged ${JSON.stringify(msg)}:\n${c.output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
