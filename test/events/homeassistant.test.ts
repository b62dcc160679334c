import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { Mosquitto } from '../support/mosquitto.js';
import { EventsStack } from '../support/events-stack.js';
import { Subscriber } from '../support/events-stack.js';
import { HomeAssistantDiscovery, decisionFor, discoveryMessages, removalMessages, type DiscoveryOptions } from '../../daemon/events/homeassistant.js';
import { TOPICS } from '../../contract/topics.js';
import { Value } from '@sinclair/typebox/value';
import type { TrackEvent } from '../../daemon/track/events.js';

const options: DiscoveryOptions = {
  prefix: 'homeassistant', baseTopic: 'facegate/test-device', deviceId: 'test-device', version: '0.1.0',
  cameras: ['gate'], persons: [{ personId: 'emp-1', name: 'Ada' }], presenceExpireS: 900, personNames: false,
  cameraImages: true, imageMaxKb: 1,
};

test('discovery configs: device block, unique ids, availability on bridge and camera, presence with expiry, last seen, image, triggers', () => {
  const msgs = discoveryMessages(options);
  assert.deepEqual(msgs.map((m) => m.topic), [
    'homeassistant/binary_sensor/facegate_test-device/gate_connectivity/config',
    'homeassistant/sensor/facegate_test-device/gate_recognized_today/config',
    'homeassistant/sensor/facegate_test-device/gate_unknown_today/config',
    'homeassistant/image/facegate_test-device/gate_latest_face/config',
    'homeassistant/device_automation/facegate_test-device/gate_recognized/config',
    'homeassistant/device_automation/facegate_test-device/gate_unknown/config',
    'homeassistant/device_automation/facegate_test-device/gate_spoof/config',
    'homeassistant/binary_sensor/facegate_test-device/presence_emp-1/config',
    'homeassistant/sensor/facegate_test-device/last_seen_emp-1/config',
  ], 'the configs in order');
  const bodies = msgs.map((m) => JSON.parse(m.payload) as Record<string, unknown>);
  const entities = bodies.filter((b) => b.automation_type === undefined);
  assert.equal(new Set(entities.map((b) => b.unique_id)).size, 6, 'one unique id per entity');
  for (const b of bodies) assert.deepEqual((b.device as { identifiers: string[] }).identifiers, ['facegate_test-device'], 'one device');
  const sensor = bodies[1]!;
  assert.equal(sensor.availability_mode, 'all', 'counters need the camera too');
  assert.deepEqual((sensor.availability as { topic: string }[]).map((a) => a.topic), ['facegate/test-device/bridge/state', 'facegate/test-device/gate/availability'], 'availability topics');
  const image = bodies[3]!;
  assert.deepEqual([image.image_topic, image.content_type], ['facegate/test-device/gate/image', 'image/jpeg'], 'raw JPEG on the camera image topic');
  const triggers = bodies.slice(4, 7);
  assert.deepEqual(triggers.map((b) => [b.automation_type, b.type, b.subtype, b.payload, b.topic, b.value_template]), [
    ['trigger', 'recognized', 'gate', 'recognized', 'facegate/test-device/gate/decision', '{{ value_json.type }}'],
    ['trigger', 'unknown', 'gate', 'unknown', 'facegate/test-device/gate/decision', '{{ value_json.type }}'],
    ['trigger', 'spoof', 'gate', 'spoof', 'facegate/test-device/gate/decision', '{{ value_json.type }}'],
  ], 'a device trigger per decision kind');
  const presence = bodies[7]!;
  assert.equal(presence.device_class, 'presence', 'presence class');
  assert.equal(presence.expire_after, 900, 'HA expires presence');
  assert.equal(presence.state_topic, 'facegate/test-device/presence/emp-1', 'presence topic');
  assert.equal(presence.json_attributes_topic, 'facegate/test-device/presence/emp-1', 'camera and time of the sighting as attributes');
  assert.equal(presence.json_attributes_template, '{{ {"camera": value_json.camera, "door": value_json.door | default(none), "time": value_json.time} | tojson }}', 'the door too, null for a camera in no door');
  const lastSeen = bodies[8]!;
  assert.deepEqual([lastSeen.state_topic, lastSeen.json_attributes_topic, lastSeen.value_template], ['facegate/test-device/presence/emp-1/last_seen', 'facegate/test-device/presence/emp-1/last_seen', '{{ value_json.camera }}'], 'last seen: the camera as state, camera and time as attributes');
  // Entity ids as Home Assistant reads them now: domain.object, lower case, and no object_id.
  assert.deepEqual(entities.map((b) => b.default_entity_id), [
    'binary_sensor.facegate_test_device_gate_connectivity',
    'sensor.facegate_test_device_gate_recognized_today',
    'sensor.facegate_test_device_gate_unknown_today',
    'image.facegate_test_device_gate_latest_face',
    'binary_sensor.facegate_test_device_presence_emp_1',
    'sensor.facegate_test_device_last_seen_emp_1',
  ], 'entity ids');
  for (const b of bodies) assert.equal(b.object_id, undefined, 'no object_id');
  // Names stay off the broker when the site turns them off.
  assert.deepEqual([presence.name, lastSeen.name], ['emp-1 present', 'emp-1 last seen'], 'named by id');
  assert.ok(!msgs.some((m) => m.payload.includes('Ada')), 'no name anywhere');
  const named = discoveryMessages({ ...options, personNames: true }).map((m) => JSON.parse(m.payload) as Record<string, unknown>);
  assert.deepEqual([named[7]!.name, named[8]!.name], ['Ada present', 'Ada last seen'], 'named by name');
  assert.deepEqual([named[7]!.unique_id, named[8]!.unique_id], ['facegate_test-device_presence_emp-1', 'facegate_test-device_last_seen_emp-1'], 'unique ids keep the id whatever the name');
  const noImages = discoveryMessages({ ...options, cameraImages: false });
  assert.ok(!noImages.some((m) => m.topic.includes('/image/')), 'no image entity when camera images are off');
  assert.deepEqual(removalMessages(options, 'emp-1'), [
    { topic: 'homeassistant/binary_sensor/facegate_test-device/presence_emp-1/config', payload: '' },
    { topic: 'homeassistant/sensor/facegate_test-device/last_seen_emp-1/config', payload: '' },
    { topic: 'facegate/test-device/presence/emp-1/last_seen', payload: '' },
  ], 'a removed person loses both entities and their retained last sighting');
});

