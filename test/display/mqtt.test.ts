// The display's events on a real Mosquitto: each change of a display is published on
// <base>/<target>/display, not retained, in the topic map's schema, with the name as
// display.mqtt.show says; nothing is published about an unknown face; with the broker away the
// feed goes on and nothing is kept for later.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { Value } from '@sinclair/typebox/value';
import { Mosquitto } from '../support/mosquitto.js';
import { MqttConfigSchema, type MqttConfig } from '../../daemon/events/config.js';
import { mqttClientOptions, mqttIdentity } from '../../daemon/events/mqtt-options.js';
import { MqttBridge } from '../../daemon/events/bridge.js';
import { EventBus } from '../../daemon/bus/bus.js';
import type { DaemonEvents } from '../../daemon/bus/events.js';
import { DisplayFeed } from '../../daemon/display/feed.js';
import { publishDisplays } from '../../daemon/display/mqtt.js';
import { displayTargets } from '../../daemon/display/targets.js';
import type { RecognizedEvent, UnknownEvent } from '../../daemon/track/events.js';
import { TOPICS } from '../../contract/topics.js';
import { memoryLogger } from '../gallery/helpers.js';

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const liveness = { score: 4, blink: 1, structure: 1, passive: 1, surround: 0.5, screen: 0.5, stereo: 0 };

test('display events on MQTT: <base>/<target>/display, not retained, in the schema, first name only by default; nothing of an unknown face', async (t) => {
  const broker = await Mosquitto.start();
  t.after(() => broker.stop());
  const config = Value.Default(MqttConfigSchema, { url: broker.url, device_id: 'gate-1' }) as MqttConfig;
  const id = mqttIdentity(config);
  const { logger, lines } = memoryLogger();
  const bridge = new MqttBridge({ url: config.url, options: mqttClientOptions(config, id, {}), baseTopic: id.baseTopic, reconnect: { minMs: 20, maxMs: 400 }, connect: mqtt.connect, logger });
  bridge.start();
  t.after(() => bridge.stop());
  const bus = new EventBus<DaemonEvents>(logger);
  const targets = displayTargets([{ name: 'a' }, { name: 'b' }, { name: 'hall' }], [{ name: 'front', cameras: ['a', 'b'] }]);
  const feed = new DisplayFeed({ targets: () => targets, greetingMs: 5000, logger });
  t.after(feed.subscribe(bus));
  t.after(publishDisplays(feed, { bridge, baseTopic: id.baseTopic, device: id.deviceId, show: 'first_name', timeZone: () => 'Europe/Berlin', now: Date.now, logger }));

  const got: { topic: string; payload: Record<string, unknown>; retain: boolean }[] = [];
  const sub = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
  t.after(() => sub.end(true));
  sub.on('message', (topic, payload, packet) => got.push({ topic, payload: JSON.parse(payload.toString()) as Record<string, unknown>, retain: packet.retain }));
  await sub.subscribeAsync('facegate/gate-1/+/display', { qos: 1 });
  await until(() => bridge.connected, 10_000, 'the bridge connected');

  const atMs = Date.UTC(2026, 0, 12, 7, 59);
  void bus.emit('track', { type: 'recognized', camera: 'b', track: 4, t: 1, person: { id: 'p-1', name: 'Ada Lovelace' }, score: 0.8, margin: 0.3, live: true, named_t: 1, blink_t: 0.5, antispoof: 0.9, liveness, assurance: 'live', face_px: 120, thumbnail: null, atMs } as RecognizedEvent & { atMs: number });
  void bus.emit('track', { type: 'unknown', camera: 'hall', track: 5, t: 1, anon_id: 'anon-1', score: 0.2, live: true, antispoof: 0.9, liveness, face_px: 120, thumbnail: null, atMs } as UnknownEvent & { atMs: number });
  await until(() => got.length >= 1, 5000, 'the greeting on the broker');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(got.length, 1, 'one event: the unknown face published nothing');
  const [greeting] = got;
  assert.equal(greeting!.topic, 'facegate/gate-1/front/display');
  assert.equal(greeting!.retain, false);
  assert.ok(Value.Check(TOPICS.display.schema, greeting!.payload), JSON.stringify(greeting!.payload));
  assert.deepEqual({ ...greeting!.payload, time: 'x' }, { device: 'gate-1', target: 'front', time: 'x', type: 'greeting', greeting: 'seen', name: 'Ada', at: '2026-01-12T08:59:00+01:00', clock: '08:59' });

  // A subscriber that comes later gets nothing retained.
  const late = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
  t.after(() => late.end(true));
  const retained: string[] = [];
  late.on('message', (topic) => retained.push(topic));
  await late.subscribeAsync('facegate/gate-1/+/display', { qos: 1 });
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(retained, []);

  // The broker away: the feed goes on, nothing is queued for later, and the failure is not a crash.
  await broker.stop();
  await until(() => !bridge.connected, 10_000, 'the bridge disconnected');
  void bus.emit('track', { type: 'recognized', camera: 'hall', track: 6, t: 1, person: { id: 'p-1', name: 'Ada Lovelace' }, score: 0.8, margin: 0.3, live: true, named_t: 1, blink_t: 0.5, antispoof: 0.9, liveness, assurance: 'live', face_px: 120, thumbnail: null, atMs } as RecognizedEvent & { atMs: number });
  assert.equal(lines.some((l) => /"level":50/.test(l)), false, 'no error logged');
});
