// The daemon's composition root with remote commands and Home Assistant on: the real App (models,
// encrypted gallery in a SQLite file, events stage) against a real Mosquitto on a loopback port,
// commands signed by a central key the test holds, faces from ../shared/media.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import mqtt from 'mqtt';
import sharp from 'sharp';
import { App } from '../../daemon/app.js';
import { parseConfig } from '../../daemon/config/load.js';
import { ensureDeviceKey } from '../../daemon/events/device-key.js';
import { CommandAudit } from '../../daemon/service/command-records.js';
import { createKeyFile } from '../../daemon/gallery/key-source.js';
import { loadSodium } from '../../daemon/gallery/sodium.js';
import { createNotifier } from '../../daemon/system/sd-notify.js';
import { decodeImageFile } from '../../daemon/vision/image.js';
import { Mosquitto } from '../support/mosquitto.js';
import { quietLogger } from '../support/events-stack.js';
import { media, mediaMissing } from '../support/media.js';

const ENROL = 'identities/deepface/img6.jpg';
const PROBE = 'identities/deepface/img2.jpg';
const skip = mediaMissing(ENROL, PROBE);
const BASE = 'facegate/gate-1';

/** The real App with remote commands on, a Mosquitto, and a central client that signs requests. */
async function site(t: { after(fn: () => unknown): void }) {
  const broker = await Mosquitto.start();
  t.after(() => broker.dispose());
  const dir = mkdtempSync(join(tmpdir(), 'fg-remote-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  createKeyFile(await loadSodium(), join(dir, 'gallery.key'));
  ensureDeviceKey(join(dir, 'device.key'));
  const central = await generateKeyPair('EdDSA', { extractable: true });
  const forger = await generateKeyPair('EdDSA');
  writeFileSync(join(dir, 'central.jwk'), JSON.stringify(await exportJWK(central.publicKey)));
  const yaml =
    `gallery:\n  path: ${dir}/state.db\n  key_file: ${dir}/gallery.key\n` +
    `mqtt:\n  enabled: true\n  url: ${broker.url}\n  device_id: gate-1\n  device_key_file: ${dir}/device.key\n  reconnect: { min_ms: 50, max_ms: 500 }\n` +
    `  commands: { enabled: true, central_public_key: ${dir}/central.jwk }\n  homeassistant: { enabled: true, person_names: false }\n  frigate: { enabled: true }\n` +
    `metrics:\n  enabled: false\ncontrol:\n  enabled: false\nattendance:\n  time_zone: Europe/Berlin\n  camera_roles: { door: entry }\n`;
  writeFileSync(join(dir, 'config.yaml'), yaml);
  const app = new App({
    config: parseConfig(yaml, 'test'),
    configPath: join(dir, 'config.yaml'),
    logger: quietLogger(),
    notifier: createNotifier({ env: {}, warn: () => {} }),
    env: {},
    version: '0.0.0-test',
  });
  await app.start();
  t.after(() => app.stop());

  const central_ = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'central' });
  t.after(() => central_.endAsync(true));
  const responses = new Map<string, { status: string; data: Record<string, unknown>; error?: string; code?: string }>();
  const seen: { topic: string; payload: string; retain: boolean }[] = [];
  central_.on('message', (topic, payload, packet) => {
    if (topic.startsWith(`${BASE}/bridge/response/`)) {
      const r = JSON.parse(payload.toString()) as { transaction: string; status: string; data: Record<string, unknown>; error?: string; code?: string };
      responses.set(r.transaction, r);
    } else seen.push({ topic, payload: payload.toString(), retain: packet.retain });
  });
  await central_.subscribeAsync([`${BASE}/bridge/response/#`, `${BASE}/presence/#`, `${BASE}/+/events`, `${BASE}/+/last`, `${BASE}/+/decision`, `${BASE}/+/image`, 'frigate/tracked_object_update'], { qos: 1, rap: true });
  // Retain-as-published: Home Assistant's configs must arrive flagged retained, as published.
  await central_.subscribeAsync('homeassistant/+/+/+/config', { qos: 1, rap: true });

  const sign = (key: Parameters<SignJWT['sign']>[0], cmd: string, data: Record<string, unknown>) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ cmd, data }).setProtectedHeader({ alg: 'EdDSA' }).setAudience('gate-1').setIssuedAt(now).setExpirationTime(now + 60).setJti(randomUUID()).setSubject('central-1').sign(key);
  };
  const ask = async (cmd: string, data: Record<string, unknown>, key: Parameters<SignJWT['sign']>[0] = central.privateKey, timeoutMs = 30_000) => {
    const transaction = randomUUID();
    await central_.publishAsync(`${BASE}/bridge/request/${cmd}`, JSON.stringify({ token: await sign(key, cmd, data), transaction }), { qos: 1 });
    const end = Date.now() + timeoutMs;
    while (!responses.has(transaction)) {
      if (Date.now() > end) throw new Error(`no response to ${cmd}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return responses.get(transaction)!;
  };
  const until = async (what: string, ok: () => boolean) => {
    const end = Date.now() + 10_000;
    while (!ok()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  // The device subscribes once connected: a status request answered means commands are live.
  await until('the device to connect', () => app.eventsStage?.bridge.connected === true);
  let status: Awaited<ReturnType<typeof ask>> | undefined;
  for (let i = 0; !status && i < 20; i++) status = await ask('status', {}, central.privateKey, 500).catch(() => undefined);
  return { app, ask, until, seen, status, central, forger, sign };
}

test('remote commands in the daemon: signed person/enrol enrols through the quality gate, forged ones are refused and audited, person/remove erases everywhere; Home Assistant follows', { skip, timeout: 120_000 }, async (t) => {
  const { app, ask, until, seen, status, forger } = await site(t);
  assert.equal(status?.status, 'ok');
  assert.equal(status.data.device, 'gate-1');
  assert.deepEqual(status.data.mqtt, { enabled: true, connected: true, reconnects: 0 });
  assert.match(String(status.data.summary), /0\/0 cameras streaming/, 'the same status as the control socket gives');

  const photo = readFileSync(media(ENROL)).toString('base64');
  const probe = async () => {
    const [face] = await app.analyzer.analyze(await decodeImageFile(media(PROBE)), { embed: true });
    return app.gallery.identify(face!.embedding!, app.currentConfig.recognition, 1);
  };
  assert.equal((await probe()).match, null, 'nobody is enrolled yet');

  // A forged request never runs: error response, refusal audited, nothing stored.
  const forged = await ask('person/enrol', { person_id: 'emp-1', name: 'Angelina', images: [photo] }, forger.privateKey);
  assert.equal(forged.status, 'error');
  assert.match(String(forged.error), /bad signature/);
  assert.equal(app.gallery.store.findPerson('emp-1'), undefined);
  const refusal = new CommandAudit(app.gallery.db).recent().find((a) => a.outcome === 'refused');
  assert.equal(refusal?.command, 'person/enrol');
  assert.match(String(refusal?.reason), /bad signature/);

  // A photo without a face goes through the same gate as `person add` and is refused with why.
  const blank = (await sharp({ create: { width: 320, height: 320, channels: 3, background: '#7a8a9a' } }).jpeg().toBuffer()).toString('base64');
  const noFace = await ask('person/enrol', { person_id: 'emp-2', images: [blank] });
  assert.equal(noFace.status, 'error');
  assert.match(String(noFace.error), /no usable face for emp-2: image 1: no face found/);
  assert.equal(noFace.code, 'FG_ERR_ENROL_NO_FACE', 'an error answer carries its code');
  assert.equal(app.gallery.store.findPerson('emp-2'), undefined);

  const enrolled = await ask('person/enrol', { person_id: 'emp-1', name: 'Angelina', group: 'staff', images: [photo, blank] });
  assert.equal(enrolled.status, 'ok', enrolled.error);
  assert.equal(enrolled.data.templates, 1);
  assert.deepEqual((enrolled.data.refused as { image: string; reason: string }[]).map((r) => [r.image, r.reason]), [['image 2', 'no_face']]);
  const person = app.gallery.store.findPerson('emp-1');
  assert.equal(person?.id, 'emp-1', 'the central id is the gallery id, so attendance events name it');
  assert.equal(person?.group, 'staff');
  const match = await probe();
  assert.equal(match.match?.personId, 'emp-1', 'another photo of her is identified');
  // Named by id: the retained config on the broker never carries her name unless the site asks.
  await until('the presence entity', () => seen.some((m) => m.topic.endsWith('/presence_emp-1/config') && m.payload.includes('"emp-1 present"')));
  assert.ok(!seen.some((m) => m.payload.includes('Angelina')), 'no name on the broker');

  // A live recognition becomes attendance with its sealed proof, and Home Assistant presence ON.
  const thumbnail = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#000' } }).jpeg().toBuffer();
  await app.bus.emit('track', { type: 'recognized', camera: 'door', track: 1, t: 1, atMs: Date.now(), person: { id: 'emp-1', name: 'Angelina' }, score: 0.8, margin: 0.5, live: true, named_t: 0.5, blink_t: 0.5, antispoof: 0.9, liveness: { score: 4.6, blink: 4.6, structure: 0, passive: 0, surround: 0, screen: 0, stereo: 0 }, assurance: 'live', face_px: 160, thumbnail });
  const count = (table: string) => (app.gallery.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
  assert.equal(count('attendance_days'), 1);
  assert.equal(count('attendance_proofs'), 1);
  await until('presence ON', () => seen.some((m) => m.topic === `${BASE}/presence/emp-1` && JSON.parse(m.payload).state === 'ON'));
  // The same decision from the app bus as a per-track event and the camera's last decision, by id only.
  await until('the track event', () => seen.some((m) => m.topic === `${BASE}/door/events` && JSON.parse(m.payload).person_id === 'emp-1'));
  await until('the last decision', () => seen.some((m) => m.topic === `${BASE}/door/last` && JSON.parse(m.payload).live === true));
  assert.ok(!seen.some((m) => !m.topic.startsWith('frigate/') && m.payload.includes('Angelina')), 'no name in track events either');
  // Home Assistant: where and when (retained), the device trigger's decision and the face, not retained.
  await until('the last sighting', () => seen.some((m) => m.topic === `${BASE}/presence/emp-1/last_seen` && m.retain && JSON.parse(m.payload).camera === 'door'));
  await until('the decision', () => seen.some((m) => m.topic === `${BASE}/door/decision` && !m.retain && JSON.parse(m.payload).type === 'recognized'));
  await until('the face', () => seen.some((m) => m.topic === `${BASE}/door/image` && !m.retain));
  // Opted in, Frigate's face shape with her name, as Frigate's own automations read it.
  await until('the Frigate face', () => seen.some((m) => m.topic === 'frigate/tracked_object_update'));
  const frigate = JSON.parse(seen.find((m) => m.topic === 'frigate/tracked_object_update')!.payload) as Record<string, unknown>;
  assert.deepEqual([frigate.type, frigate.name, frigate.camera, frigate.score], ['face', 'Angelina', 'door', 0.8], 'the Frigate face update');

  // The one erase answer of every door (service/person-answers.ts), with the person_id docs/mqtt.md names the command by.
  const removed = await ask('person/remove', { person_id: 'emp-1' });
  assert.deepEqual(removed.data, { person_id: 'emp-1', id: 'emp-1', removed: true, templates: 1, thumbnails: 1, attendanceDays: 1, proofs: 1 });
  assert.equal(app.gallery.store.findPerson('emp-1'), undefined);
  assert.equal((await probe()).match, null, 'no longer identified');
  assert.equal(count('attendance_days'), 0, 'attendance goes with the person');
  assert.equal(count('attendance_proofs'), 0, 'and so do the proofs');
  const erase = app.audit.recent().find((a) => a.action === 'person.erase');
  assert.equal(erase?.target, 'emp-1');
  // The actor is the command: the id (jti) of the token it came with, as its command_audit row names it.
  const removeRow = new CommandAudit(app.gallery.db).recent().find((r) => r.command === 'person/remove' && r.outcome === 'ok');
  assert.equal(erase?.actor, `mqtt:${removeRow?.jti}`);
  await until('the empty config that deletes the entity', () => seen.some((m) => m.topic.endsWith('/presence_emp-1/config') && m.payload === '' && m.retain));
  await until('the last sighting cleared', () => seen.some((m) => m.topic === `${BASE}/presence/emp-1/last_seen` && m.payload === ''));
  // No one of that id: an error answer with the code every door gives it, nothing removed.
  const nobody = await ask('person/remove', { person_id: 'emp-1' });
  assert.deepEqual([nobody.status, nobody.code, nobody.data], ['error', 'FG_ERR_PERSON_NOT_FOUND', {}]);
  assert.match(String(nobody.error), /no person with id or external id emp-1/);

  // The Prometheus counter: the forged request as unauthenticated, the face-less enrolment and the erase of no one as failed.
  const metrics = app.metrics.text();
  assert.match(metrics, /facegate_command_requests_total\{outcome="unauthenticated"\} 1\n/);
  assert.match(metrics, /facegate_command_requests_total\{outcome="failed"\} 2\n/);
  assert.match(metrics, /facegate_command_requests_total\{outcome="retained"\} 0\n/);

  const audit = new CommandAudit(app.gallery.db).recent();
  assert.deepEqual(audit.map((a) => [a.command, a.outcome]).filter(([c]) => c !== 'status').reverse(), [
    ['person/enrol', 'refused'],
    ['person/enrol', 'failed'],
    ['person/enrol', 'ok'],
    ['person/remove', 'ok'],
    ['person/remove', 'failed'],
  ]);
});

test('a gallery command whose answer cannot be written leaves no effect: enrol stores nothing and is not recognised, remove keeps the person; both answer the failure', { skip, timeout: 120_000 }, async (t) => {
  const { app, ask } = await site(t);
  const db = app.gallery.db;
  // A real failure of the outbox insert, in SQLite itself: the answer of a gallery command that ran
  // ('ok' audit row just written in the same transaction) is refused; the failure's answer is not.
  const failAnswers = () =>
    db.exec(`CREATE TEMP TRIGGER fail_ok_answer BEFORE INSERT ON main.outbox
      WHEN NEW.topic LIKE '%/bridge/response/person/%' AND (SELECT outcome FROM main.command_audit ORDER BY id DESC LIMIT 1) = 'ok'
      BEGIN SELECT RAISE(ABORT, 'injected: the outbox refused the answer'); END`);
  const probe = async () => {
    const [face] = await app.analyzer.analyze(await decodeImageFile(media(PROBE)), { embed: true });
    return app.gallery.identify(face!.embedding!, app.currentConfig.recognition, 1).match?.personId ?? null;
  };
  const photo = readFileSync(media(ENROL)).toString('base64');

  failAnswers();
  const enrol = await ask('person/enrol', { person_id: 'emp-1', name: 'Angelina', images: [photo] });
  assert.equal(enrol.status, 'error');
  assert.equal(enrol.code, 'FG_ERR_COMMAND_FAILED');
  assert.match(String(enrol.error), /injected: the outbox refused the answer/);
  assert.equal(app.gallery.store.findPerson('emp-1'), undefined, 'no row of the enrolment stayed');
  assert.equal(await probe(), null, 'and the matcher never learnt her face');
  db.exec('DROP TRIGGER temp.fail_ok_answer');

  assert.equal((await ask('person/enrol', { person_id: 'emp-1', name: 'Angelina', images: [photo] })).status, 'ok');
  assert.equal(await probe(), 'emp-1');
  failAnswers();
  const remove = await ask('person/remove', { person_id: 'emp-1' });
  assert.equal(remove.status, 'error');
  assert.equal(remove.code, 'FG_ERR_COMMAND_FAILED');
  assert.ok(app.gallery.store.findPerson('emp-1'), 'the erase was rolled back with its answer');
  assert.equal(await probe(), 'emp-1', 'and she is still recognised');
  assert.equal(app.audit.recent().filter((a) => a.action === 'person.erase').length, 0, 'no erase in the audit log either');
  db.exec('DROP TRIGGER temp.fail_ok_answer');
  assert.deepEqual((await ask('person/remove', { person_id: 'emp-1' })).data, { person_id: 'emp-1', id: 'emp-1', removed: true, templates: 1, thumbnails: 1, attendanceDays: 0, proofs: 0 });
  assert.equal(await probe(), null);

  const audit = new CommandAudit(db).recent().filter((a) => a.command !== 'status').reverse();
  assert.deepEqual(audit.map((a) => [a.command, a.outcome]), [
    ['person/enrol', 'failed'],
    ['person/enrol', 'ok'],
    ['person/remove', 'failed'],
    ['person/remove', 'ok'],
  ]);
});
