// Tampering with the clear-text parts of a real gallery file (lookup hashes, foreign keys, NULLs),
// as someone with write access to the file would: every change is refused or reported.
import '../support/cli-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { copyFileSync } from 'node:fs';
import { Sqlite, type Database } from '../../daemon/store/sqlite.js';
import { FacegateError } from '../../daemon/base/errors.js';
import { Gallery } from '../../daemon/gallery/gallery.js';
import { createKeyFile } from '../../daemon/gallery/key-source.js';
import type { CellRef } from '../../daemon/gallery/seal.js';
import { loadSodium } from '../../daemon/gallery/sodium.js';
import { cli, enrolled, fileBytes, keyOptions, memoryLogger, NAMES, near, open, storePerson, tempDir, unitVector, unstorePerson, type Fixture } from './helpers.js';

const code = (c: string) => (e: unknown) => e instanceof FacegateError && e.code === c;

/** Runs SQL on the file as an attacker would: no facegate, no key. */
function tamper(f: Fixture, fn: (db: Database) => void): void {
  const db = new Sqlite(f.dbPath);
  try {
    fn(db);
  } finally {
    db.close();
  }
}

function swapExternalIdHashes(f: Fixture, a: string, b: string): void {
  tamper(f, (db) => {
    const hash = (id: string) => (db.prepare('SELECT external_id_hash AS h FROM persons WHERE id = ?').get(id) as { h: Buffer }).h;
    const [ha, hb] = [hash(a), hash(b)];
    // The column is UNIQUE: park one value while the other moves.
    db.prepare('UPDATE persons SET external_id_hash = NULL WHERE id = ?').run(a);
    db.prepare('UPDATE persons SET external_id_hash = ? WHERE id = ?').run(ha, b);
    db.prepare('UPDATE persons SET external_id_hash = ? WHERE id = ?').run(hb, a);
  });
}

const keyArgs = (f: Fixture) => ['--gallery', f.dbPath, '--key-file', f.keyFile];

test('swapped external id hashes: person remove by external id is refused and erases no one', async (t) => {
  const f = await enrolled(t);
  swapExternalIdHashes(f, f.ids[0]!, f.ids[1]!);
  const r = await cli(['person', 'remove', 'EMP-1000', ...keyArgs(f)]);
  assert.notEqual(r.rc, 0);
  assert.match(r.stderr, /FG_ERR_GALLERY_LOOKUP/);
  assert.match(r.stderr, /nothing was changed/);
  tamper(f, (db) => {
    assert.equal((db.prepare('SELECT COUNT(*) AS n FROM persons').get() as { n: number }).n, NAMES.length);
    assert.equal((db.prepare('SELECT COUNT(*) AS n FROM templates').get() as { n: number }).n, NAMES.length * 2);
  });
  const g = await open(f);
  t.after(() => g.close());
  assert.throws(() => g.store.findPerson('EMP-1001'), code('FG_ERR_GALLERY_LOOKUP'));
  // An untouched row is still found by its external id.
  assert.equal(g.store.findPerson('EMP-1002')?.name, NAMES[2]);
});

const RULES = { threshold: 0.42, margin: 0.05 };

/** The two template ids of each enrolled person, in enrolment order. */
function templateIds(f: Fixture): number[][] {
  const db = new Sqlite(f.dbPath, { readonly: true });
  try {
    return f.ids.map((id) => (db.prepare('SELECT id FROM templates WHERE person_id = ? ORDER BY id').all(id) as Array<{ id: number }>).map((r) => r.id));
  } finally {
    db.close();
  }
}

/** Person 0's row deleted behind the foreign keys, person 1's name flipped, persons 2 and 3 with swapped lookup hashes. */
function orphanEveryWay(f: Fixture): void {
  tamper(f, (db) => {
    db.pragma('foreign_keys = OFF');
    db.prepare('DELETE FROM persons WHERE id = ?').run(f.ids[0]);
    const name = Buffer.from((db.prepare('SELECT name FROM persons WHERE id = ?').get(f.ids[1]) as { name: Buffer }).name);
    name[name.length - 3]! ^= 0x01;
    db.prepare('UPDATE persons SET name = ? WHERE id = ?').run(name, f.ids[1]);
  });
  swapExternalIdHashes(f, f.ids[2]!, f.ids[3]!);
}

