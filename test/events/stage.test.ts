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
import { TOPICS } from '../../daemon/events/topics.js';

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
  const stage = new EventsStage({ config, db, sealer: testSealer(), env: { FACEGATE_MQTT_PASSWORD: 'hunter2' }, logger: quietLogger(), version: '0.1.0', cameras: () => ['gate'] });
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

  // An abrupt drop (no DISCONNECT): the broker publishes the retained last-will.
  stage.bridge.mqtt!.stream.destroy();
  await central.waitFor(() => last('bridge/state')?.payload.toString() === '{"state":"offline"}', 5000, 'last-will offline');
  await central.waitFor(() => last('bridge/state')?.payload.toString() === '{"state":"online"}', 5000, 'online again after reconnect');
});