test('decisions for the device triggers: live recognitions, unknown faces and spoofs only; a name only where names are on; a face only where images are on and it fits', () => {
  const liveness = { score: 4, blink: 4, structure: 0, passive: 0, surround: 0, screen: 0, stereo: 0 };
  const face = Buffer.alloc(1024, 1);
  const recognized: TrackEvent = { type: 'recognized', camera: 'gate', track: 1, t: 2, person: { id: 'emp-1', name: 'Ada' }, score: 0.8, margin: 0.3, live: true, named_t: 1, blink_t: 1.5, antispoof: 0.9, liveness, assurance: 'live', face_px: 120, thumbnail: face };
  const time = '2026-11-25T09:00:00+01:00';
  assert.equal(decisionFor({ ...recognized, live: false }, time, options), undefined, 'not live yet: no trigger');
  assert.equal(decisionFor({ type: 'blink', camera: 'gate', track: 1, t: 1, closed_ms: 100 }, time, options), undefined, 'no decision');
  assert.deepEqual(decisionFor(recognized, time, options), { decision: { type: 'recognized', camera: 'gate', time, person_id: 'emp-1' }, image: face }, 'by id, with the face at the bound');
  assert.equal(decisionFor(recognized, time, { ...options, personNames: true })?.decision.name, 'Ada', 'named where names are on');
  assert.equal(decisionFor(recognized, time, { ...options, cameraImages: false })?.image, undefined, 'no face where images are off');
  assert.equal(decisionFor({ ...recognized, thumbnail: Buffer.alloc(1025) }, time, options)?.image, undefined, 'no face over the bound');
  assert.equal(decisionFor({ ...recognized, person: { id: 'emp-2', name: null } }, time, { ...options, personNames: true })?.decision.name, undefined, 'no name where the person has none');
  // A camera of a door names it, as its events do; a camera in no door sends no door field at all.
  const atDoor = decisionFor({ ...recognized, camera: 'front-left', door: 'front-door' }, time, options)?.decision;
  assert.deepEqual(atDoor, { type: 'recognized', camera: 'front-left', door: 'front-door', time, person_id: 'emp-1' });
  assert.deepEqual([...Value.Errors(TOPICS.decision.schema, atDoor)].map((e) => e.message), [], 'the door in the decision schema');
  assert.ok(!('door' in decisionFor(recognized, time, options)!.decision), 'no door field for a camera in no door');
});

