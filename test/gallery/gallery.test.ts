import '../support/fast-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { Sqlite } from '../../daemon/store/sqlite.js';
import { Gallery } from '../../daemon/gallery/gallery.js';
import { createKeyFile, replacementKeyFile } from '../../daemon/gallery/key-source.js';
import { loadSodium } from '../../daemon/gallery/sodium.js';
import { verifyGallery } from '../../daemon/service/verify-sealed.js';
import { rotateKeys } from '../../daemon/service/rotate-keys.js';
import { exportedPersons, exportGallery } from '../../daemon/gallery/transfer.js';
import { AuditLog } from '../../daemon/service/audit.js';
import { PersonService } from '../../daemon/service/persons.js';
import { defaultConfig } from '../../daemon/config/load.js';
import { FacegateError } from '../../daemon/base/errors.js';
import { enrolled, fileBytes, floatBytes, keyOptions, leaks, memoryLogger, NAMES, near, open, storePerson, tempDir, unitVector, unstorePerson } from './helpers.js';

const RULES = { threshold: 0.42, margin: 0.05 };
const code = (c: string) => (e: unknown) => e instanceof FacegateError && e.code === c;
test('enrolled persons are identified with a margin; a stranger is unknown', async (t) => {
  const f = await enrolled(t);
  const g = await open(f);
  t.after(() => g.close());
  NAMES.forEach((name, i) => {
    const probe = near(unitVector(i + 1), 500 + i, 0.7);
    const r = g.identify(probe, RULES, 3);
    assert.equal(r.decision, 'match', name);
    assert.equal(r.match?.personId, f.ids[i]);
    assert.equal(r.candidates[0]?.name, name);
    assert.ok(r.margin >= RULES.margin);
  });
  const stranger = g.identify(unitVector(999), RULES, 3);
  assert.equal(stranger.decision, 'unknown');
  assert.equal(stranger.match, null);
});

test('no enrolled vector, name, external id or group is in the database or its -wal in plaintext', async (t) => {
  const f = await enrolled(t);
  const g = await open(f);
  storePerson(g, { name: 'Frances Allen', externalId: 'EMP-2000' }); // leaves a live -wal
  const bytes = fileBytes(f.dbPath);
  g.close();
  assert.ok(bytes.length > 0);
  for (const v of f.enrolled) assert.equal(leaks(bytes, floatBytes(v)), false, 'embedding bytes found');
  for (const text of [...NAMES, 'Frances Allen', 'EMP-1000', 'EMP-2000', 'staff', 'JPEG of', '-0.jpg']) {
    assert.equal(bytes.includes(Buffer.from(text)), false, `${text} found in the file`);
  }
});

test('the external id is found through its keyed hash', async (t) => {
  const f = await enrolled(t);
  const g = await open(f);
  t.after(() => g.close());
  assert.equal(g.store.findPerson('EMP-1002')?.name, NAMES[2]);
  assert.equal(g.store.findPerson('EMP-9999'), undefined);
  assert.throws(() => storePerson(g, { name: 'dup', externalId: 'EMP-1002' }), code('FG_ERR_PERSON_EXISTS'));
});

test('a wrong key or no key is refused with a message and changes nothing', async (t) => {
  const f = await enrolled(t);
  const sodium = await loadSodium();
  const other = f.d.path('other.key');
  createKeyFile(sodium, other);
  const before = readFileSync(f.dbPath);
  await assert.rejects(open(f, other), (e: unknown) => code('FG_ERR_GALLERY_KEY_WRONG')(e) && /does not open/.test((e as Error).message));
  await assert.rejects(
    Gallery.open({ path: f.dbPath, keys: keyOptions(f.d.path('absent.key')), logger: memoryLogger().logger }),
    (e: unknown) => code('FG_ERR_GALLERY_KEY_MISSING')(e) && /tried/.test((e as Error).message),
  );
  await assert.rejects(
    Gallery.open({ path: f.dbPath, keys: keyOptions(f.d.path('absent.key'), { FACEGATE_PASSPHRASE: 'guess' }), logger: memoryLogger().logger }),
    code('FG_ERR_GALLERY_KEY_WRONG'),
  );
  assert.deepEqual(readFileSync(f.dbPath), before);
  assert.equal(existsSync(f.d.path('absent.key')), false);
});

