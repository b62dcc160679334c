// The roster file's rules (service/roster-file.ts): the CSV read into rows, and photos matched to
// staff numbers by name. The command itself runs in roster-cli.test.ts.
import '../support/fast-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRoster, rosterPhotos } from '../../daemon/service/roster-file.js';
import { FacegateError } from '../../daemon/base/errors.js';

const rows = (text: string) => parseRoster(Buffer.from(text));

test('columns in any order under the names HR uses; quoted fields with commas, doubled quotes and line breaks; blank lines skipped', () => {
  const r = rows('Group , Employee ID,NAME,extra\r\n\r\nOps,E1,"Ng, ""Ann""",x\nSales,E2,"Bo\nLine",y\n,E3,Cy\n');
  assert.deepEqual(r[0], { ok: true, line: 3, name: 'Ng, "Ann"', staffNumber: 'E1', group: 'Ops' });
  assert.equal(r[1]!.ok, false, 'a line break is no part of a name');
  assert.equal(r[1]!.line, 4);
  assert.deepEqual(r[2], { ok: true, line: 6, name: 'Cy', staffNumber: 'E3' }, 'an empty group is none');
});

test('a semicolon-separated export is read when its header has no comma', () => {
  assert.deepEqual(rows('name;staff_no\nAnn;7\n'), [{ ok: true, line: 2, name: 'Ann', staffNumber: '7' }]);
});

test('a header without a name or staff number column is the whole file refused', () => {
  assert.throws(() => rows('name,group\nAnn,Ops\n'), (e) => e instanceof FacegateError && e.code === 'FG_ERR_ROSTER_INVALID' && /no staff number column/.test(e.message));
  assert.throws(() => rows(''), (e) => e instanceof FacegateError && e.code === 'FG_ERR_ROSTER_INVALID');
});

test('a row with more columns than allowed, or a field past the bound, is refused alone', () => {
  const wide = `${Array.from({ length: 70 }, () => 'x').join(',')}`;
  const r = rows(`name,id\n${wide}\n${'y'.repeat(5000)},E9\nAnn,E1\n`);
  assert.deepEqual(
    r.map((x) => (x.ok ? x.staffNumber : x.code)),
    ['FG_ERR_ROSTER_ROW', 'FG_ERR_ROSTER_ROW', 'E1'],
  );
});

test("photos: <staff number>.ext first, then _n in order; other names and extensions ignored; a staff number ending in _2 is its own", () => {
  const found = rosterPhotos(['E1', 'E1_2', 'E3'], ['E1_10.png', 'E1.JPEG', 'E1_3.jpg', 'E1_2.jpg', 'E3.gif', 'E3.txt', '.jpg', 'E1x.jpg', '../E3.jpg']);
  assert.deepEqual(Object.fromEntries(found), { E1: ['E1.JPEG', 'E1_3.jpg', 'E1_10.png'], E1_2: ['E1_2.jpg'] });
});
