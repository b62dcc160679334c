import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { Mosquitto } from '../support/mosquitto.js';
import { Subscriber, quietLogger, testSealer } from '../support/events-stack.js';
import { parseConfig } from '../../daemon/config/load.js';
import { openDatabase } from '../../daemon/store/database.js';
import { ensureDeviceKey } from '../../daemon/events/device-key.js';
import { EventsStage } from '../../daemon/events/stage.js';
import type { Timers } from '../../daemon/events/bridge.js';
import { TOPICS } from '../../contract/topics.js';
import type { CameraHealth } from '../../daemon/camera/health.js';
import { compactVerify, importJWK } from 'jose';
import { memoryLogger } from '../gallery/helpers.js';

test('the events stage publishes retained bridge/info without secrets, availability, counters, stats; the broker says offline when it drops', async (t) => {
  const broker = await Mosquitto.start();
  t.after(() => broker.dispose());
  const dir = mkdtempSync(join(tmpdir(), 'fg-stage-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = parseConfig(
    [
      'attendance: { time_zone: Europe/Berlin }',
      `mqtt: { enabled: true, url: "mqtt://gate:hunter2@127.0.0.1:${broker.port}", device_id: gate-1, stats_interval_s: 1, device_key_file: ${join(dir, 'device.key')} }`,
    ].join('\n'),
    'test.yaml',
  );
  ensureDeviceKey(config.mqtt.device_key_file);
  const db = openDatabase(join(dir, 'state.db'));
  t.after(() => db.close());
  const stage = new EventsStage({ config, db, sealer: testSealer(), env: { FACEGATE_MQTT_PASSWORD: 'hunter2' }, logger: quietLogger(), version: '0.1.0', cameras: () => ['gate'], galleryGeneration: () => 42 });
  stage.setCameraAvailability('gate', true);
  stage.start();
  t.after(() => stage.stop());
  stage.count('gate', 'recognized');

  const central = await Subscriber.connect(broker.url, 'facegate/gate-1/#', 'central-stage');
  t.after(() => central.close());
  const last = (suffix: string) => [...central.messages].reverse().find((m) => m.topic === `facegate/gate-1/${suffix}`);
  await central.waitFor(() => ['bridge/info', 'bridge/state', 'gate/availability', 'gate', 'stats'].every((s) => last(s)), 5000, 'state topics');
  const info = JSON.parse(last('bridge/info')!.payload.toString()) as Record<string, unknown>;
  assert.deepEqual([...Value.Errors(TOPICS.bridgeInfo.schema, info)].map((e) => e.path + ' ' + e.message), []);
  const late = await Subscriber.connect(broker.url, 'facegate/gate-1/+/+', 'late-subscriber');
  t.after(() => late.close());
  await late.waitFor(() => late.messages.length >= 3, 5000, 'retained state');
  assert.deepEqual(late.messages.filter((m) => m.retain).map((m) => m.topic).sort(), ['facegate/gate-1/bridge/info', 'facegate/gate-1/bridge/state', 'facegate/gate-1/gate/availability']);
  assert.deepEqual(info.cameras, ['gate']);
  assert.equal((info.public_key as { kid: string }).kid, stage.key.kid);
  assert.ok(!JSON.stringify(info).includes('hunter2'), 'no secret in bridge/info');
  assert.deepEqual(JSON.parse(last('gate/availability')!.payload.toString()), { state: 'online' });
  assert.equal(JSON.parse(last('gate')!.payload.toString()).recognized_today, 1);
  assert.deepEqual([...Value.Errors(TOPICS.stats.schema, JSON.parse(last('stats')!.payload.toString()))].map((e) => e.path + ' ' + e.message), []);
  await central.waitFor(() => central.unique.size >= 1, 5000, 'the started event');
  // The gallery's generation, for a central server to notice an older state file put back: in
  // bridge/info, and signed in the started event.
  assert.equal(info.gallery_generation, 42);
  const started = JSON.parse(central.messages.find((m) => m.topic === 'facegate/gate-1/bridge/event' && m.payload.includes('"started"'))!.payload.toString()) as { jws: string };
  const signed = JSON.parse(Buffer.from(started.jws.split('.')[1]!, 'base64url').toString()) as { type: string; data: Record<string, unknown> };
  assert.deepEqual([signed.type, signed.data.gallery_generation], ['started', 42]);

  // An abrupt drop (no DISCONNECT): the broker publishes the retained last-will.
  stage.bridge.mqtt!.stream.destroy();
  await central.waitFor(() => last('bridge/state')?.payload.toString() === '{"state":"offline"}', 5000, 'last-will offline');
  await central.waitFor(() => last('bridge/state')?.payload.toString() === '{"state":"online"}', 5000, 'online again after reconnect');
});

test("a camera's day counts survive a restart, every camera's counts are on the broker from the connect, and a new local day starts them at zero", async (t) => {
  const broker = await Mosquitto.start();
  t.after(() => broker.dispose());
  const dir = mkdtempSync(join(tmpdir(), 'fg-stage-counts-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = parseConfig(
    ['attendance: { time_zone: UTC }', `mqtt: { enabled: true, url: "mqtt://127.0.0.1:${broker.port}", device_id: gate-2, stats_interval_s: 0, device_key_file: ${join(dir, 'device.key')} }`].join('\n'),
    'test.yaml',
  );
  ensureDeviceKey(config.mqtt.device_key_file);
  let nowMs = Date.parse('2026-03-02T23:59:00Z');
  // Timers fired by hand: the stage's once-a-minute look at the day.
  const timers = new Set<() => void>();
  const fakeTimers: Timers = {
    setTimeout: (fn) => {
      timers.add(fn);
      return fn;
    },
    clearTimeout: (h) => void timers.delete(h as () => void),
  };
  const stageOn = (db: ReturnType<typeof openDatabase>) =>
    new EventsStage({ config, db, sealer: testSealer(), env: {}, logger: quietLogger(), version: '0.1.0', cameras: () => ['gate', 'lobby'], now: () => nowMs, timers: fakeTimers });
  const central = await Subscriber.connect(broker.url, 'facegate/gate-2/+', 'central-counts');
  t.after(() => central.close());
  const counts = (camera: string) => {
    const m = [...central.messages].reverse().find((x) => x.topic === `facegate/gate-2/${camera}`);
    return m ? (JSON.parse(m.payload.toString()) as { recognized_today: number; unknown_today: number }) : undefined;
  };

  let db = openDatabase(join(dir, 'state.db'));
  let stage = stageOn(db);
  stage.start();
  stage.count('gate', 'recognized');
  stage.count('gate', 'recognized');
  stage.count('gate', 'unknown');
  await central.waitFor(() => counts('gate')?.recognized_today === 2 && counts('gate')?.unknown_today === 1, 5000, 'the counts');
  await stage.stop();
  db.close();

  central.messages.length = 0;
  db = openDatabase(join(dir, 'state.db'));
  t.after(() => db.close());
  stage = stageOn(db);
  stage.start();
  t.after(() => stage.stop());
  // At the connect, before any new event: the morning's counts, and zeros for a camera that saw nothing.
  await central.waitFor(() => counts('gate') !== undefined && counts('lobby') !== undefined, 5000, 'counts at connect');
  assert.deepEqual([counts('gate')!.recognized_today, counts('gate')!.unknown_today], [2, 1]);
  assert.deepEqual([counts('lobby')!.recognized_today, counts('lobby')!.unknown_today], [0, 0]);

  // Midnight passes: the next check of the day puts every camera back to zero.
  central.messages.length = 0;
  nowMs = Date.parse('2026-03-03T00:00:30Z');
  const due = [...timers];
  timers.clear();
  for (const fire of due) fire();
  await central.waitFor(() => counts('gate') !== undefined && counts('lobby') !== undefined, 5000, 'counts of the new day');
  assert.equal(counts('gate')!.recognized_today, 0);
  stage.count('gate', 'recognized');
  await central.waitFor(() => counts('gate')?.recognized_today === 1, 5000, 'the first count of the new day');
});

test('a clean stop: the signed stopping event goes out with the outbox, then offline once (the broker drops the last-will)', async (t) => {
  const broker = await Mosquitto.start();
  t.after(() => broker.dispose());
  const dir = mkdtempSync(join(tmpdir(), 'fg-stage-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = parseConfig(`mqtt: { enabled: true, url: "${broker.url}", device_id: gate-2, device_key_file: ${join(dir, 'device.key')} }`, 'test.yaml');
  ensureDeviceKey(config.mqtt.device_key_file);
  const db = openDatabase(join(dir, 'state.db'));
  t.after(() => db.close());
  const stage = new EventsStage({ config, db, sealer: testSealer(), env: {}, logger: quietLogger(), version: '0.1.0', cameras: () => [] });
  const central = await Subscriber.connect(broker.url, 'facegate/gate-2/#', 'central-stop');
  t.after(() => central.close());
  const events = () => central.messages.filter((m) => m.topic === 'facegate/gate-2/bridge/event').map((m) => JSON.parse(m.payload.toString()) as { type: string; data: Record<string, unknown> });
  const states = () => central.messages.filter((m) => m.topic === 'facegate/gate-2/bridge/state').map((m) => (JSON.parse(m.payload.toString()) as { state: string }).state);
  stage.start();
  await central.waitFor(() => states().includes('online') && events().some((e) => e.type === 'started'), 5000, 'online and started');

  stage.announceStopping();
  stage.announceStopping(); // a second call (a second signal) writes nothing more
  await central.waitFor(() => events().some((e) => e.type === 'stopping'), 5000, 'the stopping event');
  const stopping = events().filter((e) => e.type === 'stopping');
  assert.equal(stopping.length, 1);
  assert.deepEqual(Object.keys(stopping[0]!.data).sort(), ['outbox_pending', 'uptime_s']);
  assert.deepEqual([...Value.Errors(TOPICS.bridgeEvent.schema, JSON.parse(central.messages.find((m) => m.topic.endsWith('/bridge/event') && m.payload.includes('"stopping"'))!.payload.toString()))], []);

  const before = states().length;
  await stage.stop();
  // Mosquitto logs "disconnected" for a DISCONNECT packet (last-will dropped) and "closed its
  // connection" for a bare socket close (last-will published).
  await waitUntil(() => /Client facegate-gate-2 disconnected/.test(broker.log) || /Client facegate-gate-2 closed its connection/.test(broker.log), 5000, broker.log);
  assert.match(broker.log, /Client facegate-gate-2 disconnected/);
  // A marker published after the broker handled the disconnect arrives after any last-will would.
  await central.client.publishAsync('facegate/gate-2/marker', 'end', { qos: 1 });
  await central.waitFor(() => central.messages.some((m) => m.topic === 'facegate/gate-2/marker'), 5000, 'the marker');
  assert.deepEqual(states().slice(before), ['offline'], 'offline exactly once at stop');
});

async function waitUntil(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('a camera retrying: availability offline once (retained), one signed camera_offline with the reason, one camera_online when back; bridge/info follows a reload', async (t) => {
  const broker = await Mosquitto.start();
  t.after(() => broker.dispose());
  const dir = mkdtempSync(join(tmpdir(), 'fg-stage-cam-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const yaml = (cameras: string) =>
    `cameras: [${cameras}]\nattendance: { time_zone: UTC }\nmqtt: { enabled: true, url: "${broker.url}", device_id: gate-3, stats_interval_s: 0, device_key_file: ${join(dir, 'device.key')} }`;
  const config = parseConfig(yaml('{ name: gate, url: "rtsp://127.0.0.1:1/x" }'), 'test.yaml');
  ensureDeviceKey(config.mqtt.device_key_file);
  const db = openDatabase(join(dir, 'state.db'));
  t.after(() => db.close());
  let cameras = ['gate'];
  const stage = new EventsStage({ config, db, sealer: testSealer(), env: {}, logger: quietLogger(), version: '0.1.0', cameras: () => cameras });
  const central = await Subscriber.connect(broker.url, 'facegate/gate-3/#', 'central-cameras');
  t.after(() => central.close());
  stage.start();
  t.after(() => stage.stop());
  await central.waitFor(() => central.messages.some((m) => m.topic.endsWith('/bridge/info')), 5000, 'bridge/info');

  const health = (state: CameraHealth['state'], kind?: 'refused') => ({
    camera: 'gate', source: 'rtsp://127.0.0.1:1/x', state, decoding: 'all' as const, fps_in: 0, fps_asked: 15, fps_source: null, fps_processed: 0, frames_skipped: 0, frames_unpooled: 0, frames_in: 0,
    reconnects_last_hour: 0, stalls_last_hour: 0, reconnects_total: 0, stalls_total: 0,
    last_error: kind ? { kind, message: 'connection refused: nothing listens at that host and port', at_ms: 0 } : null, time_to_first_frame_ms: null, attention: null,
  });
  // Twelve retries, each connecting then backoff, as an unreachable camera goes.
  stage.cameraState(health('connecting'));
  for (let i = 0; i < 12; i++) {
    stage.cameraState(health('backoff', 'refused'));
    stage.cameraState(health('connecting', 'refused'));
  }
  stage.cameraState(health('streaming', 'refused'));
  const of = (suffix: string) => central.messages.filter((m) => m.topic === `facegate/gate-3/${suffix}`);
  const cameraEvents = () => of('bridge/event').map((m) => JSON.parse(m.payload.toString()) as { type: string; data: Record<string, unknown>; jws: string }).filter((e) => e.type.startsWith('camera_'));
  await central.waitFor(() => cameraEvents().length >= 2 && of('gate/availability').length >= 2, 5000, 'the camera events');
  assert.deepEqual(of('gate/availability').map((m) => m.payload.toString()), ['{"state":"offline"}', '{"state":"online"}'], 'availability once per change');
  const events = cameraEvents();
  assert.deepEqual(events.map((e) => e.type), ['camera_offline', 'camera_online']);
  assert.deepEqual(events[0]!.data, { camera: 'gate', state: 'backoff', reason: 'refused', message: 'connection refused: nothing listens at that host and port' });
  assert.equal(events[1]!.data.reason, 'refused');
  const key = await importJWK(stage.key.publicJwk, 'EdDSA');
  for (const e of events) {
    const { jws, ...fields } = e;
    const signed = JSON.parse(new TextDecoder().decode((await compactVerify(jws, key)).payload)) as unknown;
    assert.deepEqual(signed, fields, `${e.type} is signed by the device key`);
    assert.deepEqual([...Value.Errors(TOPICS.bridgeEvent.schema, e)], [], `${e.type} matches the bridge/event schema`);
  }
  // The retained availability a late subscriber gets is the last one.
  const late = await Subscriber.connect(broker.url, 'facegate/gate-3/gate/availability', 'late-cameras');
  t.after(() => late.close());
  await late.waitFor(() => late.messages.length >= 1, 5000, 'retained availability');
  assert.deepEqual([late.messages[0]!.payload.toString(), late.messages[0]!.retain], ['{"state":"online"}', true]);

  // A reload that adds a camera: bridge/info names it and shows its config, without a reconnect.
  cameras = ['gate', 'lobby'];
  const infos = () => of('bridge/info').map((m) => JSON.parse(m.payload.toString()) as { cameras: string[]; config: { cameras: { name: string }[] } });
  const before = infos().length;
  stage.refreshInfo(parseConfig(yaml('{ name: gate, url: "rtsp://127.0.0.1:1/x" }, { name: lobby, url: "rtsp://u:secret@127.0.0.1:2/y" }'), 'test.yaml'));
  await central.waitFor(() => infos().length > before && of('lobby').length > 0, 5000, 'bridge/info after the reload');
  const info = infos().at(-1)!;
  assert.deepEqual(info.cameras, ['gate', 'lobby']);
  assert.deepEqual(info.config.cameras.map((c) => c.name), ['gate', 'lobby']);
  assert.ok(!JSON.stringify(info).includes('secret'), 'the new camera URL credentials are masked');
  assert.equal(stage.bridge.reconnects, 0, 'published on the same connection');
});

test('a reload whose state publish fails (the state file gone under it) is logged, never thrown', async (t) => {
  const broker = await Mosquitto.start();
  t.after(() => broker.dispose());
  const dir = mkdtempSync(join(tmpdir(), 'fg-stage-reload-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = parseConfig(`mqtt: { enabled: true, url: "${broker.url}", device_id: gate-4, stats_interval_s: 0, device_key_file: ${join(dir, 'device.key')} }`, 'test.yaml');
  ensureDeviceKey(config.mqtt.device_key_file);
  const db = openDatabase(join(dir, 'state.db'));
  const log = memoryLogger();
  const stage = new EventsStage({ config, db, sealer: testSealer(), env: {}, logger: log.logger, version: '0.1.0', cameras: () => ['gate'] });
  stage.start();
  t.after(() => stage.stop());
  await waitUntil(() => stage.bridge.connected && stage.outbox.stats(Date.now()).pending === 0, 5000, 'connected, outbox sent');
  stage.publisher.stop();
  db.close();
  stage.refreshInfo(config);
  await waitUntil(() => log.lines.some((l) => l.includes('state publish after the reload failed')), 5000, 'the failure logged');
  assert.ok(stage.bridge.connected, 'the stage goes on');
});