test('a missing gallery is not created without a key, nor by read-only opens', async (t) => {
  const d = tempDir(t);
  const path = d.path('facegate.db');
  await assert.rejects(Gallery.open({ path, keys: keyOptions(d.path('none')), logger: memoryLogger().logger, create: true }), code('FG_ERR_GALLERY_KEY_MISSING'));
  await assert.rejects(Gallery.open({ path, keys: keyOptions(d.path('none')), logger: memoryLogger().logger }), code('FG_ERR_GALLERY_MISSING'));
  assert.equal(existsSync(path), false);
});

test('a passphrase opens a gallery made with it (Argon2id), and only it', async (t) => {
  const d = tempDir(t);
  const path = d.path('facegate.db');
  const keys = keyOptions(d.path('none'), { FACEGATE_PASSPHRASE: 'correct horse battery staple' });
  const g = await Gallery.open({ path, keys, logger: memoryLogger().logger, create: true });
  storePerson(g, { name: 'Ada' });
  g.close();
  const again = await Gallery.open({ path, keys, logger: memoryLogger().logger });
  assert.equal(again.store.listPersons().persons[0]?.name, 'Ada');
  again.close();
  await assert.rejects(
    Gallery.open({ path, keys: keyOptions(d.path('none'), { FACEGATE_PASSPHRASE: 'wrong' }), logger: memoryLogger().logger }),
    code('FG_ERR_GALLERY_KEY_WRONG'),
  );
});

/** Flips one byte inside a sealed cell, as an attacker with the file (or a bad disk) would. */
function flipByte(dbPath: string, sql: string, id: number | string, column: string): void {
  const db = new Sqlite(dbPath);
  const row = db.prepare(sql).get(id) as Record<string, Buffer>;
  const value = Buffer.from(row[column]!);
  value[value.length - 5]! ^= 0x01;
  db.prepare(`UPDATE ${sql.match(/FROM (\w+)/)![1]} SET ${column} = ? WHERE id = ?`).run(value, id);
  db.close();
}

test('a flipped byte is found by verify with its row and person; its person is quarantined, identify goes on for everyone else', async (t) => {
  const f = await enrolled(t);
  const db = new Sqlite(f.dbPath);
  const target = db.prepare('SELECT id FROM templates WHERE person_id = ? ORDER BY id').all(f.ids[1]) as Array<{ id: number }>;
  db.close();
  flipByte(f.dbPath, 'SELECT embedding FROM templates WHERE id = ?', target[0]!.id, 'embedding');
  flipByte(f.dbPath, 'SELECT name FROM persons WHERE id = ?', f.ids[3]!, 'name');

  const { logger, lines } = memoryLogger();
  const g = await Gallery.open({ path: f.dbPath, keys: keyOptions(f.keyFile), logger });
  t.after(() => g.close());
  const report = verifyGallery(g.db, g.sealer);
  assert.deepEqual(
    report.damaged.map((r) => [r.table, r.column, r.rowId, r.personId]),
    [
      ['persons', 'name', f.ids[3], f.ids[3]],
      ['templates', 'embedding', target[0]!.id, f.ids[1]],
    ].sort((a, b) => (a[0]! < b[0]! ? -1 : 1)),
  );
  assert.deepEqual(report.integrity, []);
  assert.equal(g.damaged.length, 2);
  assert.ok(lines.some((l) => l.includes('failed authentication')));
  // The others are still identified; person 1 is quarantined whole, their undamaged template too.
  for (const i of [0, 2, 4]) assert.equal(g.identify(near(unitVector(i + 1), 600 + i, 0.7), RULES, 3).match?.personId, f.ids[i]);
  assert.notEqual(g.identify(near(unitVector(2), 700, 0.7), RULES, 3).match?.personId, f.ids[1]);
  assert.deepEqual(g.quarantined().map((q) => q.personId).sort(), [f.ids[1], f.ids[3]].sort());
});

