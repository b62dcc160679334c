// Hostile gallery exports and the rows they once let in, through the built CLI on a real SQLite
// state file as an operator runs it. An export authenticates who made it (they hold the
// passphrase), not what it holds: each attack here is a file sealed with a known passphrase around
// a payload no facegate gallery would write. Import refuses it whole, naming the row, and leaves the
// gallery as it was; and a row such an import wrote before it was refused (planted here straight
// into the file) quarantines its person instead of stopping every command and the daemon.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { ensureDeviceKey } from '../../daemon/events/device-key.js';
import { loadSodium } from '../../daemon/gallery/sodium.js';
import { embeddingToBytes } from '../../daemon/gallery/seal.js';
import { galleryCellRef } from '../../daemon/gallery/sealed-cells.js';
import { sealExport, type ExportPayload } from '../../daemon/gallery/transfer.js';
import { Sqlite } from '../../daemon/store/sqlite.js';
import { DaemonProcess } from '../ops/daemon-harness.js';
import { cli, enrolled, NAMES, open, unitVector, type Fixture } from './helpers.js';

const PASSPHRASE = 'a passphrase the attacker chose';
const ENV = { FACEGATE_EXPORT_PASSPHRASE: PASSPHRASE };
/** libsodium's least key derivation: within what an import accepts, and quick to open. */
const CHEAP_KDF = { opslimit: 1, memlimit: 8192 };

type ExportedRow = ExportPayload['persons'][number];
type ExportedTemplate = ExportedRow['templates'][number];

const b64 = (v: Float32Array) => Buffer.from(embeddingToBytes(v)).toString('base64');

function template(over: Partial<ExportedTemplate> = {}): ExportedTemplate {
  return { model: 'fr_feature', embedding: b64(unitVector(41)), quality: 0.8, source: 'photo.jpg', thumbnail: null, ...over };
}

function row(over: Partial<ExportedRow> = {}): ExportedRow {
  return { id: randomUUID(), name: 'Lin Yutang', external_id: 'EMP-9001', group: 'staff', templates: [template()], ...over };
}

const keyArgs = (f: Fixture) => ['--gallery', f.dbPath, '--key-file', f.keyFile];

/** An export sealed under PASSPHRASE around `persons`, written beside the fixture. */
async function craft(f: Fixture, name: string, persons: ExportPayload['persons']): Promise<string> {
  const file = f.d.path(name);
  writeFileSync(file, sealExport(await loadSodium(), { persons }, PASSPHRASE, new Date(), CHEAP_KDF));
  return file;
}

/** What the gallery's rows hold, and the audit log: equal before and after a refused import. */
function snapshot(f: Fixture): string {
  const db = new Sqlite(f.dbPath, { readonly: true });
  try {
    const hash = createHash('sha256');
    for (const table of ['persons', 'templates', 'thumbnails']) hash.update(JSON.stringify(db.prepare(`SELECT * FROM ${table} ORDER BY 1`).all(), (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('hex') : v)));
    return hash.digest('hex');
  } finally {
    db.close();
  }
}

function auditActions(f: Fixture): string[] {
  const db = new Sqlite(f.dbPath, { readonly: true });
  try {
    return (db.prepare('SELECT action, outcome FROM audit_log ORDER BY seq').all() as Array<{ action: string; outcome: string }>).map((e) => `${e.action} ${e.outcome}`);
  } finally {
    db.close();
  }
}

