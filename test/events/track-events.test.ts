import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { compactVerify, importJWK, type JWK } from 'jose';
import { Mosquitto, type MosquittoOptions } from '../support/mosquitto.js';
import { createLogger, type Logger } from '../../daemon/base/log.js';
import { Subscriber, quietLogger, testSealer } from '../support/events-stack.js';
import { parseConfig } from '../../daemon/config/load.js';
import { openDatabase } from '../../daemon/store/database.js';
import { ensureDeviceKey } from '../../daemon/events/device-key.js';
import { EventsStage } from '../../daemon/events/stage.js';
import { TOPICS } from '../../contract/topics.js';
import { EventBus } from '../../daemon/bus/bus.js';
import type { DaemonEvents } from '../../daemon/bus/events.js';
import type { RecognizedEvent, TrackEvent } from '../../daemon/track/events.js';

const person = { id: 'emp-7', name: 'Angelina Okafor' };

/** The stage subscribed to a bus, as the daemon subscribes it: tracker decisions reach it there. */
function routeTo(stage: EventsStage): (e: TrackEvent & { atMs: number }) => void {
  const bus = new EventBus<DaemonEvents>(quietLogger());
  stage.subscribe(bus);
  return (e) => void bus.emit('track', e);
}


/** A real broker, an events stage on a fresh state file publishing to it, and a subscriber on door/events. */
async function startedStage(t: TestContext, extraYaml: string, extraMqtt: string, clientId: string, o: { broker?: MosquittoOptions; logger?: Logger } = {}) {
  const broker = await Mosquitto.start(o.broker);
  t.after(() => broker.dispose());
  const dir = mkdtempSync(join(tmpdir(), 'fg-track-events-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const mqtt = `mqtt: { enabled: true, url: "${broker.url}", device_id: gate-1, stats_interval_s: 0, device_key_file: ${join(dir, 'device.key')}${extraMqtt} }`;
  const config = parseConfig([extraYaml, mqtt].filter(Boolean).join('\n'), 'test.yaml');
  ensureDeviceKey(config.mqtt.device_key_file);
  const db = openDatabase(join(dir, 'state.db'));
  t.after(() => db.close());
  const stage = new EventsStage({ config, db, sealer: testSealer(), env: {}, logger: o.logger ?? quietLogger(), version: '0.1.0', cameras: () => ['door'] });
  stage.start();
  t.after(() => stage.stop());
  const central = await Subscriber.connect(broker.url, 'facegate/gate-1/door/events', clientId);
  t.after(() => central.close());
  return { broker, stage, central };
}

test("a central subscriber gets a track's new, updates and end on <camera>/events, signed, rate-limited, without names; <camera>/last is retained", async (t) => {
  const { broker, stage, central } = await startedStage(t, 'attendance: { time_zone: Europe/Berlin }', '', 'central-track-events');

  // Driven as the daemon routes the tracker's decisions: on the bus, into the stage.
  const route = routeTo(stage);
  const t0 = Date.now();
  const emit = (dtMs: number, e: TrackEvent) => route({ ...e, atMs: t0 + dtMs });
  const base = { camera: 'door', track: 4, t: 0 };
  const recognized = (live: boolean): TrackEvent => ({ ...base, type: 'recognized', person, score: 0.79, margin: 0.32, live, named_t: 0, blink_t: live ? 1.2 : null, antispoof: 0.93, liveness: { score: 4.6, blink: 4.6, structure: 0, passive: 0, surround: 0, screen: 0, stereo: 0 }, assurance: live ? 'live' : 'recognised', face_px: 151, thumbnail: Buffer.alloc(900, 7) });
  emit(0, { ...base, type: 'blink', closed_ms: 140 });
  // A burst of state changes that do not matter, all within the first second: none goes out.
  for (let i = 0; i < 200; i++) emit(1 + i, { ...base, type: 'too_small', reason: `face ${40 + (i % 7)} px, 64 needed` });
  emit(300, recognized(false));
  emit(400, recognized(true));
  emit(500, { ...base, type: 'track_ended', person, anon_id: null, live: true, duration: 0.5, blinks: 1, antispoof: 0.93, liveness: { score: 4.6, blink: 4.6, structure: 0, passive: 0, surround: 0, screen: 0, stereo: 0 } });

  // The outbox sends in order: once the end is here, everything written before it is too.
  await central.waitFor(() => central.messages.some((m) => m.payload.includes('"type":"end"')), 10_000, "the track's end");
  const events = central.messages.map((m) => JSON.parse(m.payload.toString()) as Record<string, unknown>);
  const distinct = [...new Map(events.map((e) => [e.id as string, e])).values()].sort((a, b) => (a.id as string).localeCompare(b.id as string));
  assert.deepEqual(
    distinct.map((e) => [e.type, e.state, e.live, e.assurance]),
    [
      ['new', 'tracking', false, null],
      ['update', 'recognized', false, 'recognised'],
      ['update', 'recognized', true, 'live'],
      ['end', 'recognized', true, 'live'],
    ],
    'what proved the person, signed with the rest: nothing before a name, named but not proven, then live',
  );
  assert.ok(central.messages.every((m) => !m.retain), 'track events are never retained');
  const key = await importJWK(stage.key.publicJwk as JWK, 'EdDSA');
  for (const e of distinct) {
    assert.deepEqual([...Value.Errors(TOPICS.trackEvent.schema, e)].map((x) => `${x.path} ${x.message}`), []);
    const { jws, ...rest } = e;
    const { payload } = await compactVerify(jws as string, key);
    assert.deepEqual(JSON.parse(new TextDecoder().decode(payload)), rest, 'the signature covers every field');
  }
  const update = distinct[1]!;
  assert.deepEqual([update.track, update.person_id, update.score, update.margin, update.face_px, update.reasons], [4, 'emp-7', 0.79, 0.32, 151, ['not_live_yet']]);
  assert.equal(update.image, undefined, 'no snapshot by default');

  // A subscriber that comes later finds the latest decision retained.
  const late = await Subscriber.connect(broker.url, 'facegate/gate-1/door/last', 'late-track-last');
  t.after(() => late.close());
  await late.waitFor(() => late.messages.length >= 1, 10_000, 'the retained last');
  const last = JSON.parse(late.messages[0]!.payload.toString()) as Record<string, unknown>;
  assert.equal(late.messages[0]!.retain, true);
  assert.deepEqual([...Value.Errors(TOPICS.trackLast.schema, last)].map((x) => `${x.path} ${x.message}`), []);
  assert.deepEqual([last.state, last.person_id, last.live, last.assurance, last.track], ['recognized', 'emp-7', true, 'live', 4]);
  assert.ok(![...central.messages, ...late.messages].some((m) => m.payload.toString().includes('Angelina')), 'no name on the broker');
});

test('with MQTT off (the stage never started) no track event reaches the outbox', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-track-events-off-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = parseConfig(`mqtt: { enabled: false, device_id: gate-1, device_key_file: ${join(dir, 'device.key')} }`, 'test.yaml');
  ensureDeviceKey(config.mqtt.device_key_file);
  const db = openDatabase(join(dir, 'state.db'));
  t.after(() => db.close());
  const stage = new EventsStage({ config, db, sealer: testSealer(), env: {}, logger: quietLogger(), version: '0.1.0', cameras: () => ['door'] });
  stage.reportTrack({ camera: 'door', track: 1, t: 0, type: 'blink', closed_ms: 100, atMs: Date.now() });
  assert.equal(stage.outbox.stats(Date.now()).pending, 0);
});

test('with a snapshot cap the thumbnail rides along, bound by its signed sha256; a camera reports at most max_tracks at once', async (t) => {
  const { stage, central } = await startedStage(t, '', ', track_events: { snapshot_max_kb: 2, max_tracks: 2 }', 'central-track-snap');

  const small = Buffer.alloc(1500, 3);
  const large = Buffer.alloc(2049, 4);
  const unknown = (track: number, thumbnail: Buffer): TrackEvent & { atMs: number } => ({ camera: 'door', track, t: 0, type: 'unknown', anon_id: `anon-${track}`, score: 0.2, live: true, antispoof: 0.9, liveness: { score: 0, blink: 0, structure: 0, passive: 0, surround: 0, screen: 0, stereo: 0 }, face_px: 120, thumbnail, atMs: Date.now() });
  for (const [track, jpeg] of [[1, small], [2, large], [3, small], [4, small]] as const) stage.reportTrack(unknown(track, jpeg));
  stage.reportTrack({ camera: 'door', track: 1, t: 1, type: 'track_ended', person: null, anon_id: 'anon-1', live: true, duration: 1, blinks: 1, antispoof: 0.9, liveness: { score: 4.6, blink: 4.6, structure: 0, passive: 0, surround: 0, screen: 0, stereo: 0 }, atMs: Date.now() });
  stage.reportTrack(unknown(5, small));

  await central.waitFor(() => central.messages.some((m) => m.payload.includes('"anonymous_id":"anon-5"')), 10_000, 'the track that took the freed place');
  const events = [...new Map(central.messages.map((m) => JSON.parse(m.payload.toString()) as Record<string, unknown>).map((e) => [e.id as string, e])).values()];
  assert.deepEqual(events.map((e) => [e.type, e.track]).sort(), [['end', 1], ['new', 1], ['new', 2], ['new', 5]], 'tracks 3 and 4 found the camera full');
  const key = await importJWK(stage.key.publicJwk as JWK, 'EdDSA');
  const first = events.find((e) => e.type === 'new' && e.track === 1)!;
  const { jws, image, ...rest } = first;
  const signed = JSON.parse(new TextDecoder().decode((await compactVerify(jws as string, key)).payload)) as Record<string, unknown>;
  assert.deepEqual(signed, rest, 'the image is outside the signature');
  assert.equal(image, small.toString('base64'));
  assert.equal(signed.image_sha256, createHash('sha256').update(small).digest('hex'));
  const second = events.find((e) => e.track === 2)!;
  assert.deepEqual([second.image, second.image_sha256], [undefined, null], 'over the cap: no image');
  assert.equal(stage.tracks?.skipped, 2);
});

test('an unknown alert withdrawn once the track is recognised: a signed follow-up on alerts/unknown/withdrawn names the alert, the anonymous id, the person and the track', async (t) => {
  const { broker, stage, central } = await startedStage(t, 'attendance: { time_zone: Europe/Berlin }', '', 'central-withdrawal-events');
  const alerts = await Subscriber.connect(broker.url, 'facegate/gate-1/alerts/#', 'central-withdrawal-alerts');
  t.after(() => alerts.close());

  const route = routeTo(stage);
  const t0 = Date.now();
  const emit = (dtMs: number, e: TrackEvent) => route({ ...e, atMs: t0 + dtMs });
  const base = { camera: 'door', track: 9, t: 0 };
  // The order a Track gives them: unknown, then on a later frame the withdrawal and the recognition.
  emit(0, { ...base, type: 'unknown', anon_id: 'anon-5e1f', score: 0.37, live: false, antispoof: null, liveness: { score: 0, blink: 0, structure: 0, passive: 0, surround: 0, screen: 0, stereo: 0 }, face_px: 104, thumbnail: Buffer.alloc(700, 5) });
  emit(900, { ...base, type: 'unknown_withdrawn', anon_id: 'anon-5e1f', person, score: 0.47, cluster: 'removed' });
  emit(900, { ...base, type: 'recognized', person, score: 0.47, margin: 0.47, live: false, named_t: 0, blink_t: null, antispoof: null, liveness: { score: 0, blink: 0, structure: 0, passive: 0, surround: 0, screen: 0, stereo: 0 }, assurance: 'recognised', face_px: 106, thumbnail: null });
  emit(1500, { ...base, type: 'track_ended', person, anon_id: null, live: false, duration: 1.5, blinks: 0, antispoof: null, liveness: { score: 0, blink: 0, structure: 0, passive: 0, surround: 0, screen: 0, stereo: 0 } });

  await alerts.waitFor(() => alerts.messages.some((m) => m.topic.endsWith('/withdrawn')), 10_000, 'the withdrawal');
  await central.waitFor(() => central.messages.some((m) => m.payload.includes('"type":"end"')), 10_000, "the track's end");
  const key = await importJWK(stage.key.publicJwk as JWK, 'EdDSA');
  const verified = async (topic: string) => {
    const message = alerts.messages.find((m) => m.topic === `facegate/gate-1/${topic}`)!;
    assert.equal(message.retain, false, `${topic} is never retained`);
    const { jws, image: _image, ...rest } = JSON.parse(message.payload.toString()) as Record<string, unknown>;
    const signed = JSON.parse(new TextDecoder().decode((await compactVerify(jws as string, key)).payload)) as Record<string, unknown>;
    assert.deepEqual(signed, rest, 'signed by the device key, every field');
    return signed;
  };
  const alert = await verified('alerts/unknown');
  const withdrawal = await verified('alerts/unknown/withdrawn');
  assert.deepEqual([...Value.Errors(TOPICS.unknownWithdrawn.schema, JSON.parse(alerts.messages.find((m) => m.topic.endsWith('/withdrawn'))!.payload.toString()))].map((x) => `${x.path} ${x.message}`), []);
  assert.deepEqual(
    { type: withdrawal.type, camera: withdrawal.camera, track: withdrawal.track, anonymous_id: withdrawal.anonymous_id, alert_id: withdrawal.alert_id, person_id: withdrawal.person_id, score: withdrawal.score },
    { type: 'unknown_withdrawn', camera: 'door', track: 9, anonymous_id: 'anon-5e1f', alert_id: alert.id, person_id: 'emp-7', score: 0.47 },
  );
  assert.ok((withdrawal.id as string) > (alert.id as string), 'written after the alert it withdraws');
  assert.ok(!alerts.messages.some((m) => m.payload.toString().includes('Angelina')), 'ids only: no name in an alert');
  // The track's own events say the same: unknown with its anonymous id, then recognised.
  const states = [...new Map(central.messages.map((m) => JSON.parse(m.payload.toString()) as Record<string, unknown>).map((e) => [e.id as string, e])).values()].map((e) => [e.type, e.state, e.anonymous_id, e.person_id]);
  assert.deepEqual(states, [
    ['new', 'unknown', 'anon-5e1f', null],
    ['update', 'recognized', null, 'emp-7'],
    ['end', 'recognized', null, 'emp-7'],
  ]);
  assert.equal(stage.unknownAlerts.size, 0, 'forgotten with the track');
});

test("opted in, each live recognition also goes out in Frigate's face shape on frigate/tracked_object_update, so Frigate automations run unchanged", async (t) => {
  const { broker, stage } = await startedStage(t, 'attendance: { time_zone: Europe/Berlin }', ', frigate: { enabled: true }', 'central-frigate-track');
  const frigate = await Subscriber.connect(broker.url, 'frigate/tracked_object_update', 'frigate-automation');
  t.after(() => frigate.close());
  const route = routeTo(stage);
  const t0 = 1_764_061_200_123;
  const liveness = { score: 4.6, blink: 4.6, structure: 0, passive: 0, surround: 0, screen: 0, stereo: 0 };
  const recognized = (track: number, live: boolean, dtMs: number): RecognizedEvent & { atMs: number } => ({ camera: 'door', track, t: 2 + dtMs / 1000, type: 'recognized', person, score: 0.79, margin: 0.32, live, named_t: 2, blink_t: live ? 2.5 : null, antispoof: 0.93, liveness, assurance: live ? 'live' : 'recognised', face_px: 151, thumbnail: null, atMs: t0 + dtMs });
  route(recognized(4, false, 0));
  route(recognized(4, true, 800));
  route(recognized(4, true, 1800));
  route({ camera: 'door', track: 5, t: 3, type: 'unknown', anon_id: 'anon-9', score: 0.2, live: true, antispoof: 0.9, liveness, face_px: 120, thumbnail: null, atMs: t0 + 2000 });
  route({ ...recognized(6, true, 2500), person: { id: 'emp-8', name: null } });
  await frigate.waitFor(() => frigate.messages.length >= 3, 10_000, 'three Frigate face updates');

  const updates = frigate.messages.map((m) => JSON.parse(m.payload.toString()) as Record<string, unknown>);
  // Frigate's documented payload (docs.frigate.video/integrations/mqtt, tracked_object_update, type face).
  const shape = { type: 'string', id: 'string', name: 'string', score: 'number', camera: 'string', timestamp: 'number' };
  for (const u of updates) {
    assert.deepEqual(Object.keys(u).sort(), Object.keys(shape).sort(), 'exactly Frigate\'s keys');
    for (const [k, type] of Object.entries(shape)) assert.equal(typeof u[k], type, `${k} is a ${type}`);
    assert.equal(u.type, 'face', 'a face update');
    assert.match(u.id as string, /^\d+\.\d{6}-[a-z0-9]{6}$/, "Frigate's id shape");
  }
  assert.deepEqual(updates.map((u) => [u.name, u.score, u.camera, u.timestamp]), [
    ['Angelina Okafor', 0.79, 'door', (t0 + 800) / 1000],
    ['Angelina Okafor', 0.79, 'door', (t0 + 1800) / 1000],
    ['emp-8', 0.79, 'door', (t0 + 2500) / 1000],
  ], 'live recognitions only, by name (the id where there is none), unix seconds');
  assert.equal(updates[0]!.id, updates[1]!.id, 'one id for one track, as Frigate keeps one per tracked object');
  assert.notEqual(updates[0]!.id, updates[2]!.id, 'another track, another id');
  assert.ok(frigate.messages.every((m) => !m.retain), 'not retained, as Frigate');
});

test('the Frigate output is off by default: nothing on frigate/tracked_object_update', async (t) => {
  const { broker, stage, central } = await startedStage(t, '', '', 'central-frigate-off');
  const frigate = await Subscriber.connect(broker.url, 'frigate/#', 'frigate-off');
  t.after(() => frigate.close());
  const route = routeTo(stage);
  const liveness = { score: 4.6, blink: 4.6, structure: 0, passive: 0, surround: 0, screen: 0, stereo: 0 };
  route({ camera: 'door', track: 1, t: 1, type: 'recognized', person, score: 0.8, margin: 0.3, live: true, named_t: 1, blink_t: 1, antispoof: 0.9, liveness, assurance: 'live', face_px: 150, thumbnail: null, atMs: Date.now() });
  // The track's own update follows the same call: once it is here, a Frigate update would have been published before it.
  await central.waitFor(() => central.messages.some((m) => m.payload.includes('"state":"recognized"')), 10_000, 'the track update');
  await frigate.client.publishAsync('frigate/marker', 'x', { qos: 1 });
  await frigate.waitFor(() => frigate.messages.length > 0, 5000, 'the marker');
  assert.deepEqual(frigate.messages.map((m) => m.topic), ['frigate/marker'], 'no face update');
});

test('a Frigate face the broker refuses (not authorized) is logged and dropped; the track events go on', async (t) => {
  const lines: string[] = [];
  const logger = createLogger({ level: 'warn', destination: { write: (l: string) => void lines.push(l) } });
  const { stage, central } = await startedStage(t, '', ', frigate: { enabled: true }', 'central-frigate-refused', { broker: { acl: 'topic deny frigate/#\ntopic readwrite #\n' }, logger });
  const route = routeTo(stage);
  const liveness = { score: 4.6, blink: 4.6, structure: 0, passive: 0, surround: 0, screen: 0, stereo: 0 };
  const base = { camera: 'door', track: 1, t: 1, atMs: Date.now() };
  route({ ...base, type: 'recognized', person, score: 0.8, margin: 0.3, live: true, named_t: 1, blink_t: 1, antispoof: 0.9, liveness, assurance: 'live', face_px: 150, thumbnail: null });
  await central.waitFor(() => lines.some((l) => l.includes('Frigate face publish failed')), 10_000, 'the refusal logged');
  route({ ...base, t: 2, type: 'track_ended', person, anon_id: null, live: true, duration: 1, blinks: 1, antispoof: 0.9, liveness });
  await central.waitFor(() => central.messages.some((m) => m.payload.includes('"type":"end"')), 10_000, "the track's end after the refusal");
  assert.ok(!lines.some((l) => l.includes('Angelina')), 'the log names no one');
});
