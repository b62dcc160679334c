import '../support/fast-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../daemon/store/database.js';
import { checkMigrationList, migrate, schemaVersion, type Migration } from '../../daemon/store/migrate.js';
import { MIGRATIONS } from '../../daemon/store/migrations.js';
import { FacegateError } from '../../daemon/base/errors.js';
import { ATTENDANCE_ASSURANCE_MIGRATION } from '../../daemon/store/schema/attendance-assurance.js';
import { ATTENDANCE_DOORS_MIGRATION } from '../../daemon/store/schema/attendance-doors.js';
import { ATTENDANCE_LIVENESS_MIGRATION } from '../../daemon/store/schema/attendance-liveness.js';
import { AttendanceStore } from '../../daemon/attendance/store.js';
import { readHistory } from '../../daemon/attendance/history.js';
import { ArrivalStore } from '../../daemon/attendance/arrivals.js';
import { ATTENDANCE_PENDING_ARRIVAL_MIGRATION } from '../../daemon/store/schema/attendance-arrivals.js';
import { integrityProblems } from '../../daemon/store/database.js';
import { testSealer } from '../support/events-stack.js';

function tempDb(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'fg-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'facegate.db');
}

test('an empty file migrates to the newest version with WAL, foreign keys and secure_delete on', (t) => {
  const path = tempDb(t);
  const db = openDatabase(path);
  assert.equal(schemaVersion(db), MIGRATIONS.length);
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
  assert.equal(db.pragma('secure_delete', { simple: true }), 1);
  db.close();
});

test('every earlier version migrates forward to the newest, keeping its rows', (t) => {
  for (let from = 1; from < MIGRATIONS.length + 1; from++) {
    const path = tempDb(t);
    const old = openDatabase(path, { migrations: MIGRATIONS.slice(0, from) });
    assert.equal(schemaVersion(old), from);
    // A row every version since 1 has: the gallery's meta row.
    old.prepare("INSERT INTO gallery_meta (id, gallery_id, created_at) VALUES (1, 'g', 'now')").run();
    old.close();
    const db = openDatabase(path);
    assert.equal(schemaVersion(db), MIGRATIONS.length);
    assert.equal((db.prepare('SELECT gallery_id FROM gallery_meta').get() as { gallery_id: string }).gallery_id, 'g');
    db.close();
  }
});

test('a file from a newer facegate is refused, not downgraded', (t) => {
  const path = tempDb(t);
  const db = openDatabase(path);
  db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
  db.close();
  assert.throws(() => openDatabase(path), (e: unknown) => e instanceof FacegateError && e.code === 'FG_ERR_DB_TOO_NEW');
});