test('a sealed cell copied onto another person is detected (associated data binds the row)', async (t) => {
  const f = await enrolled(t);
  const db = new Sqlite(f.dbPath);
  const a = db.prepare('SELECT name FROM persons WHERE id = ?').get(f.ids[0]) as { name: Buffer };
  db.prepare('UPDATE persons SET name = ? WHERE id = ?').run(a.name, f.ids[1]);
  // and a template moved to another person
  db.prepare('UPDATE templates SET person_id = ? WHERE id = (SELECT MIN(id) FROM templates WHERE person_id = ?)').run(f.ids[2], f.ids[3]);
  db.close();
  const g = await open(f);
  t.after(() => g.close());
  const damaged = verifyGallery(g.db, g.sealer).damaged;
  assert.ok(damaged.some((r) => r.table === 'persons' && r.personId === f.ids[1]));
  assert.ok(damaged.some((r) => r.table === 'templates' && r.personId === f.ids[2]));
  assert.equal(g.store.findPerson(f.ids[0]!)?.name, NAMES[0]);
});

test('rotation round trip: the new key file opens, the old one does not, with and without re-encryption', async (t) => {
  const f = await enrolled(t);
  const sodium = await loadSodium();
  for (const reencrypt of [false, true]) {
    const oldKey = readFileSync(f.keyFile);
    const g = await open(f);
    const replacement = replacementKeyFile(sodium, f.keyFile);
    const result = rotateKeys({ db: g.db, sodium, oldKek: g.kek, unlocked: g.key, newKek: replacement.kek, reencrypt, install: replacement.install, now: () => new Date() });
    assert.equal(result.resealed > 0, reencrypt);
    g.close();
    assert.notDeepEqual(readFileSync(f.keyFile), oldKey);
    const again = await open(f);
    assert.equal(again.identify(near(unitVector(3), 800, 0.7), RULES, 3).match?.personId, f.ids[2]);
    assert.equal(again.store.findPerson('EMP-1004')?.name, NAMES[4]);
    assert.equal(verifyGallery(again.db, again.sealer).damaged.length, 0);
    again.close();
    const oldCopy = f.d.path(`old-${reencrypt}.key`);
    (await import('node:fs')).writeFileSync(oldCopy, oldKey, { mode: 0o600 });
    await assert.rejects(open(f, oldCopy), code('FG_ERR_GALLERY_KEY_WRONG'));
  }
});

test('rotation interrupted before the new key is installed leaves the gallery open with the old key', async (t) => {
  const f = await enrolled(t);
  const sodium = await loadSodium();
  const g = await open(f);
  const replacement = replacementKeyFile(sodium, f.keyFile);
  assert.throws(() =>
    rotateKeys({ db: g.db, sodium, oldKek: g.kek, unlocked: g.key, newKek: replacement.kek, reencrypt: true, install: () => { throw new Error('power cut'); }, now: () => new Date() }),
  /power cut/);
  g.close();
  // Old key file still in place and still opens; the new one (key.new) opens too.
  const withOld = await open(f);
  assert.equal(withOld.identify(near(unitVector(1), 900, 0.7), RULES, 3).match?.personId, f.ids[0]);
  withOld.close();
  const withNew = await open(f, `${f.keyFile}.new`);
  assert.equal(withNew.store.listPersons().persons.length, NAMES.length);
  withNew.close();
});

