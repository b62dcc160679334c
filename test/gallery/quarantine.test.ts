// A gallery file with a row damaged each way (flipped, NULLed, copied from another row, copied from
// another box, lookup hash swapped), read by the built CLI as an operator would: every damaged row
// is listed, everyone else still works, and a quarantined person can be removed by their uuid.
import '../support/cli-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sqlite } from '../../daemon/store/sqlite.js';
import { cli, damageEachWay, enrolled, memoryLogger, NAMES, open, type Fixture } from './helpers.js';

const keyArgs = (f: Fixture) => ['--gallery', f.dbPath, '--key-file', f.keyFile];

interface Row {
  table: string;
  column: string;
  row: string | number;
  person: string;
}

test('gallery verify lists every damaged row, one way each, and exits 1; person list shows the rest and names the damaged', async (t) => {
  const f = await enrolled(t);
  damageEachWay(f, await enrolled(t));

  const json = await cli(['gallery', 'verify', ...keyArgs(f), '--json']);
  assert.equal(json.rc, 1, json.stderr);
  const report = JSON.parse(json.stdout) as { ok: boolean; damaged: Row[]; nulls: Row[]; lookup: Row[] };
  const cells = (rows: Row[]) => rows.map((r) => `${r.table}.${r.column} ${r.person}`);
  assert.equal(report.ok, false);
  // Rows are reported in id order, and person ids are random (UUIDv4): compared as sets.
  assert.deepEqual(cells(report.damaged).sort(), [`persons.name ${f.ids[0]}`, `persons.name ${f.ids[2]}`, `templates.embedding ${f.ids[3]}`].sort(), 'flipped, copied from a row, copied from another box');
  assert.deepEqual(cells(report.nulls), [`persons.grp ${f.ids[1]}`]);
  assert.deepEqual(cells(report.lookup), [`persons.external_id_hash ${f.ids[3]}`]);

  const text = await cli(['gallery', 'verify', ...keyArgs(f)]);
  assert.equal(text.rc, 1);
  assert.equal(text.stderr.includes('ReferenceError'), false, text.stderr);
  assert.match(text.stdout, new RegExp(`^DAMAGED persons.name row ${f.ids[0]} \\(person ${f.ids[0]}\\)$`, 'm'));
  assert.match(text.stdout, new RegExp(`^NULL persons.grp row ${f.ids[1]} \\(person ${f.ids[1]}\\)`, 'm'));
  assert.match(text.stdout, new RegExp(`^LOOKUP persons.external_id_hash row ${f.ids[3]} `, 'm'));

  const list = await cli(['person', 'list', ...keyArgs(f)]);
  assert.equal(list.rc, 1, 'a damaged row makes the listing fail');
  assert.match(list.stdout, new RegExp(`^${f.ids[4]}  ${NAMES[4]}  \\[EMP-1004\\]`, 'm'), 'the intact person is listed');
  for (const id of f.ids.slice(0, 4)) assert.match(list.stdout, new RegExp(`^${id}  DAMAGED `, 'm'));
  assert.match(list.stdout, /^1 person\(s\), 4 damaged: run 'facegate gallery verify'$/m);
});

test('person remove: a quarantined person goes by uuid; by a swapped external id it is refused and nothing changes', async (t) => {
  const f = await enrolled(t);
  damageEachWay(f, await enrolled(t));
  const count = (sql: string) => {
    const db = new Sqlite(f.dbPath, { readonly: true });
    try {
      return (db.prepare(sql).get() as { n: number }).n;
    } finally {
      db.close();
    }
  };

  const swapped = await cli(['person', 'remove', 'EMP-1003', ...keyArgs(f)]);
  assert.equal(swapped.rc, 1);
  assert.match(swapped.stderr, /FG_ERR_GALLERY_TAMPER/, 'the hash leads to a damaged row: refused');
  assert.equal(count('SELECT COUNT(*) AS n FROM persons'), NAMES.length);

  for (const id of f.ids.slice(0, 4)) {
    const r = await cli(['person', 'remove', id, ...keyArgs(f), '--json']);
    assert.equal(r.rc, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { removed: true, id, templates: 2, thumbnails: 2, attendanceDays: 0, proofs: 0 });
  }
  assert.equal(count('SELECT COUNT(*) AS n FROM persons'), 1);
  assert.equal(count('SELECT COUNT(*) AS n FROM templates'), 2);
  const verify = await cli(['gallery', 'verify', ...keyArgs(f)]);
  assert.equal(verify.rc, 0, verify.stdout);
});

test('the gallery quarantines each damaged person whole, a damaged template included, and matches the intact one', async (t) => {
  const f = await enrolled(t);
  damageEachWay(f, await enrolled(t));
  const log = memoryLogger();
  const g = await open(f, f.keyFile, log.logger);
  t.after(() => g.close());
  assert.deepEqual(
    g.quarantined().map((q) => [q.personId, q.cells.map((c) => `${c.kind} ${c.table}.${c.column}`)]),
    [
      [f.ids[0], ['damaged persons.name']],
      [f.ids[1], ['null persons.grp']],
      [f.ids[2], ['damaged persons.name']],
      [f.ids[3], ['lookup persons.external_id_hash', 'damaged templates.embedding']],
    ],
  );
  assert.equal(g.matcher.size, 2, "only the intact person's two templates are matched");
  const rules = { threshold: 0.42, margin: 0.05 };
  assert.equal(g.identify(f.enrolled[8]!, rules, 1).match?.personId, f.ids[4]);
  // Person 3's second template opened, but its person is quarantined: never matched.
  assert.equal(g.identify(f.enrolled[7]!, rules, 1).match, null);
  assert.match(log.lines.join(''), /persons quarantined/);
});