test('templates without an authentic person are never matched, and are logged once with their count', async (t) => {
  const f = await enrolled(t);
  orphanEveryWay(f);
  const { logger, lines } = memoryLogger();
  const g = await open(f, f.keyFile, logger);
  t.after(() => g.close());
  for (const i of [0, 1, 2, 3]) {
    const r = g.identify(near(unitVector(i + 1), 500 + i, 0.9), RULES, 3);
    assert.equal(r.match, null, `person ${i} has no authentic row but was matched`);
    assert.ok(r.candidates.every((c) => c.personId !== f.ids[i]));
  }
  assert.equal(g.identify(near(unitVector(5), 504, 0.9), RULES, 3).match?.personId, f.ids[4]);
  assert.equal(g.matcher.size, 2);
  const orphanLines = lines.filter((l) => l.includes('without an authentic person'));
  assert.equal(orphanLines.length, 1);
  assert.equal(JSON.parse(orphanLines[0]!).templates, 8);
});

test('gallery verify names each swapped hash, orphan template and moved template, and exits non-zero', async (t) => {
  const f = await enrolled(t);
  const tids = templateIds(f);
  orphanEveryWay(f);
  // A template of person 4 moved onto person 1's row is bound to person 4 by its seal.
  tamper(f, (db) => db.prepare('UPDATE templates SET person_id = ? WHERE id = ?').run(f.ids[1], tids[4]![0]));

  const json = await cli(['gallery', 'verify', ...keyArgs(f), '--json']);
  assert.equal(json.rc, 1);
  const report = JSON.parse(json.stdout) as {
    ok: boolean;
    damaged: Array<{ table: string; column: string; row: string | number; person: string }>;
    lookup: Array<{ row: string; person: string }>;
    orphans: Array<{ row: number; person: string; reason: string }>;
  };
  assert.equal(report.ok, false);
  assert.deepEqual(
    report.damaged.map((d) => [d.table, d.column, d.row, d.person]),
    [
      ['persons', 'name', f.ids[1], f.ids[1]],
      ['templates', 'embedding', tids[4]![0], f.ids[1]],
      ['templates', 'source', tids[4]![0], f.ids[1]],
    ],
  );
  assert.deepEqual(report.lookup.map((l) => l.row).sort(), [f.ids[2], f.ids[3]].sort());
  assert.deepEqual(
    report.orphans.map((o) => [o.row, o.person, o.reason]),
    [
      [tids[0]![0], f.ids[0], 'no_person'],
      [tids[0]![1], f.ids[0], 'no_person'],
      [tids[1]![0], f.ids[1], 'person_not_authentic'],
      [tids[1]![1], f.ids[1], 'person_not_authentic'],
      [tids[2]![0], f.ids[2], 'person_not_authentic'],
      [tids[2]![1], f.ids[2], 'person_not_authentic'],
      [tids[3]![0], f.ids[3], 'person_not_authentic'],
      [tids[3]![1], f.ids[3], 'person_not_authentic'],
      [tids[4]![0], f.ids[1], 'person_not_authentic'],
    ],
  );

  const text = await cli(['gallery', 'verify', ...keyArgs(f)]);
  assert.equal(text.rc, 1);
  assert.match(text.stdout, new RegExp(`^LOOKUP persons.external_id_hash row ${f.ids[2]} \\(person ${f.ids[2]}\\): not the hash of the sealed external id of its row$`, 'm'));
  assert.match(text.stdout, new RegExp(`^ORPHAN templates row ${tids[0]![0]} \\(person ${f.ids[0]}\\): no such person$`, 'm'));
  assert.match(text.stdout, new RegExp(`^ORPHAN templates row ${tids[1]![0]} \\(person ${f.ids[1]}\\): its person fails authentication$`, 'm'));
  assert.match(text.stdout, new RegExp(`^DAMAGED templates.embedding row ${tids[4]![0]} \\(person ${f.ids[1]}\\)$`, 'm'));
  assert.match(text.stdout, /^FAILED: .*3 damaged, 0 NULL, 2 lookup mismatches, 0 malformed, 9 orphan templates, 1 cross-person links$/m);
});

