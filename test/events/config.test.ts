import '../support/fast-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../daemon/config/load.js';
import { checkAttendanceConfig } from '../../daemon/attendance/config.js';
import { openDatabase } from '../../daemon/store/database.js';
import { FacegateError } from '../../daemon/base/errors.js';

test('attendance and mqtt sections parse with defaults and reject unknown keys with their path', () => {
  const c = parseConfig('attendance:\n  time_zone: Europe/Berlin\n  camera_roles: { gate: entry }\n  shifts:\n    night: { start: "22:00", end: "06:00" }\nmqtt:\n  url: mqtts://broker:8883\n', 'test.yaml');
  assert.equal(c.attendance.cooldown_s, 300);
  assert.equal(c.attendance.shifts.night?.grace_min, 5);
  assert.ok(c.attendance.shifts.default, "'default' group always present");
  assert.equal(c.mqtt.session_expiry_s, 604800);
  assert.equal(c.mqtt.outbox.max_events, 200000);
  assert.throws(() => parseConfig('mqtt:\n  passwrd: x\n', 't.yaml'), /mqtt\.passwrd: unknown key/);
  assert.throws(() => parseConfig('attendance:\n  shifts: { a: { start: "25:00" } }\n', 't.yaml'), /attendance\.shifts\.a\.start/);
  assert.throws(() => parseConfig('mqtt:\n  url: http://x\n', 't.yaml'), /mqtt\.url/);
});

test('an unknown IANA time zone is refused naming the key', () => {
  const c = parseConfig('attendance:\n  time_zone: Europe/Atlantis\n', 't.yaml');
  assert.throws(() => checkAttendanceConfig(c.attendance), (e: FacegateError) => e.code === 'FG_ERR_CONFIG' && e.message.includes('attendance.time_zone'));
  assert.doesNotThrow(() => checkAttendanceConfig(parseConfig('attendance:\n  time_zone: America/New_York\n', 't.yaml').attendance));
});

test('the state file migrates to the outbox, replay-cache, audit and attendance tables', () => {
  const db = openDatabase(':memory:');
  const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name);
  for (const t of ['outbox', 'outbox_counts', 'outbox_dropped', 'command_replay', 'command_audit', 'attendance_days', 'attendance_proofs', 'attendance_absences']) assert.ok(tables.includes(t), t);
  db.close();
});

test('Home Assistant names people and shows faces unless turned off; the Frigate output is off, on its default topic, and refuses a wildcard or $ topic', () => {
  const c = parseConfig('mqtt: {}\n', 't.yaml');
  assert.deepEqual([c.mqtt.homeassistant.person_names, c.mqtt.homeassistant.camera_images, c.mqtt.homeassistant.image_max_kb], [true, true, 64], 'Home Assistant defaults');
  assert.deepEqual(c.mqtt.frigate, { enabled: false, topic: 'frigate/tracked_object_update' }, 'Frigate defaults');
  assert.equal(parseConfig('mqtt: { frigate: { enabled: true, topic: site/tracked_object_update } }\n', 't.yaml').mqtt.frigate.topic, 'site/tracked_object_update', 'a topic of its own');
  for (const topic of ['"frigate/#"', 'frigate/+/x', '"$SYS/x"', '""']) {
    assert.throws(() => parseConfig(`mqtt: { frigate: { topic: ${topic} } }\n`, 't.yaml'), /mqtt\.frigate\.topic/, `${topic} refused`);
  }
  assert.throws(() => parseConfig('mqtt: { homeassistant: { image_max_kb: 1000 } }\n', 't.yaml'), /mqtt\.homeassistant\.image_max_kb/, 'the face bound is bounded');
});