// The keys Home Assistant's MQTT discovery accepts per platform, from home-assistant/core
// homeassistant/components/mqtt/: config.py (MQTT_BASE_SCHEMA: qos, encoding), schemas.py
// (MQTT_ENTITY_COMMON_SCHEMA with MQTT_AVAILABILITY_SCHEMA: availability..., device, origin,
// enabled_by_default, entity_category, entity_picture, icon, json_attributes_*, default_entity_id,
// unique_id), and each platform's PLATFORM_SCHEMA: binary_sensor.py, sensor.py, image.py,
// device_trigger.py (TRIGGER_DISCOVERY_SCHEMA, which extends MQTT_BASE_SCHEMA only). Unknown keys
// are dropped silently by Home Assistant (extra=REMOVE_EXTRA), so a misspelt key would never show.
const BASE = ['qos', 'encoding'];
const ENTITY = [
  ...BASE, 'availability', 'availability_mode', 'availability_template', 'availability_topic', 'payload_available', 'payload_not_available',
  'device', 'origin', 'enabled_by_default', 'entity_category', 'entity_picture', 'icon', 'json_attributes_topic', 'json_attributes_template', 'default_entity_id', 'unique_id',
];
const ACCEPTED: Record<string, { keys: string[]; required: string[] }> = {
  binary_sensor: { keys: [...ENTITY, 'name', 'device_class', 'expire_after', 'force_update', 'off_delay', 'payload_off', 'payload_on', 'state_topic', 'value_template'], required: ['state_topic'] },
  sensor: {
    keys: [...ENTITY, 'name', 'device_class', 'expire_after', 'force_update', 'last_reset_value_template', 'options', 'state_class', 'state_topic', 'suggested_display_precision', 'unit_of_measurement', 'value_template'],
    required: ['state_topic'],
  },
  image: { keys: [...ENTITY, 'name', 'content_type', 'image_encoding', 'image_topic', 'url_template', 'url_topic'], required: ['image_topic'] },
  device_automation: { keys: [...BASE, 'automation_type', 'device', 'payload', 'subtype', 'topic', 'type', 'value_template'], required: ['automation_type', 'device', 'subtype', 'topic', 'type'] },
};
const DEVICE_KEYS = ['identifiers', 'connections', 'manufacturer', 'model', 'model_id', 'name', 'hw_version', 'serial_number', 'sw_version', 'via_device', 'suggested_area', 'configuration_url'];
const ORIGIN_KEYS = ['name', 'sw', 'sw_version', 'url', 'support_url'];