test('a NULLed sealed cell is reported by verify, the person is left out, and a lookup through it is refused', async (t) => {
  const f = await enrolled(t);
  const tids = templateIds(f);
  tamper(f, (db) => {
    // Erasing a group, or an external id together with its hash, would silently change who the
    // person is for shift rules and remote commands.
    db.prepare('UPDATE persons SET grp = NULL WHERE id = ?').run(f.ids[0]);
    db.prepare('UPDATE persons SET external_id = NULL, external_id_hash = NULL WHERE id = ?').run(f.ids[1]);
    db.prepare('UPDATE persons SET external_id = NULL WHERE id = ?').run(f.ids[2]);
  });
  const v = await cli(['gallery', 'verify', ...keyArgs(f), '--json']);
  assert.equal(v.rc, 1);
  const report = JSON.parse(v.stdout) as { nulls: Array<{ table: string; column: string; row: string }>; orphans: Array<{ row: number; reason: string }> };
  assert.deepEqual(
    report.nulls.map((n) => [n.table, n.column, n.row]),
    [
      ['persons', 'grp', f.ids[0]],
      ['persons', 'external_id', f.ids[1]],
      ['persons', 'external_id', f.ids[2]],
    ].sort((a, b) => (a[2]! < b[2]! ? -1 : 1)),
  );
  assert.deepEqual(report.orphans.map((o) => o.row).sort((a, b) => a - b), [...tids[0]!, ...tids[1]!, ...tids[2]!].sort((a, b) => a - b));
  const text = await cli(['gallery', 'verify', ...keyArgs(f)]);
  assert.match(text.stdout, new RegExp(`^NULL persons.grp row ${f.ids[0]} \\(person ${f.ids[0]}\\): its sealed value was erased$`, 'm'));

  const r = await cli(['person', 'remove', 'EMP-1002', ...keyArgs(f)]);
  assert.notEqual(r.rc, 0);
  assert.match(r.stderr, /FG_ERR_GALLERY_TAMPER: .*persons.external_id .*empty \(NULL\)/);
  const g = await open(f);
  t.after(() => g.close());
  assert.deepEqual(g.store.listPersons().persons.map((p) => p.id), f.ids.slice(3));
  assert.equal(g.identify(near(unitVector(1), 500, 0.9), RULES, 3).match, null);
});

test('persons without an external id or group: absence is sealed too, so only tampering leaves a NULL', async (t) => {
  const f = await enrolled(t);
  const g = await open(f);
  const { person: plain } = storePerson(g, { name: 'Frances Allen' });
  g.store.setGroup(f.ids[0]!, null);
  assert.deepEqual([plain.externalId, plain.group], [null, null]);
  g.close();
  const v = await cli(['gallery', 'verify', ...keyArgs(f)]);
  assert.equal(v.rc, 0, v.stdout);
  // Re-encryption re-seals the absent values and keeps their lookup hash absent.
  const rotated = await cli(['keys', 'rotate', '--reencrypt', ...keyArgs(f)]);
  assert.equal(rotated.rc, 0, rotated.stderr);
  const after = await cli(['gallery', 'verify', ...keyArgs(f)]);
  assert.equal(after.rc, 0, after.stdout);
  tamper(f, (db) => {
    const row = db.prepare('SELECT external_id, grp FROM persons WHERE id = ?').get(plain.id) as { external_id: Buffer | null; grp: Buffer | null };
    assert.ok(row.external_id && row.grp, 'absent values are stored sealed, not as NULL');
    db.prepare('UPDATE persons SET grp = NULL WHERE id = ?').run(f.ids[0]);
  });
  const again = await cli(['gallery', 'verify', ...keyArgs(f), '--json']);
  assert.equal(again.rc, 1);
  assert.deepEqual((JSON.parse(again.stdout) as { nulls: Array<{ row: string }> }).nulls.map((n) => n.row), [f.ids[0]]);
});

