// Replay between a real box (outbox, signer, remote command router on a real SQLite file) and the
// central consumer (its own SQLite file, and a real PostgreSQL where it matters) through a real Mosquitto on 127.0.0.1: a consumer whose
// kept session predates replay, a box that no longer holds a consumer's early events, and what
// `facegate central status` shows of both.
import '../support/paced-tier.js';
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { createLogger } from '../../daemon/base/log.js';
import type { KeptLimits } from '../../daemon/events/outbox.js';
import { loadCentralConfig } from '../../central/config.js';
import { CentralConsumer } from '../../central/consumer.js';
import { openCentralStore } from '../../central/store-open.js';
import { PG_MISSING, Postgres } from '../support/postgres.js';
import { ExitCode } from '../../daemon/base/errors.js';
import { Mosquitto } from '../support/mosquitto.js';
import { EventsStack } from '../support/events-stack.js';
import { answerReplays } from '../support/replay-box.js';
import { runCli } from '../support/cli.js';

const BASE = 'facegate/gate-1';

interface Setup {
  broker: Mosquitto;
  box: EventsStack;
  dir: string;
  configPath: string;
  /** What the consumer and its commands need in their environment: a PostgreSQL store's URL. */
  env: Record<string, string>;
}

type StoreKind = 'sqlite' | 'postgres';

/** A broker, a box that answers replay requests, and the consumer's config file (not started). */
async function setUp(t: TestContext, replay: string, kept?: KeptLimits, kind: StoreKind = 'sqlite'): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'fg-central-replay-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const broker = await Mosquitto.start();
  t.after(() => broker.dispose());
  const box = new EventsStack({ dbPath: join(dir, 'box.db'), keyPath: join(dir, 'box.key'), url: broker.url, baseTopic: BASE, clientId: 'facegate-gate-1', announceMs: 500, ...(kept ? { kept } : {}) });
  const commandKey = answerReplays(box, dir);
  const env: Record<string, string> = {};
  if (kind === 'postgres') {
    const pg = await Postgres.start();
    t.after(() => pg.dispose());
    env.FG_TEST_STORE_URL = await pg.createDatabase('central');
  }
  const configPath = join(dir, 'central.yaml');
  writeFileSync(
    configPath,
    [
      `broker: { url: "${broker.url}", client_id: central-1 }`,
      'subscribe: [facegate/+]',
      'pinning: provisioned',
      `keys: { ${BASE}: ${JSON.stringify(box.key.publicJwk)} }`,
      kind === 'sqlite' ? `database: ${join(dir, 'central.db')}` : 'store: { kind: postgres, url_env: FG_TEST_STORE_URL }',
      `timesheet_dir: ${join(dir, 'timesheets')}`,
      `replay: { command_key: ${commandKey}, ${replay} }`,
    ].join('\n') + '\n',
  );
  return { broker, box, dir, configPath, env };
}

