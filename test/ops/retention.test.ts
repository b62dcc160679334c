import '../support/fast-tier.js';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { defaultConfig } from '../../daemon/config/load.js';
import { AuditLog } from '../../daemon/service/audit.js';
import { erasePersonRecords, purgeExpired } from '../../daemon/service/retention.js';
import { openDatabase } from '../../daemon/store/database.js';

const DAY = 86_400_000;
const NOW = Date.parse('2027-06-01T12:00:00Z');

function stateWith() {
  const db = openDatabase(join(mkdtempSync(join(tmpdir(), 'fg-retention-')), 'state.db'));
  const day = db.prepare(
    `INSERT INTO attendance_days (person_id, date, record_id, group_name, day_json, last_seen_ms, last_seen_camera, check_out_settled, summarized, closes_ms)
     VALUES (?, ?, ?, NULL, '{}', ?, 'door', 1, 1, ?)`,
  );
  const proof = db.prepare("INSERT INTO attendance_proofs (record_id, kind, at_ms, sealed) VALUES (?, 'check_in', ?, x'00')");
  const alert = db.prepare("INSERT INTO outbox (event_id, topic, payload, class, created_ms) VALUES (?, ?, x'7b7d', 'alert', ?)");
  day.run('emp-1', '2026-01-01', 'old-1', NOW - 500 * DAY, NOW - 500 * DAY);
  proof.run('old-1', NOW - 500 * DAY);
  day.run('emp-1', '2027-05-31', 'new-1', NOW - DAY, NOW - DAY);
  proof.run('new-1', NOW - DAY);
  day.run('emp-2', '2027-05-31', 'new-2', NOW - DAY, NOW - DAY);
  // What was withdrawn from a day or raised on it goes with the day.
  const retraction = db.prepare("INSERT INTO attendance_retractions (record_id, kind, at_ms, camera, track, reason, event_id, retracted_ms) VALUES (?, 'check_in', ?, 'door', 3, 'held_picture', 'e', ?)");
  const upgrade = db.prepare("INSERT INTO attendance_upgrades (record_id, kind, at_ms, camera, track, from_assurance, to_assurance, upgrades, event_id, upgraded_ms) VALUES (?, 'check_in', ?, 'door', 4, 'recognised', 'live', 'e1', 'e2', ?)");
  for (const [record, at] of [['old-1', NOW - 500 * DAY], ['new-1', NOW - DAY]] as const) {
    retraction.run(record, at, at);
    upgrade.run(record, at, at);
  }
  upgrade.run('new-2', NOW - DAY, NOW - DAY);
  const sighting = db.prepare('INSERT INTO attendance_cooldown (person_id, camera, at_ms) VALUES (?, ?, ?)');
  sighting.run('emp-1', 'door', NOW - DAY);
  sighting.run('emp-2', 'door', NOW - DAY);
  alert.run('a1', 'facegate/x/alerts/unknown', NOW - 40 * DAY);
  alert.run('a2', 'facegate/x/alerts/unknown', NOW - DAY);
  alert.run('a3', 'facegate/x/alerts/spoof', NOW - 40 * DAY);
  const command = db.prepare("INSERT INTO command_audit (at_ms, command, outcome, reason) VALUES (?, 'status', 'refused', 'bad signature')");
  command.run(NOW - 91 * DAY);
  command.run(NOW - 89 * DAY);
  const decision = db.prepare("INSERT INTO timeline (at_ms, camera, kind, person_id, detail) VALUES (?, 'door', 'recognized', ?, '{}')");
  decision.run(NOW - 31 * DAY, 'emp-2');
  decision.run(NOW - DAY, 'emp-1');
  decision.run(NOW - DAY, 'emp-2');
  return db;
}

const count = (db: ReturnType<typeof stateWith>, sql: string) => (db.prepare(sql).get() as { n: number }).n;

test('retention: old attendance with its proofs, old unknown-face alerts and old command audit rows go; recent ones and spoof alerts stay; the purge is audited', () => {
  const db = stateWith();
  const r = purgeExpired(db, defaultConfig().retention, NOW);
  assert.deepEqual(r, { attendanceDays: 1, proofs: 1, unknownAlerts: 1, unknownPersons: 0, timelineEntries: 1, arrivals: 0, auditEntries: 0, commandAudit: 1 });
  assert.deepEqual(db.prepare('SELECT at_ms FROM command_audit').all(), [{ at_ms: NOW - 89 * DAY }], 'command_audit_days (90) keeps the younger row');
  assert.equal(count(db, 'SELECT COUNT(*) AS n FROM attendance_days'), 2);
  assert.equal(count(db, "SELECT COUNT(*) AS n FROM attendance_proofs WHERE record_id = 'new-1'"), 1);
  assert.deepEqual(db.prepare('SELECT record_id FROM attendance_retractions').all(), [{ record_id: 'new-1' }], "an old day's withdrawal goes with it");
  assert.deepEqual(db.prepare('SELECT record_id FROM attendance_upgrades ORDER BY record_id').all(), [{ record_id: 'new-1' }, { record_id: 'new-2' }]);
  assert.deepEqual((db.prepare('SELECT event_id FROM outbox ORDER BY event_id').all() as { event_id: string }[]).map((x) => x.event_id), ['a2', 'a3']);
  const audit = new AuditLog(db);
  assert.equal(audit.recent(1)[0]!.action, 'retention.purge');
  assert.deepEqual(purgeExpired(db, defaultConfig().retention, NOW), { attendanceDays: 0, proofs: 0, unknownAlerts: 0, unknownPersons: 0, timelineEntries: 0, arrivals: 0, auditEntries: 0, commandAudit: 0 });
  assert.equal(audit.recent(10).length, 1, 'a purge that deleted nothing is not audited');
  db.close();
});

test('person erase: every attendance record and proof image of the person goes, then the gallery rows; others stay', () => {
  const db = stateWith();
  let removed = '';
  const r = erasePersonRecords(db, 'emp-1', (id) => ((removed = id), { templates: 2, thumbnails: 2 }));
  assert.deepEqual(r, { templates: 2, thumbnails: 2, attendanceDays: 2, proofs: 2 });
  assert.equal(removed, 'emp-1');
  assert.equal(count(db, "SELECT COUNT(*) AS n FROM attendance_days WHERE person_id = 'emp-1'"), 0);
  assert.equal(count(db, 'SELECT COUNT(*) AS n FROM attendance_proofs'), 0);
  assert.equal(count(db, "SELECT COUNT(*) AS n FROM attendance_days WHERE person_id = 'emp-2'"), 1);
  assert.deepEqual(db.prepare('SELECT person_id FROM attendance_cooldown').all(), [{ person_id: 'emp-2' }], "the cooldown's last sighting of the person goes too");
  assert.equal(count(db, 'SELECT COUNT(*) AS n FROM attendance_retractions'), 0, 'their withdrawals too');
  assert.deepEqual(db.prepare('SELECT record_id FROM attendance_upgrades').all(), [{ record_id: 'new-2' }], "and their upgrades; another person's stay");
  assert.deepEqual(db.prepare('SELECT DISTINCT person_id FROM timeline').all(), [{ person_id: 'emp-2' }], 'and the timeline entries naming them');
  db.close();
});
