// Escape sequences planted in the state file reach an operator's terminal only as escapes: a
// person row written straight into the SQLite file past the rules (as an older import let in), a
// template source, and an audit entry naming a control token's subject, read back through the
// built CLI as an operator runs it.
import '../support/cli-tier.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AuditLog } from '../../daemon/service/audit.js';
import { cli, enrolled, open, unitVector, type Fixture } from '../gallery/helpers.js';

/** What a terminal obeys: C0 and C1 controls, DEL, separators, bidirectional controls; the newlines ending the lines left out. */
const OBEYED = /[\p{Cc}\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;
const lines = (text: string) => text.replaceAll('\n', '');
const NAME = 'Eve\x1b]0;pwned\x07\x1b[2J\u202eNIMDA';
const keyArgs = (f: Fixture) => ['--gallery', f.dbPath, '--key-file', f.keyFile];

/** A person whose fields break today's rules, and an audit entry with a token subject full of escapes. */
async function plant(f: Fixture): Promise<string> {
  const g = await open(f);
  try {
    // The store writes what it is given: the rules are the person service's (service/person-input.ts).
    const person = g.store.insertPerson({ name: NAME, externalId: 'X\r\nY', group: 'staff\u009b8m' });
    g.store.insertTemplates(person.id, [{ embedding: unitVector(77), quality: 0.9, source: 'a.jpg\x1b[1A\x1b[2K', model: 'fr\x1b[5m', thumbnail: Buffer.from('jpeg') }]);
    new AuditLog(g.db).append({ actor: 'token:\x1b[31mroot\x1b[0m', role: 'admin', action: 'person.erase', target: '\u202elive', detail: { note: '\x1b[2J' }, outcome: 'ok' });
    return person.id;
  } finally {
    g.close();
  }
}

test('person list, show and photos, audit list and an error print the gallery, audit and token text escaped', async (t) => {
  const f = await enrolled(t);
  const id = await plant(f);
  const runs = {
    list: await cli(['person', 'list', ...keyArgs(f)]),
    listJson: await cli(['person', 'list', ...keyArgs(f), '--json']),
    show: await cli(['person', 'show', id, ...keyArgs(f)]),
    photos: await cli(['person', 'photos', id, ...keyArgs(f)]),
    audit: await cli(['audit', 'list', '--gallery', f.dbPath]),
    auditJson: await cli(['audit', 'list', '--gallery', f.dbPath, '--json']),
    error: await cli(['person', 'drop-photo', id, '999', ...keyArgs(f)]),
  };
  for (const [what, r] of Object.entries(runs)) {
    assert.doesNotMatch(lines(r.stdout), OBEYED, `${what}: stdout holds a raw control or bidirectional character: ${JSON.stringify(r.stdout)}`);
    assert.doesNotMatch(lines(r.stderr), OBEYED, `${what}: stderr holds a raw control or bidirectional character: ${JSON.stringify(r.stderr)}`);
  }
  const escapedName = 'Eve\\u001b]0;pwned\\u0007\\u001b[2J\\u202eNIMDA';
  assert.equal(runs.list.rc, 0, runs.list.stderr);
  assert.ok(runs.list.stdout.includes(`${id}  ${escapedName}  [X\\u000d\\u000aY]  (staff\\u009b8m)  1 template(s)\n`), runs.list.stdout);
  const listed = runs.listJson.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id: string; name: string; external_id: string });
  assert.deepEqual(listed.filter((p) => p.id === id).map((p) => [p.name, p.external_id]), [[NAME, 'X\r\nY']], 'the JSON means what is stored');
  assert.ok(runs.show.stdout.startsWith(`${escapedName}\n  id: ${id}\n  external id: X\\u000d\\u000aY\n  group: staff\\u009b8m\n`), runs.show.stdout);
  assert.match(runs.show.stdout, /#\d+ fr\\u001b\[5m quality 0.9/);
  assert.match(runs.photos.stdout, /quality 0.9 {2}a\.jpg\\u001b\[1A\\u001b\[2K {2}/);
  assert.match(runs.audit.stdout, /token:\\u001b\[31mroot\\u001b\[0m person\.erase \\u202elive {2}ok$/m);
  const entries = runs.auditJson.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { action: string; actor: string });
  assert.equal(entries.find((e) => e.action === 'person.erase')?.actor, 'token:\x1b[31mroot\x1b[0m', 'the JSON means what is stored');
  assert.equal(runs.error.rc, 1);
  assert.match(runs.error.stderr, new RegExp(`^FG_ERR_PHOTO_NOT_FOUND: ${escapedName.replace(/[\\[\]]/g, '\\$&')} has no photo 999`));
});