test("every discovery payload facegate publishes uses only keys Home Assistant's schema for its platform accepts, and has the required ones", () => {
  const all = [...discoveryMessages(options), ...discoveryMessages({ ...options, personNames: true, cameras: ['gate', 'door-2'] })];
  const platforms = new Set<string>();
  for (const m of all) {
    const platform = m.topic.split('/')[1]!;
    platforms.add(platform);
    const accepted = ACCEPTED[platform];
    assert.ok(accepted, `${m.topic}: platform known to the table`);
    const body = JSON.parse(m.payload) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).filter((k) => !accepted.keys.includes(k)), [], `${m.topic}: keys Home Assistant accepts`);
    assert.deepEqual(accepted.required.filter((k) => body[k] === undefined), [], `${m.topic}: required keys`);
    assert.deepEqual(Object.keys(body.device as object).filter((k) => !DEVICE_KEYS.includes(k)), [], `${m.topic}: device keys`);
    if (body.origin !== undefined) assert.deepEqual(Object.keys(body.origin as object).filter((k) => !ORIGIN_KEYS.includes(k)), [], `${m.topic}: origin keys`);
    if (platform === 'image') assert.ok(!(body.url_topic !== undefined && body.content_type !== undefined), 'content_type goes only with image_topic');
  }
  assert.deepEqual([...platforms].sort(), ['binary_sensor', 'device_automation', 'image', 'sensor'], 'every platform facegate uses is checked');
});