/** Writes `n` events on a box whose broker has no subscriber yet: delivered, and lost to any consumer. */
async function lostBeforeAnyConsumer(box: EventsStack, n: number): Promise<void> {
  box.start();
  for (let i = 0; i < n; i++) box.writer.write('unknown', { type: 'unknown', camera: 'gate', anonymous_id: `anon-${i}`, face_px: 96, image_sha256: null });
  const deadline = Date.now() + 20_000;
  while (box.outbox.sequence().delivered < n) {
    if (Date.now() > deadline) assert.fail(`the box delivered ${box.outbox.sequence().delivered} of ${n}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The consumer as `facegate central` builds it, its log lines kept as objects. */
async function startConsumer(t: TestContext, configPath: string, env: Record<string, string> = {}) {
  const config = loadCentralConfig(configPath);
  const store = await openCentralStore(config.store, { ...process.env, ...env });
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) } });
  const accepted = new Set<number>();
  const consumer = new CentralConsumer({ config, store, logger, connect: mqtt.connect, onAccepted: (_base, signed) => accepted.add(signed.seq as number) });
  consumer.start();
  t.after(async () => (await consumer.stop(), await store.close()));
  await consumer.ready;
  const until = async (what: string, done: () => boolean) => {
    const deadline = Date.now() + 30_000;
    while (!done()) {
      if (Date.now() > deadline) assert.fail(`never: ${what}; log: ${lines.map((l) => l.msg).join(' | ')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { consumer, store, lines, accepted, until, said: (msg: string) => lines.filter((l) => String(l.msg).startsWith(msg)) };
}

test('upgrade: a consumer whose kept session was made by the old subscription set still gets bridge/sequence and replay answers', { timeout: 60_000 }, async (t) => {
  const { broker, box, configPath } = await setUp(t, 'check_s: 1, grace_s: 0, backoff_s: 4');
  await lostBeforeAnyConsumer(box, 3);
  t.after(() => box.stop());
  // The consumer before replay: the same client id, a persistent session, its five topics only.
  const old = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'central-1', clean: false, properties: { sessionExpiryInterval: 3600 } });
  await old.subscribeAsync(Object.fromEntries(['bridge/info', 'attendance', 'alerts/#', 'bridge/event', '+/events'].map((s) => [`facegate/+/${s}`, { qos: 1 as const }])));
  await old.endAsync();

  const c = await startConsumer(t, configPath);
  assert.deepEqual(c.said('connected to the central broker').map((l) => l.session_present), [true], 'the broker kept the old session');
  // Only bridge/sequence shows the consumer the three events it never got; only the answer ends the request.
  await c.until('the three lost events replayed and stored', () => c.accepted.size === 3);
  assert.ok(c.consumer.countOf('sequence') >= 1, 'bridge/sequence received on the kept session');
  await c.until('the replay answer received', () => c.consumer.countOf('replay_answer') >= 1);
  assert.deepEqual([...c.accepted].sort(), [1, 2, 3]);
  assert.equal(await c.store.eventCount(), 3);
});

for (const kind of ['sqlite', 'postgres'] as const) test(`a box that no longer holds the early events: one request, one log line, all of them marked gone; the kept ones replayed; \`facegate central status\` shows both [${kind}]`, { timeout: 90_000, skip: kind === 'postgres' && PG_MISSING }, async (t) => {
  // Keeps the last 5 delivered events; 10 numbers a request, so asking from 1 would take 5 requests for 1..45.
  const { box, configPath, env } = await setUp(t, 'check_s: 2, grace_s: 0, backoff_s: 60, max_range: 10', { maxEvents: 5, maxBytes: 1 << 30, maxAgeMs: 3_600_000 }, kind);
  await lostBeforeAnyConsumer(box, 50);
  t.after(() => box.stop());

  const c = await startConsumer(t, configPath, env);
  await c.until('the five kept events replayed', () => c.accepted.size === 5);
  assert.deepEqual([...c.accepted].sort((a, b) => a - b), [46, 47, 48, 49, 50]);
  const asked = c.said('asking a box to replay').map((l) => [l.from, l.to]);
  assert.deepEqual(asked, [[1, 10], [46, 50]], 'one request for what is gone, one for what is kept');
  const lost = c.said('events lost');
  assert.equal(lost.length, 1, 'one log line for the 45 gone');
  assert.deepEqual([lost[0]!.base, lost[0]!.lost, lost[0]!.from, lost[0]!.to, lost[0]!.first, lost[0]!.level], [BASE, 45, 1, 45, 46, 50]);
  assert.equal(c.consumer.replay?.gone, 45);

  const [status] = await c.store.replayStatus();
  assert.deepEqual({ ...status!, asked: { ...status!.asked, last: { ...status!.asked.last!, at: 'T' } }, gone: { ...status!.gone, lastAt: 'T' } }, {
    base: BASE, device: 'gate-1', high: 50, stored: 5, missing: 0,
    asked: { requests: 2, numbers: 15, last: { from: 46, to: 50, at: 'T' } },
    gone: { numbers: 45, ranges: 1, lastAt: 'T' },
  });
  // The operator's view, from the built CLI beside the running consumer.
  const json = await runCli(['central', 'status', '--config', configPath, '--json'], { env });
  assert.equal(json.code, ExitCode.OK, json.stderr);
  const shown = JSON.parse(json.stdout) as { events: number; boxes: unknown[] };
  assert.equal(shown.events, 5);
  assert.deepEqual(shown.boxes, JSON.parse(JSON.stringify(await c.store.replayStatus())));
  const text = await runCli(['central', 'status', '--config', configPath], { env });
  assert.equal(text.code, ExitCode.OK, text.stderr);
  assert.match(text.stdout, /^facegate\/gate-1 device=gate-1 high=50 stored=5 missing=0 requests=2 asked=15 last_asked=46-50@\S+ gone=45 gone_ranges=1 last_gone_at=\S+\n$/);
});

test('facegate central status on a database that does not exist: FG_ERR_DB_MISSING, and no file made', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-central-status-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'central.yaml');
  writeFileSync(path, `subscribe: [facegate/+]\ndatabase: ${join(dir, 'nowhere.db')}\n`);
  const r = await runCli(['central', 'status', '--config', path]);
  assert.notEqual(r.code, ExitCode.OK);
  assert.match(r.stderr, /FG_ERR_DB_MISSING: central database .*nowhere\.db does not exist/);
  assert.equal(existsSync(join(dir, 'nowhere.db')), false);
});
