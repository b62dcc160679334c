// Delivery through a bridged broker: three boxes publish to their site's Mosquitto, bridged (QoS 1,
// cleansession false) to a central Mosquitto, where the central consumer reads a subscription,
// plain or shared (and shared with the store on PostgreSQL). The bridge link is cut and restored and each broker restarted while events
// flow; every event is stored once, what the brokers lose asked for again by replay.
import '../support/paced-tier.js';
import { generateKeyPairSync } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { Mosquitto } from '../support/mosquitto.js';
import { EventsStack, quietLogger } from '../support/events-stack.js';
import { answerReplays } from '../support/replay-box.js';
import { parseCentralConfig } from '../../central/config.js';
import { CentralStore } from '../../central/store.js';
import { PgCentralStore } from '../../central/pg-store.js';
import type { CentralStorage } from '../../central/storage.js';
import { PG_MISSING, Postgres } from '../support/postgres.js';
import { CentralConsumer } from '../../central/consumer.js';

/**
 * Three boxes → site broker → bridge → central broker → consumer, with `outage` run while events
 * are written; then every event must have been accepted once.
 */
interface Outage {
  site: Mosquitto;
  central: Mosquitto;
  /** Writes `n` more events into each box's outbox, in turn. */
  batch: (n: number) => void;
  /** Stops the consumer, runs `during`, then starts a new one on the same client id and database. */
  consumerAway: (during: () => Promise<void>) => Promise<void>;
}

async function throughBridge(t: TestContext, sharedGroup: string | undefined, outage: (o: Outage) => Promise<void>, storeKind: 'sqlite' | 'postgres' = 'sqlite'): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'fg-central-bridge-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const central = await Mosquitto.start();
  t.after(() => central.dispose());
  // Replay requests come the other way, from the central consumer to the box.
  const site = await Mosquitto.start({ bridge: { port: central.port, topic: 'facegate/#', clientId: 'site-a-bridge', inTopic: 'facegate/+/bridge/request/#' } });
  t.after(() => site.dispose());

  const gates = ['gate-1', 'gate-2', 'gate-3'];
  const boxes = gates.map((g) => new EventsStack({ dbPath: join(dir, `${g}.db`), keyPath: join(dir, `${g}.key`), url: site.url, baseTopic: `facegate/${g}`, clientId: `facegate-${g}`, announceMs: 1000 }));
  // The central key: the consumer signs replay requests with it, every box's router trusts it.
  const centralKey = generateKeyPairSync('ed25519');
  const commandKey = boxes.map((box) => answerReplays(box, dir, centralKey))[0]!;
  const config = parseCentralConfig(
    [
      `broker: { url: "${central.url}", client_id: central-1${sharedGroup ? `, shared_group: ${sharedGroup}` : ''} }`,
      'subscribe: [facegate/+]',
      'pinning: provisioned',
      `keys: { ${boxes.map((box, i) => `facegate/${gates[i]}: ${JSON.stringify(box.key.publicJwk)}`).join(', ')} }`,
      `database: ${join(dir, 'central.db')}`,
      `timesheet_dir: ${join(dir, 'timesheets')}`,
      `replay: { command_key: ${commandKey}, check_s: 1, grace_s: 2, backoff_s: 4 }`,
    ].join('\n'),
    'central.yaml',
  );
  let store: CentralStorage;
  if (storeKind === 'sqlite') store = CentralStore.open(config.database);
  else {
    const pg = await Postgres.start();
    t.after(() => pg.dispose());
    store = await PgCentralStore.open(await pg.createDatabase('central'));
  }
  t.after(() => store.close());
  const accepted = new Set<string>();
  const counts = new Map<string, number>();
  const outcomes = ['accepted', 'ignored', 'duplicate', 'unknown_box', 'forged', 'malformed', 'stale', 'sequence', 'replay_answer'] as const;
  let requested = 0;
  let gone = 0;
  const startConsumer = async () => {
    const c = new CentralConsumer({ config, store, logger: quietLogger(), connect: mqtt.connect, onAccepted: (_base, signed) => accepted.add(signed.id as string) });
    c.start();
    await c.ready;
    return c;
  };
  const stopConsumer = async (c: CentralConsumer) => {
    await c.stop();
    requested += c.replay?.requested ?? 0;
    gone += c.replay?.gone ?? 0;
    for (const o of outcomes) counts.set(o, (counts.get(o) ?? 0) + c.countOf(o));
  };
  let consumer = await startConsumer();
  t.after(() => stopConsumer(consumer));
  const consumerAway = async (during: () => Promise<void>) => {
    await stopConsumer(consumer);
    await during();
    consumer = await startConsumer();
  };
  for (const box of boxes) {
    box.start();
    t.after(() => box.stop());
  }

  const written: string[] = [];
  const batch = (n: number) => {
    for (let i = 0; i < n; i++) for (const box of boxes) written.push(box.writer.write('unknown', { type: 'unknown', camera: 'gate', anonymous_id: `anon-${written.length}`, face_px: 96, image_sha256: null }));
  };
  await outage({ site, central, batch, consumerAway });
  /** What every consumer so far counted, the one still running included. */
  const total = (o: (typeof outcomes)[number]) => (counts.get(o) ?? 0) + consumer.countOf(o);

  const deadline = Date.now() + 90_000;
  while (accepted.size < written.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const missing = written.filter((id) => !accepted.has(id));
  assert.deepEqual(missing, [], `every event accepted (${accepted.size} of ${written.length}; missing at: ${missing.map((id) => written.indexOf(id)).join(",")}); outcomes: ${JSON.stringify(Object.fromEntries(outcomes.map((o) => [o, total(o)])))}\nsite: ${site.log}\ncentral: ${central.log}`);
  assert.equal(await store.eventCount(), written.length, 'each stored once');
  assert.equal(total('accepted'), written.length, 'accepted once each; redeliveries were counted as duplicates');
  assert.equal(gone + (consumer.replay?.gone ?? 0), 0, 'the boxes still held every event asked for');
  t.diagnostic(`duplicates dropped: ${total('duplicate')}; event numbers asked for again: ${requested + (consumer.replay?.requested ?? 0)}; replay answers: ${total('replay_answer')}`);
}