test('keys rotate --reencrypt refuses a gallery with a NULLed cell and changes nothing', async (t) => {
  const f = await enrolled(t);
  tamper(f, (db) => db.prepare('UPDATE persons SET grp = NULL WHERE id = ?').run(f.ids[3]));
  const before = fileBytes(f.dbPath);
  const r = await cli(['keys', 'rotate', '--reencrypt', ...keyArgs(f)]);
  assert.notEqual(r.rc, 0);
  assert.match(r.stderr, /FG_ERR_ROTATE_DAMAGED: .*persons.grp .*empty \(NULL\)/);
  assert.ok(fileBytes(f.dbPath).equals(before), 'the file changed');
});

/** A person row exactly as facegate wrote it before absence was sealed: NULL for none, no row format. */
function insertLegacyPerson(g: Gallery, p: { name: string; externalId?: string; group?: string }): string {
  const id = randomUUID();
  const ref = (column: string): CellRef => ({ table: 'persons', column, rowId: id, personId: id });
  const seal = (column: string, text: string | undefined) => (text ? Buffer.from(g.sealer.sealText(ref(column), text)) : null);
  const hash = p.externalId ? Buffer.from(g.sealer.hashExternalId(p.externalId)) : null;
  g.db
    .prepare("INSERT INTO persons (id, external_id_hash, external_id, name, grp, created_at, updated_at) VALUES (?, ?, ?, ?, ?, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')")
    .run(id, hash, seal('external_id', p.externalId), seal('name', p.name), seal('grp', p.group));
  return id;
}

test('a gallery written before absence was sealed opens as it was, is upgraded once, and then detects a NULL', async (t) => {
  const d = tempDir(t);
  createKeyFile(await loadSodium(), d.path('gallery.key'));
  const f: Fixture = { d, dbPath: d.path('facegate.db'), keyFile: d.path('gallery.key'), ids: [], enrolled: [] };
  const g = await Gallery.open({ path: f.dbPath, keys: keyOptions(f.keyFile), logger: memoryLogger().logger, create: true });
  const ada = insertLegacyPerson(g, { name: 'Ada Lovelace', externalId: 'EMP-1', group: 'staff' });
  const grace = insertLegacyPerson(g, { name: 'Grace Hopper' });
  g.store.insertTemplates(ada, [{ embedding: unitVector(1), quality: 0.9, source: 'ada.jpg', model: 'test' }]);
  g.store.insertTemplates(grace, [{ embedding: unitVector(2), quality: 0.9, source: 'grace.jpg', model: 'test' }]);
  g.close();

  const first = memoryLogger();
  const upgraded = await open(f, f.keyFile, first.logger);
  assert.deepEqual(
    upgraded.store.listPersons().persons.map((p) => [p.id, p.name, p.externalId, p.group]),
    [
      [ada, 'Ada Lovelace', 'EMP-1', 'staff'],
      [grace, 'Grace Hopper', null, null],
    ].sort((a, b) => (a[0]! < b[0]! ? -1 : 1)),
  );
  assert.equal(upgraded.damaged.length, 0);
  assert.equal(upgraded.identify(unitVector(2), RULES, 1).match?.personId, grace);
  assert.equal(upgraded.store.findPerson('EMP-1')?.id, ada);
  upgraded.close();
  assert.equal(JSON.parse(first.lines.find((l) => l.includes('person rows upgraded'))!).persons, 2);

  const second = memoryLogger();
  (await open(f, f.keyFile, second.logger)).close();
  assert.equal(second.lines.some((l) => l.includes('upgraded')), false, 'upgraded twice');
  assert.equal((await cli(['gallery', 'verify', ...keyArgs(f)])).rc, 0);

  tamper(f, (db) => db.prepare('UPDATE persons SET grp = NULL WHERE id = ?').run(grace));
  const v = await cli(['gallery', 'verify', ...keyArgs(f), '--json']);
  assert.equal(v.rc, 1);
  assert.deepEqual((JSON.parse(v.stdout) as { nulls: Array<{ column: string; row: string }> }).nulls, [{ table: 'persons', column: 'grp', row: grace, person: grace }]);
});