test('export, import into a fresh gallery with another key: identify still right; wrong passphrase refused', async (t) => {
  const f = await enrolled(t);
  const sodium = await loadSodium();
  const g = await open(f);
  const exported = exportGallery(g, 'export pass');
  g.close();
  assert.equal(exported.persons, NAMES.length);
  assert.equal(exported.templates, NAMES.length * 2);
  for (const name of NAMES) assert.equal(exported.bytes.includes(Buffer.from(name)), false);
  for (const v of f.enrolled) assert.equal(leaks(exported.bytes, floatBytes(v)), false);

  const otherKey = f.d.path('box2.key');
  createKeyFile(sodium, otherKey);
  const box2 = await Gallery.open({ path: f.d.path('box2.db'), keys: keyOptions(otherKey), logger: memoryLogger().logger, create: true });
  t.after(() => box2.close());
  assert.throws(() => exportedPersons(sodium, exported.bytes, 'wrong', 'x.fgx'), code('FG_ERR_EXPORT_PASSPHRASE'));
  const tampered = Buffer.from(exported.bytes);
  tampered[tampered.length - 10]! ^= 1;
  assert.throws(() => exportedPersons(sodium, tampered, 'export pass', 'x.fgx'), code('FG_ERR_EXPORT_PASSPHRASE'));
  // Written by the person service, as `facegate gallery import` does: one audited write a person.
  const audit = new AuditLog(box2.db);
  const persons = new PersonService({ gallery: box2, analyzer: { analyze: () => Promise.reject(new Error('an import analyses no photo')) }, gate: defaultConfig().gallery.enrol, recognition: RULES, audit });
  const by = { actor: 'cli:test', role: 'admin' } as const;
  const result = await persons.importPersons(exportedPersons(sodium, exported.bytes, 'export pass', 'x.fgx'), by);
  assert.deepEqual([result.persons, result.templates, result.skipped.length], [NAMES.length, NAMES.length * 2, 0]);
  NAMES.forEach((name, i) => {
    const r = box2.identify(near(unitVector(i + 1), 1000 + i, 0.7), RULES, 3);
    assert.equal(r.match?.personId, f.ids[i]);
    assert.equal(r.candidates[0]?.name, name);
  });
  assert.equal(box2.store.findPerson('EMP-1003')?.name, NAMES[3]);
  // Importing again skips those already there.
  assert.equal((await persons.importPersons(exportedPersons(sodium, exported.bytes, 'export pass', 'x.fgx'), by)).skipped.length, NAMES.length);
  assert.deepEqual(
    audit.recent(100).reverse().map((e) => `${e.actor} ${e.action} ${e.outcome}`),
    NAMES.map(() => 'cli:test person.import ok'),
    'one entry per person written, none for those skipped',
  );
});

test('remove erases the person: no trace of their rows in the file or the -wal, and they are no longer matched', async (t) => {
  const f = await enrolled(t);
  const db = new Sqlite(f.dbPath, { readonly: true });
  const victim = f.ids[2]!;
  const sealed = [
    ...(db.prepare('SELECT embedding AS v FROM templates WHERE person_id = ?').all(victim) as Array<{ v: Buffer }>),
    ...(db.prepare('SELECT source AS v FROM templates WHERE person_id = ?').all(victim) as Array<{ v: Buffer }>),
    ...(db.prepare('SELECT jpeg AS v FROM thumbnails WHERE person_id = ?').all(victim) as Array<{ v: Buffer }>),
    ...(db.prepare('SELECT name AS v FROM persons WHERE id = ?').all(victim) as Array<{ v: Buffer }>),
    ...(db.prepare('SELECT external_id_hash AS v FROM persons WHERE id = ?').all(victim) as Array<{ v: Buffer }>),
  ].map((r) => r.v);
  db.close();
  const g = await open(f);
  const before = fileBytes(f.dbPath);
  assert.ok(sealed.every((s) => leaks(before, s)), 'the scan finds the rows before removal');
  assert.ok(before.includes(Buffer.from(victim)));
  assert.deepEqual(unstorePerson(g, victim), { templates: 2, thumbnails: 2 });
  assert.equal(g.identify(unitVector(3), RULES, 3).match, null);
  g.close();
  const after = fileBytes(f.dbPath);
  for (const s of sealed) assert.equal(leaks(after, s), false, 'a sealed cell of the removed person is still in the file');
  assert.equal(after.includes(Buffer.from(victim)), false, 'the person id is still in the file');
  const again = await open(f);
  assert.equal(again.store.listPersons().persons.length, NAMES.length - 1);
  again.close();
});
