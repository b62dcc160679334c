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