test('a failing step rolls back alone: the file stays at the last completed version', (t) => {
  const path = tempDb(t);
  const steps: Migration[] = [
    { version: 1, description: 'one', up: (db) => db.exec('CREATE TABLE a (x)') },
    { version: 2, description: 'two', up: (db) => { db.exec('CREATE TABLE b (x)'); throw new Error('boom'); } },
  ];
  const db = openDatabase(':memory:', { migrations: [] });
  assert.throws(() => migrate(db, steps, path), /boom/);
  assert.equal(schemaVersion(db), 1);
  assert.equal((db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'b'").get() as { n: number }).n, 0);
  db.close();
});

test('a migration list with a gap or out of order is refused', () => {
  const up = () => {};
  assert.throws(() => checkMigrationList([{ version: 2, description: 'x', up }]), /out of order/);
  assert.doesNotThrow(() => checkMigrationList(MIGRATIONS));
});

test('a file that is not SQLite is reported as such', (t) => {
  const path = tempDb(t);
  writeFileSync(path, Buffer.alloc(4096, 7));
  assert.throws(() => openDatabase(path), (e: unknown) => e instanceof FacegateError && e.code === 'FG_ERR_DB_CORRUPT');
});

test('mustExist refuses a missing file without creating it', (t) => {
  const path = tempDb(t);
  assert.throws(() => openDatabase(path, { mustExist: true }), (e: unknown) => e instanceof FacegateError && e.code === 'FG_ERR_DB_MISSING');
  assert.equal(existsSync(path), false);
});

test('beforeMigrate sees the file as it was, and a refusal there leaves it unmigrated', (t) => {
  const path = tempDb(t);
  const one: Migration = { version: 1, description: 'one', up: (db) => db.exec('CREATE TABLE a (x)') };
  const two: Migration = { version: 2, description: 'two', up: (db) => db.exec('CREATE TABLE b (x)') };
  openDatabase(path, { migrations: [one] }).close();
  assert.throws(
    () => openDatabase(path, { migrations: [one, two], beforeMigrate: (db) => { assert.equal(schemaVersion(db), 1); throw new FacegateError('FG_ERR_TEST', 'refused'); } }),
    /refused/,
  );
  const db = openDatabase(path, { migrations: [one] });
  assert.equal(schemaVersion(db), 1);
  assert.equal((db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'b'").get() as { n: number }).n, 0);
  db.close();
});

test('day records from before assurance read live, the one rule they were made under; the columns take nothing but an assurance', (t) => {
  const path = tempDb(t);
  const before = MIGRATIONS.indexOf(ATTENDANCE_ASSURANCE_MIGRATION);
  const old = openDatabase(path, { migrations: MIGRATIONS.slice(0, before) });
  const day = JSON.stringify({ scheduled: false, date: '2026-01-12', opensMs: 0, closesMs: 1 });
  const insert = old.prepare(`INSERT INTO attendance_days (person_id, date, record_id, group_name, day_json, check_in_ms, check_in_camera, check_out_ms, check_out_camera, last_seen_ms, last_seen_camera, check_out_settled, summarized, closes_ms)
                              VALUES (?, '2026-01-12', ?, NULL, ?, ?, 'gate', ?, ?, ?, 'gate', 1, 0, 1)`);
  insert.run('p1', 'r1', day, 1000, 2000, 'out', 2000);
  insert.run('p2', 'r2', day, 1000, null, null, 1500);
  old.close();
  const db = openDatabase(path);
  t.after(() => db.close());
  const store = new AttendanceStore(db);
  const [one, two] = [store.day('p1', '2026-01-12')!.record, store.day('p2', '2026-01-12')!.record];
  assert.deepEqual([one.checkInAssurance, one.checkOutAssurance, one.lastSeenAssurance], ['live', 'live', 'live']);
  assert.deepEqual([two.checkInAssurance, two.checkOutAssurance, two.lastSeenAssurance], ['live', null, 'live'], 'no check-out: none proven');
  assert.deepEqual(readHistory(db, { from: '2026-01-01', to: '2026-01-31', limit: 10, timeZone: 'UTC' }).map((d) => [d.person_id, d.check_in_assurance, d.check_out_assurance]), [['p1', 'live', 'live'], ['p2', 'live', null]]);
  assert.throws(() => db.prepare("UPDATE attendance_days SET check_in_assurance = 'certain' WHERE record_id = 'r1'").run(), /CHECK constraint failed/);
});

/**
 * A state file at the step before `step`, holding one day record as that step's schema had it (a
 * check-in at 'gate', live), then opened at the newest step: what the store reads of an old row.
 */
function oldDayRecord(t: { after(fn: () => void): void }, step: Migration): { db: ReturnType<typeof openDatabase>; store: AttendanceStore } {
  const path = tempDb(t);
  const old = openDatabase(path, { migrations: MIGRATIONS.slice(0, MIGRATIONS.indexOf(step)) });
  const day = JSON.stringify({ scheduled: false, date: '2026-01-12', opensMs: 0, closesMs: 1 });
  old.prepare(`INSERT INTO attendance_days (person_id, date, record_id, group_name, day_json, check_in_ms, check_in_camera, check_in_assurance, last_seen_ms, last_seen_camera, check_out_settled, summarized, closes_ms)
               VALUES ('p1', '2026-01-12', 'r1', NULL, ?, 1000, 'gate', 'live', 1000, 'gate', 1, 0, 1)`).run(day);
  old.close();
  const db = openDatabase(path);
  t.after(() => db.close());
  return { db, store: new AttendanceStore(db) };
}

test('day records from before doors name none, and read and save again as they were', (t) => {
  const { db, store } = oldDayRecord(t, ATTENDANCE_DOORS_MIGRATION);
  const record = store.day('p1', '2026-01-12')!.record;
  assert.deepEqual([record.checkInDoor, record.checkOutDoor, record.lastSeenDoor], [null, null, null]);
  store.save({ ...record, checkOutMs: 2000, checkOutCamera: 'front-left', checkOutDoor: 'front-door', checkOutAssurance: 'stereo' }, null);
  assert.deepEqual(readHistory(db, { from: '2026-01-01', to: '2026-01-31', limit: 10, timeZone: 'UTC' }).map((d) => [d.check_in_door, d.check_out_door]), [[null, 'front-door']]);
});

test("day records from before the cues' shares were kept have none, and take them for what is saved after", (t) => {
  const { db, store } = oldDayRecord(t, ATTENDANCE_LIVENESS_MIGRATION);
  const record = store.day('p1', '2026-01-12')!.record;
  assert.deepEqual([record.checkInLiveness, record.checkOutLiveness, record.lastSeenLiveness], [null, null, null]);
  const shares = { score: 4.4, blink: 0, structure: 0, passive: 0, surround: 0, screen: 0, stereo: 4.4 };
  store.save({ ...record, checkOutMs: 2000, checkOutCamera: 'front-left', checkOutDoor: 'front-door', checkOutAssurance: 'stereo', checkOutLiveness: shares }, null);
  assert.deepEqual(store.day('p1', '2026-01-12')!.record.checkOutLiveness, shares);
  assert.deepEqual(readHistory(db, { from: '2026-01-01', to: '2026-01-31', limit: 10, timeZone: 'UTC' }).map((d) => [d.check_in_liveness, d.check_out_liveness]), [[null, shares]]);
});

test("display tokens made before a display could show photos keep every field, and 'photo' is then a setting the file takes", (t) => {
  const path = tempDb(t);
  const before = MIGRATIONS.findIndex((m) => m.description.includes('show the greeted person'));
  assert.ok(before > 0);
  const old = openDatabase(path, { migrations: MIGRATIONS.slice(0, before) });
  old.prepare("INSERT INTO display_tokens (id, token_hash, target, show, label, created_ms, created_by) VALUES ('t1', 'h1', 'front', 'full_name', 'lobby', 5, 'cli:root')").run();
  assert.throws(() => old.prepare("INSERT INTO display_tokens (id, token_hash, target, show, created_ms, created_by) VALUES ('t2', 'h2', 'front', 'photo', 6, 'x')").run(), /CHECK/);
  old.close();
  const db = openDatabase(path);
  t.after(() => db.close());
  assert.deepEqual(db.prepare('SELECT id, token_hash, target, show, label, created_ms, created_by FROM display_tokens').all(), [{ id: 't1', token_hash: 'h1', target: 'front', show: 'full_name', label: 'lobby', created_ms: 5, created_by: 'cli:root' }]);
  db.prepare("INSERT INTO display_tokens (id, token_hash, target, show, created_ms, created_by) VALUES ('t2', 'h2', 'front', 'photo', 6, 'x')").run();
  assert.throws(() => db.prepare("INSERT INTO display_tokens (id, token_hash, target, show, created_ms, created_by) VALUES ('t3', 'h3', 'front', 'portrait', 7, 'x')").run(), /CHECK/);
  assert.throws(() => db.prepare("INSERT INTO display_tokens (id, token_hash, target, show, created_ms, created_by) VALUES ('t4', 'h1', 'hall', 'none', 8, 'x')").run(), /UNIQUE/, 'a token hash is still unique');
});

test('arrivals made when each person and day had one keep every row and sealed crop; then only a pending one holds the day, and crops still go with their arrival', (t) => {
  const path = tempDb(t);
  const before = MIGRATIONS.indexOf(ATTENDANCE_PENDING_ARRIVAL_MIGRATION);
  assert.equal(before, 24, 'the step after the withdrawn check-in one');
  const old = openDatabase(path, { migrations: MIGRATIONS.slice(0, before) });
  const sealer = testSealer();
  const kept = new ArrivalStore(old, sealer);
  const base = { group: null, camera: 'gate', track: 3, assurance: 'recognised' as const, required: 'live' as const, liveness: { score: 1.1, blink: 0 }, missing: ['blink'] };
  const face = (n: number) => new Uint8Array(Buffer.from(`jpeg ${n}`));
  kept.keep({ ...base, id: 'a-rejected', personId: 'p1', date: '2026-01-12', atMs: 1000 });
  kept.addCrop({ id: 'a-rejected', personId: 'p1', crops: 0 }, face(1));
  kept.decide({ id: 'a-rejected', status: 'rejected', reason: 'wrong_person', note: 'her brother', by: 'web:olga', atMs: 2000, recordId: null });
  kept.keep({ ...base, id: 'a-pending', personId: 'p2', date: '2026-01-12', atMs: 1500, group: 'staff', refused: 'held_picture', retracts: 'ev-1' });
  kept.addCrop({ id: 'a-pending', personId: 'p2', crops: 0 }, face(2));
  kept.addCrop({ id: 'a-pending', personId: 'p2', crops: 1 }, face(3));
  kept.keep({ ...base, id: 'a-confirmed', personId: 'p1', date: '2026-01-13', atMs: 90_000_000 });
  kept.decide({ id: 'a-confirmed', status: 'confirmed', reason: null, note: null, by: 'cli:root', atMs: 90_001_000, recordId: 'r1' });
  assert.equal(kept.keep({ ...base, id: 'a-second', personId: 'p1', date: '2026-01-12', atMs: 3000 }), false, 'step 24: one arrival per person and day, reviewed or not');
  const rows = (db: typeof old) => db.prepare('SELECT * FROM attendance_arrivals ORDER BY id').all();
  const crops = (db: typeof old) => db.prepare('SELECT * FROM attendance_arrival_crops ORDER BY arrival_id, n').all();
  const [rowsBefore, cropsBefore] = [rows(old), crops(old)];
  assert.equal(rowsBefore.length, 3);
  assert.equal(cropsBefore.length, 3);
  old.close();

  const db = openDatabase(path);
  t.after(() => db.close());
  assert.equal(schemaVersion(db), MIGRATIONS.length);
  assert.deepEqual(rows(db), rowsBefore, 'every row, every column, as it was');
  assert.deepEqual(crops(db), cropsBefore);
  assert.deepEqual(integrityProblems(db), []);
  assert.deepEqual((db.pragma('foreign_key_list(attendance_arrival_crops)') as { table: string; on_delete: string }[]).map((f) => [f.table, f.on_delete]), [['attendance_arrivals', 'CASCADE']]);
  const store = new ArrivalStore(db, sealer);
  assert.deepEqual(new Uint8Array(store.crop(store.get('a-pending')!, 2)!), face(3), 'sealed for the same arrival and person: they open as before');
  assert.equal(store.pendingOfDay('p2', '2026-01-12')!.id, 'a-pending');
  assert.equal(store.pendingOfDay('p1', '2026-01-12'), undefined);

  // The rejected arrival no longer holds p1's day; a second pending one does.
  assert.equal(store.keep({ ...base, id: 'a-again', personId: 'p1', date: '2026-01-12', atMs: 3000 }), true);
  assert.equal(store.keep({ ...base, id: 'a-third', personId: 'p1', date: '2026-01-12', atMs: 4000 }), false, 'one pending arrival per person and day');
  assert.throws(() => db.prepare("INSERT INTO attendance_arrivals (id, person_id, date, camera, at_ms, assurance, required, liveness, missing) VALUES ('x', 'p1', '2026-01-12', 'gate', 5, 'recognised', 'live', '{}', '[]')").run(), /UNIQUE/);
  assert.throws(() => db.prepare("UPDATE attendance_arrivals SET status = 'maybe' WHERE id = 'a-again'").run(), /CHECK/, 'the columns take what they took');
  assert.equal(store.list({ limit: 10 }).filter((a) => a.personId === 'p1' && a.date === '2026-01-12').length, 2);
  // Deleting an arrival still takes its crops (the foreign key followed the renamed table).
  db.prepare("DELETE FROM attendance_arrivals WHERE id = 'a-pending'").run();
  assert.deepEqual(crops(db).map((c) => (c as { arrival_id: string }).arrival_id), ['a-rejected']);
});
