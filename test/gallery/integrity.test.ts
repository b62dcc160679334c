// Tampering with the clear-text parts of a real gallery file (lookup hashes, foreign keys, NULLs),
// as someone with write access to the file would: every change is refused or reported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import BetterSqlite3 from 'better-sqlite3';
import { FacegateError } from '../../daemon/errors.js';
import { cli, enrolled, NAMES, open, type Fixture } from './helpers.js';

const code = (c: string) => (e: unknown) => e instanceof FacegateError && e.code === c;

/** Runs SQL on the file as an attacker would: no facegate, no key. */
function tamper(f: Fixture, fn: (db: BetterSqlite3.Database) => void): void {
  const db = new BetterSqlite3(f.dbPath);
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