test("gallery verify reports a thumbnail pointed at another person's template", async (t) => {
  const f = await enrolled(t);
  const tids = templateIds(f);
  let thumb = 0;
  tamper(f, (db) => {
    // Export finds a template's thumbnail through this clear-text column; the thumbnail's seal binds its person, not its template.
    thumb = (db.prepare('SELECT id FROM thumbnails WHERE template_id = ?').get(tids[0]![0]) as { id: number }).id;
    db.prepare('UPDATE thumbnails SET template_id = ? WHERE id = ?').run(tids[1]![0], thumb);
  });
  const v = await cli(['gallery', 'verify', ...keyArgs(f), '--json']);
  assert.equal(v.rc, 1);
  assert.deepEqual((JSON.parse(v.stdout) as { links: unknown[] }).links, [{ table: 'thumbnails', row: thumb, person: f.ids[0], template: tids[1]![0], template_person: f.ids[1] }]);
  const text = await cli(['gallery', 'verify', ...keyArgs(f)]);
  assert.match(text.stdout, new RegExp(`^LINK thumbnails row ${thumb} \\(person ${f.ids[0]}\\): its template ${tids[1]![0]} belongs to person ${f.ids[1]}$`, 'm'));
});

test('rollback: rows put back from an older copy pass verify under the same data key; after keys rotate --reencrypt the copy does not open and its rows are DAMAGED', async (t) => {
  const f = await enrolled(t);
  const old = f.d.path('old.db');
  copyFileSync(f.dbPath, old);
  const g = await open(f);
  unstorePerson(g, f.ids[0]!);
  g.close();
  const putBack = () =>
    tamper(f, (db) => {
      db.prepare('ATTACH DATABASE ? AS old').run(old);
      db.prepare('INSERT INTO persons SELECT * FROM old.persons WHERE id = ?').run(f.ids[0]);
      db.prepare('INSERT INTO templates SELECT * FROM old.templates WHERE person_id = ?').run(f.ids[0]);
    });
  const removeAgain = () => tamper(f, (db) => db.prepare('DELETE FROM persons WHERE id = ?').run(f.ids[0]));

  // The documented limit: the same key seals the old rows, and their places are unchanged.
  putBack();
  assert.equal((await cli(['gallery', 'verify', ...keyArgs(f)])).rc, 0);
  removeAgain();

  const rotated = await cli(['keys', 'rotate', '--reencrypt', ...keyArgs(f)]);
  assert.equal(rotated.rc, 0, rotated.stderr);
  const wholeCopy = await cli(['person', 'list', '--gallery', old, '--key-file', f.keyFile]);
  assert.notEqual(wholeCopy.rc, 0);
  assert.match(wholeCopy.stderr, /FG_ERR_GALLERY_KEY_WRONG/);
  putBack();
  const v = await cli(['gallery', 'verify', ...keyArgs(f), '--json']);
  assert.equal(v.rc, 1);
  const damaged = (JSON.parse(v.stdout) as { damaged: Array<{ person: string }> }).damaged;
  assert.ok(damaged.length > 0 && damaged.every((d) => d.person === f.ids[0]));
  const again = await open(f);
  t.after(() => again.close());
  assert.equal(again.identify(near(unitVector(1), 500, 0.9), RULES, 3).match, null);
});
