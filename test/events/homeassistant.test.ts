import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { Mosquitto } from '../support/mosquitto.js';
import { EventsStack } from '../support/events-stack.js';
import { HomeAssistantDiscovery, discoveryMessages, removalMessage, type DiscoveryOptions } from '../../daemon/events/homeassistant.js';

const options: DiscoveryOptions = {
  prefix: 'homeassistant', baseTopic: 'facegate/test-device', deviceId: 'test-device', version: '0.1.0',
  cameras: ['gate'], persons: [{ personId: 'emp-1', name: 'Ada' }], presenceExpireS: 900, personNames: false,
};

test('discovery configs: device block, unique ids, availability on bridge and camera, presence with expiry', () => {
  const msgs = discoveryMessages(options);
  assert.deepEqual(msgs.map((m) => m.topic), [
    'homeassistant/binary_sensor/facegate_test-device/gate_connectivity/config',
    'homeassistant/sensor/facegate_test-device/gate_recognized_today/config',
    'homeassistant/sensor/facegate_test-device/gate_unknown_today/config',
    'homeassistant/binary_sensor/facegate_test-device/presence_emp-1/config',
  ]);
  const bodies = msgs.map((m) => JSON.parse(m.payload) as Record<string, unknown>);
  assert.equal(new Set(bodies.map((b) => b.unique_id)).size, 4);
  for (const b of bodies) assert.deepEqual((b.device as { identifiers: string[] }).identifiers, ['facegate_test-device']);
  const sensor = bodies[1]!;
  assert.equal(sensor.availability_mode, 'all');
  assert.deepEqual((sensor.availability as { topic: string }[]).map((a) => a.topic), ['facegate/test-device/bridge/state', 'facegate/test-device/gate/availability']);
  const presence = bodies[3]!;
  assert.equal(presence.device_class, 'presence');
  assert.equal(presence.expire_after, 900);
  assert.equal(presence.state_topic, 'facegate/test-device/presence/emp-1');
  assert.equal(presence.json_attributes_topic, 'facegate/test-device/presence/emp-1', 'camera and time of the sighting as attributes');
  // Entity ids as Home Assistant reads them now: domain.object, lower case, and no object_id.
  assert.deepEqual(bodies.map((b) => b.default_entity_id), [
    'binary_sensor.facegate_test_device_gate_connectivity',
    'sensor.facegate_test_device_gate_recognized_today',
    'sensor.facegate_test_device_gate_unknown_today',
    'binary_sensor.facegate_test_device_presence_emp_1',
  ]);
  for (const b of bodies) assert.equal(b.object_id, undefined);
  // Names stay off the broker unless the site asks for them.
  assert.equal(presence.name, 'emp-1 present');
  assert.ok(!msgs.some((m) => m.payload.includes('Ada')));
  const named = discoveryMessages({ ...options, personNames: true }).map((m) => JSON.parse(m.payload) as Record<string, unknown>);
  assert.equal(named[3]!.name, 'Ada present');
  assert.deepEqual(removalMessage(options, 'emp-1'), { topic: 'homeassistant/binary_sensor/facegate_test-device/presence_emp-1/config', payload: '' });
});

test('discovery is published retained on connect and again when Home Assistant comes online', async (t) => {
  const broker = await Mosquitto.start();
  t.after(() => broker.dispose());
  const dir = mkdtempSync(join(tmpdir(), 'fg-ha-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const stack = new EventsStack({ dbPath: join(dir, 's.db'), keyPath: join(dir, 'k'), url: broker.url });
  const ha = new HomeAssistantDiscovery(stack.bridge, () => options);
  ha.attach();
  stack.start();
  t.after(() => stack.stop());
  const hass = mqtt.connect(broker.url, { protocolVersion: 5, clientId: 'hass' });
  t.after(() => hass.endAsync(true));
  const seen: { topic: string; retain: boolean }[] = [];
  hass.on('message', (topic, _p, packet) => seen.push({ topic, retain: packet.retain }));
  await new Promise((r) => hass.once('connect', r));
  const until = async (n: number) => {
    const end = Date.now() + 5000;
    while (seen.length < n) {
      if (Date.now() > end) throw new Error(`only ${seen.length} discovery messages`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  await new Promise((r) => setTimeout(r, 300));
  await hass.subscribeAsync('homeassistant/+/+/+/config', { qos: 1 });
  await until(4);
  assert.ok(seen.every((s) => s.retain), 'retained configs reach a late subscriber');
  await hass.publishAsync('homeassistant/status', 'online', { qos: 1 });
  await until(8);
  assert.ok(seen.slice(4).every((s) => !s.retain), 'republished live');
});
