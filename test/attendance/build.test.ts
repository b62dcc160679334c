import '../support/fast-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { Value } from '@sinclair/typebox/value';
import { parseConfig } from '../../daemon/config/load.js';
import { openDatabase } from '../../daemon/store/database.js';
import { createAttendance } from '../../daemon/attendance/build.js';
import { ShiftRulesPatchSchema, type ShiftRulesPatch } from '../../daemon/attendance/rules-holder.js';
import { Outbox } from '../../daemon/events/outbox.js';
import { EventWriter } from '../../daemon/events/writer.js';
import { createSigner } from '../../daemon/events/signing.js';
import { ensureDeviceKey } from '../../daemon/events/device-key.js';
import { uuidv7Generator } from '../../daemon/base/uuidv7.js';
import { createCommandRouter } from '../../daemon/remote/build.js';
import { MqttBridge } from '../../daemon/events/bridge.js';
import mqtt from 'mqtt';
import type { FacegateError } from '../../daemon/base/errors.js';
import { quietLogger, testSealer } from '../support/events-stack.js';
import { FakePersons, noReviews } from '../support/fake-persons.js';

function parts(t: { after(fn: () => void): void }, yaml: string) {
  const dir = mkdtempSync(join(tmpdir(), 'fg-build-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = parseConfig(yaml, 'test.yaml');
  const path = join(dir, 'state.db');
  const open = () => openDatabase(path);
  const db = open();
  const key = ensureDeviceKey(join(dir, 'device.key')).key;
  const writer = new EventWriter({ outbox: new Outbox(db, { maxEvents: 1000, maxBytes: 1 << 20 }, testSealer()), signer: createSigner(key), deviceId: 'd', baseTopic: 'facegate/d', timeZone: 'UTC', newId: uuidv7Generator(), now: Date.now, logger: quietLogger() });
  const sealer = { seal: (_r: unknown, b: Uint8Array) => b, open: (_r: unknown, b: Uint8Array) => b };
  const build = (database = db) => createAttendance({ config: config.attendance, doors: config.doors, db: database, writer, sealer, cellSealer: sealer, roster: () => [], logger: quietLogger() });
  return { dir, config, db, open, build, writer };
}

test('camera roles come from the config; unlisted cameras take the default role', (t) => {
  const p = parts(t, 'attendance:\n  camera_roles: { out: exit }\n  default_camera_role: entry\n');
  const { stage } = p.build();
  const inAt = Date.parse('2026-01-12T08:00:00Z');
  assert.equal(stage.onRecognized({ personId: 'a', camera: 'lobby', atMs: inAt, assurance: 'live' })[0]?.kind, 'check_in');
  assert.equal(stage.onRecognized({ personId: 'a', camera: 'out', atMs: inAt + 3_600_000, assurance: 'live' })[0]?.kind, 'check_out');
  p.db.close();
});

test("each camera's requirement comes from the config: its own, else its door's, else the site's (live by default)", (t) => {
  const p = parts(
    t,
    [
      'cameras:',
      '  - { name: front-left, url: rtsp://127.0.0.1/a }',
      '  - { name: front-right, url: rtsp://127.0.0.1/b }',
      '  - { name: lobby, url: rtsp://127.0.0.1/c }',
      '  - { name: yard, url: rtsp://127.0.0.1/d }',
      'doors:',
      '  - { name: front, cameras: [front-left, front-right] }',
      'attendance:',
      '  door_require: { front: stereo }',
      '  camera_require: { front-right: recognised, yard: recognised }',
    ].join('\n'),
  );
  assert.equal(p.config.attendance.require, 'live', "today's rule is the default");
  const { stage } = p.build();
  const inAt = Date.parse('2026-01-12T08:00:00Z');
  const made = (personId: string, camera: string, assurance: 'stereo' | 'live' | 'recognised') => stage.onRecognized({ personId, camera, atMs: inAt, assurance }).map((d) => d.kind);
  // front-left: the door's stereo.
  assert.deepEqual(made('a', 'front-left', 'live'), []);
  assert.deepEqual(made('a', 'front-left', 'stereo'), ['check_in']);
  // front-right: its own, over its door's.
  assert.deepEqual(made('b', 'front-right', 'recognised'), ['check_in']);
  // lobby: the site's.
  assert.deepEqual(made('c', 'lobby', 'recognised'), []);
  assert.deepEqual(made('c', 'lobby', 'live'), ['check_in']);
  // yard: in no door, its own.
  assert.deepEqual(made('d', 'yard', 'recognised'), ['check_in']);
  p.db.close();
});

test('shift rules set remotely survive a restart and keep the configured time zone', (t) => {
  const p = parts(t, 'attendance:\n  time_zone: Europe/Berlin\n');
  const first = p.build();
  const patch = Value.Default(ShiftRulesPatchSchema, { shifts: { night: { start: '22:00', end: '06:00' } }, holidays: ['2026-12-25'] });
  assert.ok(Value.Check(ShiftRulesPatchSchema, patch));
  first.rules.replace(patch as ShiftRulesPatch);
  p.db.close();
  const db = p.open();
  t.after(() => db.close());
  const again = p.build(db).rules.current();
  assert.equal(again.shifts.night?.start, '22:00');
  assert.equal(again.shifts.night?.grace_min, 5, 'defaults filled');
  assert.ok(again.holidays.has('2026-12-25'));
  assert.equal(again.timeZone, 'Europe/Berlin');
});

test('an unknown time zone stops the stage from being built', (t) => {
  const p = parts(t, 'attendance:\n  time_zone: Mars/Base\n');
  assert.throws(() => p.build(), (e: FacegateError) => e.code === 'FG_ERR_CONFIG');
  p.db.close();
});

test('commands: off by default (refusing, without a key); on without a central key is refused; a PEM key loads', (t) => {
  const p = parts(t, '');
  const bridge = new MqttBridge({ url: 'mqtt://127.0.0.1:1', options: {}, baseTopic: 'facegate/d', reconnect: { minMs: 10, maxMs: 10 }, connect: mqtt.connect, logger: quietLogger() });
  const base = { identity: { deviceId: 'd', baseTopic: 'facegate/d', clientId: 'c' }, db: p.db, writer: p.writer, bridge, logger: quietLogger(), deps: { persons: new FakePersons(), setShiftRules: () => ({ groups: [] }), status: () => ({}), replay: () => ({}), reviews: noReviews } };
  // Off, a router still subscribes and refuses every request FG_ERR_COMMANDS_OFF (test/events/commands.test.ts); no key needed.
  assert.ok(createCommandRouter({ ...base, config: p.config.mqtt }));
  const on = parseConfig('mqtt:\n  commands: { enabled: true }\n', 't.yaml').mqtt;
  assert.throws(() => createCommandRouter({ ...base, config: on }), (e: FacegateError) => e.code === 'FG_ERR_CENTRAL_KEY');
  const pem = join(p.dir, 'central.pem');
  writeFileSync(pem, generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }));
  assert.ok(createCommandRouter({ ...base, config: parseConfig(`mqtt:\n  commands: { enabled: true, central_public_key: ${pem} }\n`, 't.yaml').mqtt }));
  const rsa = join(p.dir, 'rsa.pem');
  writeFileSync(rsa, generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }));
  assert.throws(() => createCommandRouter({ ...base, config: parseConfig(`mqtt:\n  commands: { enabled: true, central_public_key: ${rsa} }\n`, 't.yaml').mqtt }), /Ed25519/);
  p.db.close();
});