/**
 * The link cut and restored, each broker stopped and restarted while the box writes, and the
 * consumer away while the central broker restarts and the bridge delivers what it held: the
 * central broker must keep those for the consumer's session until it is back.
 */
async function everyOutage({ site, central, batch, consumerAway }: Outage): Promise<void> {
  batch(50);
  await central.stop(); // the bridge link is cut: the site broker keeps what the box sends
  batch(50);
  await central.start();
  await site.stop(); // the box loses its broker: its outbox keeps the events
  batch(50);
  await site.start();
  batch(25);
  await central.restart();
  batch(25);
  await site.restart();
  batch(50);
  await consumerAway(async () => {
    await central.restart();
    batch(50);
    await new Promise((resolve) => setTimeout(resolve, 3000)); // the bridge delivers them meanwhile
  });
  batch(25);
}

test('through a site broker bridged to a central one: every event reaches the central consumer once, across a cut link, restarts of each broker and of the consumer', { timeout: 240_000 }, async (t) => {
  await throughBridge(t, undefined, everyOutage);
});

// Mosquitto 2.0.11 (Debian 12's) restores a persistent session after its own restart without the
// session's shared subscriptions: the consumer subscribes to them again, and events the broker lost
// meanwhile are found missing by their numbers and asked for again from the box.
test('a shared subscription ($share) on the central broker: every event once, across the same outages, restarts of the central broker included', { timeout: 240_000 }, async (t) => {
  await throughBridge(t, 'central', everyOutage);
});

test('the same shared subscription and outages with the store on PostgreSQL: every event once', { timeout: 240_000, skip: PG_MISSING }, async (t) => {
  await throughBridge(t, 'central', everyOutage, 'postgres');
});
