// `facegate central` (the build) on a real Mosquitto against someone who may publish on the broker:
// pinned on first use under their own key, they send what the consumer cannot store, or claim to
// be another box. The consumer must refuse or count each message, acknowledge it, keep reading the
// other boxes, and never sign a replay request that another box would run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { decodeJwt } from 'jose';
import { Mosquitto } from '../support/mosquitto.js';
import { EventsStack, Subscriber } from '../support/events-stack.js';
import { answerReplays } from '../support/replay-box.js';
import { startCentralCli } from '../support/central-cli.js';
import { ensureDeviceKey, type DeviceKey } from '../../daemon/events/device-key.js';
import { createSigner, withSignature } from '../../daemon/events/signing.js';
import { CentralStore } from '../../central/store.js';
import { Sqlite } from '../../daemon/store/sqlite.js';

function tmp(t: { after(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'fg-central-hostile-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

let ids = 0;
const nextId = () => `019b4f3a-6c00-7000-8000-${(++ids).toString(16).padStart(12, '0')}`;
const now = () => new Date().toISOString();

/** One box on the broker as the consumer sees it: a base topic, a key, signed payloads. */
class Publisher {
  readonly key: DeviceKey;
  constructor(
    readonly client: MqttClient,
    readonly base: string,
    dir: string,
    readonly device = base.slice(base.lastIndexOf('/') + 1),
  ) {
    this.key = ensureDeviceKey(join(dir, `${base.replaceAll('/', '_')}.key`)).key;
  }

  /** Its retained bridge/info, naming `device` and offering its key. */
  info(): Promise<unknown> {
    return this.client.publishAsync(`${this.base}/bridge/info`, JSON.stringify({ version: '0.1.0', device: this.device, cameras: ['gate'], public_key: this.key.publicJwk, config: {} }), { qos: 1, retain: true });
  }

  /** A signed payload on `sub`, its numbers written as given (1e300 stays 1e+300 in the JSON). */
  signed(sub: string, body: Record<string, unknown>): Promise<unknown> {
    return this.client.publishAsync(`${this.base}/${sub}`, JSON.stringify(withSignature<Record<string, unknown>>(createSigner(this.key), { device: this.device, time: now(), ...body })), { qos: 1 });
  }

  alert(): Promise<unknown> {
    return this.signed('alerts/unknown', { id: nextId(), type: 'unknown', camera: 'gate', anonymous_id: 'anon-1', face_px: 96, image_sha256: null });
  }
}

async function publisher(t: { after(fn: () => Promise<unknown>): void }, url: string, clientId: string): Promise<MqttClient> {
  const client = await mqtt.connectAsync(url, { protocolVersion: 5, clientId });
  t.after(() => client.endAsync(true));
  return client;
}

test('a box pinned on first use floods bridge/sequence with "seq":1e300: each is refused and acknowledged, the other boxes are still read, and nothing comes again after a restart', { timeout: 90_000 }, async (t) => {
  const broker = await Mosquitto.start();
  t.after(() => broker.dispose());
  const dir = tmp(t);
  const central = await startCentralCli(t, dir, 'central', broker.url, 'pinning: first_use');
  const client = await publisher(t, broker.url, 'anyone');
  const box1 = new Publisher(client, 'facegate/box1', dir);
  const evil = new Publisher(client, 'facegate/evil1', dir);
  await box1.info();
  await central.until({ pinned: 1 });
  await evil.info();
  await central.until({ pinned: 2 });
  // Far more than the broker lets be in flight to one client (Mosquitto: 20): unacknowledged, they
  // would hold back every later message of every box.
  const FLOOD = 60;
  for (let i = 0; i < FLOOD; i++) await evil.signed('bridge/sequence', { seq: 1e300 });
  await box1.alert();
  await central.until({ pinned: 2, 'malformed/bad_number': FLOOD, accepted: 1 });

  await central.restart();
  await box1.alert();
  const after = await central.until({ accepted: 1 });
  assert.deepEqual(Object.fromEntries(after), { accepted: 1 }, 'none of the flood was sent again to the kept session');
});

test('a message the consumer cannot store is counted, logged once, acknowledged, and never holds back the other boxes', { timeout: 90_000 }, async (t) => {
  const broker = await Mosquitto.start();
  t.after(() => broker.dispose());
  const dir = tmp(t);
  // The database refuses every event of one box, as a full or broken disk would refuse them all:
  // a real SQLite failure inside the consumer's handler, for one sender only.
  CentralStore.open(join(dir, 'central.db')).close();
  const db = new Sqlite(join(dir, 'central.db'));
  db.exec("CREATE TRIGGER refuse_evil2 BEFORE INSERT ON central_events WHEN NEW.base = 'facegate/evil2' BEGIN SELECT RAISE(ABORT, 'no room for this box'); END");
  db.close();
  const central = await startCentralCli(t, dir, 'central', broker.url, 'pinning: first_use');
  const client = await publisher(t, broker.url, 'anyone');
  const box1 = new Publisher(client, 'facegate/box1', dir);
  const evil = new Publisher(client, 'facegate/evil2', dir);
  await box1.info();
  await central.until({ pinned: 1 });
  await evil.info();
  await central.until({ pinned: 2 });
  const FLOOD = 40;
  for (let i = 0; i < FLOOD; i++) await evil.alert();
  await box1.alert();
  await central.until({ pinned: 2, 'failed/unknown': FLOOD, accepted: 1 });

  const lines = central.logLines().filter((l) => l.code === 'FG_ERR_CENTRAL_NOT_STORED');
  // Once per box, kind and minute: the flood falls within one minute, or two across its turn.
  assert.ok(lines.length >= 1 && lines.length <= 2, `logged ${lines.length} times`);
  assert.equal(lines[0]!.base, 'facegate/evil2');
  assert.equal(lines[0]!.level, 50, 'at error level');
  assert.match(String(lines[0]!.err), /no room for this box/);
  assert.doesNotMatch(JSON.stringify(lines), /eyJ/, 'no signature or payload of the message in the log');

  await central.restart();
  await box1.alert();
  const after = await central.until({ accepted: 1 });
  assert.deepEqual(Object.fromEntries(after), { accepted: 1 }, 'the failed ones were acknowledged: the broker does not send them again');
});

test("a key pinned for another base never gets a replay request that box1 runs: a payload naming box1 under evil1's topic is refused, and a request's audience is its own topic's box", { timeout: 90_000 }, async (t) => {
  const broker = await Mosquitto.start();
  t.after(() => broker.dispose());
  const dir = tmp(t);
  // The real box1: answers replay requests signed by the central key and addressed to it.
  const box = new EventsStack({ dbPath: join(dir, 'box1.db'), keyPath: join(dir, 'box1.key'), url: broker.url, baseTopic: 'facegate/box1', clientId: 'facegate-box1' });
  const commandKey = answerReplays(box, dir);
  const central = await startCentralCli(t, dir, 'central', broker.url, `pinning: first_use\nreplay: { command_key: ${commandKey}, check_s: 1, grace_s: 0, backoff_s: 60 }`);
  const requests = await Subscriber.connect(broker.url, 'facegate/+/bridge/request/#', 'spy-requests');
  t.after(() => requests.client.endAsync(true));
  const answers = await Subscriber.connect(broker.url, 'facegate/box1/bridge/response/#', 'spy-answers');
  t.after(() => answers.client.endAsync(true));
  const client = await publisher(t, broker.url, 'anyone');
  await client.publishAsync('facegate/box1/bridge/info', JSON.stringify({ version: '0.1.0', device: 'box1', cameras: ['gate'], public_key: box.key.publicJwk, config: {} }), { qos: 1, retain: true });
  await central.until({ pinned: 1 });
  box.start();
  t.after(() => box.stop());

  // The impostor: its own key under its own topic, naming box1 in the payloads.
  const impostor = new Publisher(client, 'facegate/evil1', dir, 'box1');
  await impostor.info();
  await impostor.signed('bridge/sequence', { seq: 5 });
  // Open about itself: pinned, and asked for what it claims to miss, as itself.
  const open = new Publisher(client, 'facegate/evil2', dir);
  await open.info();
  await open.signed('bridge/sequence', { seq: 5 });
  await central.until({ pinned: 2, 'wrong_device/claimed': 2 });
  await requests.waitFor(() => requests.messages.some((m) => m.topic.startsWith('facegate/evil2/')), 20_000, "evil2's replay request");

  for (const m of requests.messages) {
    const claims = decodeJwt((JSON.parse(m.payload.toString()) as { token: string }).token);
    assert.equal(claims.aud, m.topic.split('/')[1], `the request on ${m.topic} is addressed to that topic's box`);
  }
  assert.ok(!requests.messages.some((m) => m.topic.startsWith('facegate/evil1/')), 'none for the impostor');
  // What evil2 got, taken to box1: box1 checks the audience against its own id and refuses it.
  const stolen = requests.messages.find((m) => m.topic.startsWith('facegate/evil2/'))!;
  await client.publishAsync('facegate/box1/bridge/request/events/replay', stolen.payload, { qos: 1 });
  await answers.waitFor(() => answers.messages.length > 0, 20_000, "box1's answer");
  const answer = JSON.parse(answers.messages[0]!.payload.toString()) as { status: string; error?: string };
  assert.equal(answer.status, 'error');
  assert.match(answer.error ?? '', /token claim aud invalid/);
  const refused = central.logLines().filter((l) => l.outcome === 'wrong_device');
  assert.equal(refused.length, 2);
  assert.deepEqual(refused.map((l) => [l.base, l.device]), [['facegate/evil1', 'box1'], ['facegate/evil1', 'box1']], 'each refusal names the topic and the device claimed');
});