/** The CLI refused the import with FG_ERR_IMPORT_INVALID naming `what`, and the gallery is as it was. */
async function refused(f: Fixture, file: string, what: RegExp): Promise<string> {
  const before = snapshot(f);
  const r = await cli(['gallery', 'import', file, ...keyArgs(f)], ENV);
  assert.equal(r.rc, 1, `${what.source}: ${r.stdout}${r.stderr}`);
  assert.match(r.stderr, /^FG_ERR_IMPORT_INVALID: /, r.stderr);
  assert.match(r.stderr, what);
  assert.match(r.stderr, /nothing was imported .* export again/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.doesNotMatch(r.stderr.replaceAll('\n', ''), /[\p{Cc}\u202e]/u, 'the refusal prints what it names escaped');
  assert.equal(snapshot(f), before, 'the gallery is as it was');
  return r.stderr;
}

test('an export whose person holds a 3-value, NaN, infinite or empty embedding is refused whole, naming the row; the gallery is as it was and every command goes on', async (t) => {
  const f = await enrolled(t);
  const nan = unitVector(42);
  nan[7] = Number.NaN;
  const infinite = unitVector(43);
  infinite[511] = Number.POSITIVE_INFINITY;
  for (const [name, embedding, why] of [
    ['three.fgx', new Float32Array([0.5, 0.5, 0.7]), /it has 3 values, not 512/],
    ['nan.fgx', nan, /its value 7 is NaN, not a finite number/],
    ['infinite.fgx', infinite, /its value 511 is Infinity/],
    ['zero.fgx', new Float32Array(512), /embedding has no direction/],
    ['long.fgx', unitVector(44, 1024), /it has 1024 values, not 512/],
  ] as const) {
    // The good person first: an import that wrote rows until it met the bad one would show here.
    const file = await craft(f, name, [row(), row({ id: 'EMP-77', external_id: null, templates: [template(), template({ embedding: b64(embedding) })] })]);
    await refused(f, file, new RegExp(`person 2 \\(id "EMP-77"\\), template 2 of the export .*${why.source}`));
  }
  // Not base64 of whole 4-byte floats: refused before any rule is looked at.
  const ragged = await craft(f, 'ragged.fgx', [row({ templates: [template({ embedding: Buffer.alloc(2049).toString('base64') })] })]);
  const r = await cli(['gallery', 'import', ragged, ...keyArgs(f)], ENV);
  assert.equal(r.rc, 1);
  assert.match(r.stderr, /^FG_ERR_EXPORT_INVALID: .*person 1 \(id "[0-9a-f-]+"\), template 1: its embedding is not base64 of 4-byte numbers; nothing was imported/);

  for (const args of [['person', 'list'], ['gallery', 'verify']]) {
    const ok = await cli([...args, ...keyArgs(f)]);
    assert.equal(ok.rc, 0, `${args.join(' ')}: ${ok.stderr}`);
  }
  assert.deepEqual(auditActions(f).filter((a) => a.startsWith('person.import')), Array(5).fill('person.import failed'), 'one failed entry a refused import, nothing written');
  const removed = await cli(['person', 'remove', 'EMP-1000', ...keyArgs(f)]);
  assert.equal(removed.rc, 0, removed.stderr);
});

test('an import writes everyone or no one: a person already there is kept, the rest are written with their embeddings at unit length', async (t) => {
  const f = await enrolled(t);
  const long = unitVector(45).map((x) => x * 3);
  const file = await craft(f, 'ok.fgx', [row({ name: '  Lin Yutang\u0301 ', templates: [template({ embedding: b64(long) })] }), row({ id: f.ids[0]!, external_id: 'EMP-1000', name: 'Someone else' })]);
  const im = await cli(['gallery', 'import', file, ...keyArgs(f), '--json'], ENV);
  assert.equal(im.rc, 0, im.stderr);
  const answer = JSON.parse(im.stdout) as { persons: number; templates: number; skipped: Array<{ id: string }> };
  assert.deepEqual([answer.persons, answer.templates, answer.skipped.map((s) => s.id)], [1, 1, [f.ids[0]]]);
  const g = await open(f);
  t.after(() => g.close());
  const lin = g.store.findPerson('EMP-9001')!;
  assert.equal(lin.name, 'Lin Yutang\u0301'.normalize('NFC'), 'trimmed and NFC, as enrolment stores a name');
  assert.equal(g.store.findPerson(f.ids[0]!)!.name, NAMES[0], 'the person already here is kept as they were');
  const [stored] = [...g.store.templates(() => assert.fail('a damaged row'), lin.id)];
  let norm = 0;
  for (const x of stored!.embedding) norm += x * x;
  assert.ok(Math.abs(Math.sqrt(norm) - 1) < 1e-5, `stored at unit length, not ${Math.sqrt(norm)}`);
  assert.equal(g.identify(unitVector(45), { threshold: 0.42, margin: 0.05 }, 1).match?.personId, lin.id);
});

test('import holds names, ids, groups and template sources to the rules of enrolment: escapes, CR/LF, U+202E and ids such as evil/+/# are refused', async (t) => {
  const f = await enrolled(t);
  const attacks: Array<[string, Partial<ExportedRow>, RegExp]> = [
    ['ansi-name', { name: 'Eve\x1b[2J\x1b[31mADMIN' }, /the name holds a control character/],
    ['osc-name', { name: 'Eve\x1b]0;pwned\x07' }, /the name holds a control character/],
    ['crlf-name', { name: 'Eve\r\nroot  ADMIN' }, /the name holds a control character, a line break/],
    ['rlo-name', { name: 'Eve\u202egpj.exe' }, /bidirectional override/],
    ['slash-id', { id: 'evil/+/#' }, /the external id holds a character other than/],
    ['escape-id', { id: 'evil\x1b[0m' }, /the external id holds a character other than/],
    ['rlo-external-id', { external_id: 'EMP\u202e1' }, /the external id holds a character other than/],
    ['escape-group', { group: 'staff\x1b[8m' }, /the group holds a character other than/],
    ['crlf-group', { group: 'staff\nadmin' }, /the group holds a character other than/],
    ['escape-source', { templates: [template({ source: 'a.jpg\x1b]52;c;ZXZpbA==\x07' })] }, /the template source is not/],
    ['rlo-source', { templates: [template({ source: 'gpj\u202e.exe' })] }, /the template source is not/],
    ['model', { templates: [template({ model: 'fr\x1b[1m' })] }, /the template model is not/],
    ['quality', { templates: [template({ quality: 7 })] }, /the template quality 7 is not a number from 0 to 1/],
    ['thumbnail', { templates: [template({ thumbnail: Buffer.alloc(300 * 1024).toString('base64') })] }, /the template thumbnail is 307200 bytes/],
  ];
  for (const [name, over, why] of attacks) {
    const file = await craft(f, `${name}.fgx`, [row({ external_id: null }), row(over)]);
    const stderr = await refused(f, file, new RegExp(`person 2 \\(id ".*"\\).* of the export breaks the rules of what the gallery stores: .*${why.source}`));
    if (over.id?.includes('\x1b')) assert.match(stderr, /\(id "evil\\u001b\[0m"\)/, 'the id named escaped');
  }
  const twice = await craft(f, 'twice.fgx', [row(), row({ external_id: 'EMP-9001' })]);
  await refused(f, twice, /person 2 .* person 1 has the same external id/);
  const list = await cli(['person', 'list', ...keyArgs(f)]);
  assert.equal(list.rc, 0);
  assert.equal(list.stdout.split('\n').filter(Boolean).length, NAMES.length + 1, 'no one was added');
});

/**
 * A template of `f`'s person `index` re-sealed around `embedding`, with the gallery's own key: what
 * an import before its checks wrote. The cell authenticates; what it holds is not an embedding.
 */
async function plantTemplate(f: Fixture, cells: Array<{ index: number; embedding: Float32Array }>): Promise<void> {
  const g = await open(f);
  try {
    for (const { index, embedding } of cells) {
      const personId = f.ids[index]!;
      const { id } = g.db.prepare('SELECT MIN(id) AS id FROM templates WHERE person_id = ?').get(personId) as { id: number };
      const sealed = g.sealer.seal(galleryCellRef('templates', 'embedding', id, personId), embeddingToBytes(embedding));
      g.db.prepare('UPDATE templates SET embedding = ? WHERE id = ?').run(Buffer.from(sealed), id);
    }
  } finally {
    g.close();
  }
}

test('a stored template that opens to 3 values or a NaN quarantines its person: list, verify, remove and the daemon go on', { timeout: 180_000 }, async (t) => {
  const f = await enrolled(t);
  const nan = unitVector(1);
  nan[100] = Number.NaN;
  await plantTemplate(f, [
    { index: 1, embedding: new Float32Array([1, 2, 3]) },
    { index: 2, embedding: nan },
  ]);

  const list = await cli(['person', 'list', ...keyArgs(f)]);
  assert.doesNotMatch(list.stderr, /\n\s+at |values, expected 512/, list.stderr);
  assert.equal(list.rc, 0, 'the persons rows themselves open');
  assert.match(list.stdout, new RegExp(`^${NAMES.length} person\\(s\\)$`, 'm'));
  assert.match(list.stderr, /FG_ERR_GALLERY_MALFORMED/, 'the log says who is quarantined');

  const verify = await cli(['gallery', 'verify', ...keyArgs(f), '--json']);
  assert.equal(verify.rc, 1, verify.stderr);
  const report = JSON.parse(verify.stdout) as { ok: boolean; malformed: Array<{ table: string; column: string; person: string; problem: string }> };
  assert.deepEqual(
    report.malformed.map((m) => [m.person, `${m.table}.${m.column}`, m.problem]),
    [
      [f.ids[1], 'templates.embedding', 'it has 3 values, not 512'],
      [f.ids[2], 'templates.embedding', 'its value 100 is NaN, not a finite number'],
    ],
  );
  const text = await cli(['gallery', 'verify', ...keyArgs(f)]);
  assert.match(text.stdout, new RegExp(`^MALFORMED templates.embedding row \\d+ \\(person ${f.ids[1]}\\): it has 3 values, not 512$`, 'm'));
  assert.match(text.stdout, /^FAILED: .* 2 malformed, /m);

  const g = await open(f);
  assert.deepEqual(
    g.quarantined().map((q) => [q.personId, q.cells.map((c) => `${c.kind} ${c.table}.${c.column}`)]),
    [
      [f.ids[1], ['damaged templates.embedding']],
      [f.ids[2], ['damaged templates.embedding']],
    ],
  );
  assert.equal(g.matcher.size, 6, 'the other three persons are matched, the quarantined two not at all');
  g.close();

  ensureDeviceKey(f.d.path('device.key'));
  const config = f.d.path('config.yaml');
  writeFileSync(config, `gallery:\n  path: ${f.dbPath}\n  key_file: ${f.keyFile}\nmqtt:\n  device_key_file: ${f.d.path('device.key')}\ncontrol:\n  enabled: false\n`);
  const daemon = new DaemonProcess(config);
  t.after(() => daemon.kill());
  await daemon.waitForLog(/facegate ready/);
  assert.match(daemon.log, /persons quarantined/);
  await daemon.kill();

  for (const index of [1, 2]) {
    const removed = await cli(['person', 'remove', f.ids[index]!, ...keyArgs(f)]);
    assert.equal(removed.rc, 0, removed.stderr);
  }
  const clean = await cli(['gallery', 'verify', ...keyArgs(f)]);
  assert.equal(clean.rc, 0, clean.stdout);
});