/** A real Mosquitto, and the events stack on it with Home Assistant discovery attached, all stopped after the test. */
async function discoveryOnBroker(t: TestContext): Promise<{ broker: Mosquitto; ha: HomeAssistantDiscovery; stack: EventsStack }> {
  const broker = await Mosquitto.start();
  t.after(() => broker.dispose());
  const dir = mkdtempSync(join(tmpdir(), 'fg-ha-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const stack = new EventsStack({ dbPath: join(dir, 's.db'), keyPath: join(dir, 'k'), url: broker.url });
  const ha = new HomeAssistantDiscovery(stack.bridge, () => options);
  ha.attach();
  stack.start();
  t.after(() => stack.stop());
  return { broker, ha, stack };
}

test('discovery is published retained on connect and again when Home Assistant comes online', async (t) => {
  const { broker } = await discoveryOnBroker(t);
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
  const n = discoveryMessages(options).length;
  await until(n);
  assert.ok(seen.every((s) => s.retain), 'retained configs reach a late subscriber');
  await hass.publishAsync('homeassistant/status', 'online', { qos: 1 });
  await until(2 * n);
  assert.ok(seen.slice(n).every((s) => !s.retain), 'republished live');
});

test('sightings, decisions and faces reach Home Assistant on a real broker: last seen retained, triggers and faces not, a face over the bound not sent, a removal clears the retained sighting', async (t) => {
  const { broker, ha, stack } = await discoveryOnBroker(t);
  const hass = await Subscriber.connect(broker.url, 'facegate/test-device/#', 'hass-states');
  t.after(() => hass.close());
  await hass.waitFor(() => stack.bridge.connected, 5000, 'the bridge connected');

  const time = '2026-11-25T09:00:00+01:00';
  const liveness = { score: 4, blink: 4, structure: 0, passive: 0, surround: 0, screen: 0, stereo: 0 };
  const ada = { id: 'emp-1', name: 'Ada' };
  const face = Buffer.alloc(1000, 0xd8);
  const recognized: TrackEvent = { type: 'recognized', camera: 'gate', track: 1, t: 2, person: ada, score: 0.8, margin: 0.3, live: true, named_t: 1, blink_t: 1.5, antispoof: 0.9, liveness, assurance: 'live', face_px: 120, thumbnail: face };
  await ha.decision({ ...recognized, live: false }, time);
  await ha.decision(recognized, time);
  await ha.decision({ type: 'unknown', camera: 'gate', track: 2, t: 3, anon_id: 'anon-1', score: 0.2, live: true, antispoof: 0.9, liveness, face_px: 110, thumbnail: Buffer.alloc(2000, 1) }, time);
  await ha.decision({ type: 'spoof_suspected', camera: 'gate', track: 3, t: 4, person: ada, reasons: ['held_picture'], antispoof: 0.1, liveness }, time);
  await ha.sighting('emp-1', 'ON', 'gate', time);
  await hass.waitFor(() => hass.messages.some((m) => m.topic.endsWith('/last_seen')), 5000, 'the last sighting');
  // A camera of a door: its decisions, presence and last sighting name the door beside the camera.
  await ha.decision({ ...recognized, camera: 'front-left', door: 'front-door' }, time);
  await ha.sighting('emp-2', 'ON', 'front-left', time, 'front-door');
  await hass.waitFor(() => hass.messages.some((m) => m.topic.endsWith('/emp-2/last_seen')), 5000, 'the last sighting at the door');

  const on = (topic: string) => hass.messages.filter((m) => m.topic === `facegate/test-device/${topic}`);
  const decisions = on('gate/decision').map((m) => JSON.parse(m.payload.toString()) as Record<string, unknown>);
  assert.deepEqual(decisions, [
    { type: 'recognized', camera: 'gate', time, person_id: 'emp-1' },
    { type: 'unknown', camera: 'gate', time, person_id: null },
    { type: 'spoof', camera: 'gate', time, person_id: 'emp-1' },
  ], 'one decision per live recognition, unknown face and spoof; no name while names are off');
  for (const d of decisions) assert.deepEqual([...Value.Errors(TOPICS.decision.schema, d)].map((e) => e.message), [], 'decision schema');
  const images = on('gate/image');
  assert.equal(images.length, 1, 'the 2000-byte face is over the 1 KiB bound and not sent');
  assert.ok(images[0]!.payload.equals(face), 'the face as raw JPEG bytes');
  assert.ok(![...images, ...on('gate/decision')].some((m) => m.retain), 'neither faces nor triggers are retained');
  const last = on('presence/emp-1/last_seen');
  assert.deepEqual(JSON.parse(last[0]!.payload.toString()), { camera: 'gate', time }, 'where and when');
  assert.deepEqual(on('presence/emp-1').map((m) => JSON.parse(m.payload.toString()) as unknown), [{ state: 'ON', camera: 'gate', time }], 'presence');
  const atDoor = (topic: string) => on(topic).map((m) => JSON.parse(m.payload.toString()) as Record<string, unknown>);
  assert.deepEqual(atDoor('front-left/decision'), [{ type: 'recognized', camera: 'front-left', door: 'front-door', time, person_id: 'emp-1' }], 'the decision names the door');
  assert.deepEqual(atDoor('presence/emp-2'), [{ state: 'ON', camera: 'front-left', door: 'front-door', time }], 'presence names the door');
  assert.deepEqual(atDoor('presence/emp-2/last_seen'), [{ camera: 'front-left', door: 'front-door', time }], 'the last sighting names the door');
  for (const [topic, body] of [['presence', atDoor('presence/emp-2')[0]], ['lastSeen', atDoor('presence/emp-2/last_seen')[0]], ['presence', { state: 'ON', camera: 'gate', time }], ['lastSeen', { camera: 'gate', time }]] as const) {
    assert.deepEqual([...Value.Errors(TOPICS[topic].schema, body)].map((e) => e.message), [], `${topic} schema`);
  }
  assert.ok(!Value.Check(TOPICS.presence.schema, { state: 'ON', camera: 'gate', door: 'Front Door!', time }), 'a door name is a config name, nothing else');

  // A late subscriber (Home Assistant restarting) gets the last sighting, until the person is removed.
  const late = await Subscriber.connect(broker.url, 'facegate/test-device/presence/#', 'hass-late');
  t.after(() => late.close());
  await late.waitFor(() => late.messages.length >= 2, 5000, 'the retained last sightings');
  assert.deepEqual(late.messages.map((m) => [m.topic, m.retain]).sort(), [['facegate/test-device/presence/emp-1/last_seen', true], ['facegate/test-device/presence/emp-2/last_seen', true]], 'only the last sightings are retained');
  await ha.removePerson('emp-1');
  await ha.removePerson('emp-2');
  const after = await Subscriber.connect(broker.url, 'facegate/test-device/presence/#', 'hass-after-removal');
  t.after(() => after.close());
  await after.client.publishAsync('facegate/test-device/presence/marker', 'x', { qos: 1 });
  await after.waitFor(() => after.messages.some((m) => m.topic.endsWith('/marker')), 5000, 'the marker');
  assert.deepEqual(after.messages.map((m) => m.topic), ['facegate/test-device/presence/marker'], 'the removed person left nothing retained');
});
