// `facegate person import-roster` through the built CLI, as an installer runs it: a real state file,
// real photos (linked into the folder under staff numbers, never copied), the real face models.
import '../support/cli-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createKeyFile } from '../../daemon/gallery/key-source.js';
import { loadSodium } from '../../daemon/gallery/sodium.js';
import { media, mediaMissing } from '../support/media.js';
import { cli, tempDir } from './helpers.js';

const PHOTOS = { bezos: 'identities/deepface/img20.jpg', bezos2: 'identities/deepface/img21.jpg', jolie: 'identities/deepface/img1.jpg', blank: 'detector_edge/no_face/juan_none_blank.jpg' };

/** What a terminal obeys: controls and bidirectional overrides; the newlines ending lines left out. */
const OBEYED = /[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

async function site(t: { after(fn: () => void): void }) {
  const d = tempDir(t);
  createKeyFile(await loadSodium(), d.path('k'));
  mkdirSync(d.path('photos'));
  const files = ['--gallery', d.path('g.db'), '--key-file', d.path('k')];
  const run = (roster: string, ...more: string[]) => cli(['person', 'import-roster', d.path(roster), '--photos', d.path('photos'), ...files, ...more]);
  return { d, files, run, photo: (file: string, name: string) => symlinkSync(media(file), d.path(`photos/${name}`)) };
}

type Row = { line: number; staff_number: string | null; name: string | null; outcome: string; code?: string; reason?: string; templates?: number };
const jsonRows = (stdout: string) => stdout.trim().split('\n').map((l) => JSON.parse(l) as Row | { summary: Record<string, number> });

test('a roster of three, run twice: the one with a usable photo enrolled once, the one without a photo and the one whose photo has no face refused with why; audited as enrolments', { skip: mediaMissing(...Object.values(PHOTOS)) }, async (t) => {
  const s = await site(t);
  s.photo(PHOTOS.bezos, 'E100.jpg');
  s.photo(PHOTOS.bezos2, 'E100_2.JPG');
  s.photo(PHOTOS.blank, 'E102.png');
  writeFileSync(s.d.path('photos/E100.txt'), 'not a photo');
  // Columns in another order than the docs' example, names as HR writes them.
  writeFileSync(s.d.path('roster.csv'), '\ufeffDepartment;Staff No;Full Name\r\nSales;E100;Jeff Bezos\r\nSales;E101;Ann Nophoto\r\nOps;E102;"Wall, Blank"\r\n');

  const first = await s.run('roster.csv');
  assert.equal(first.rc, 1, 'a refused row makes the exit status non-zero');
  assert.match(first.stdout, /^line 2 {2}E100 {2}Jeff Bezos: enrolled as [0-9a-f-]{36}, 2 template\(s\) from 2 photo\(s\)$/m);
  assert.match(first.stdout, /^line 3 {2}E101 {2}Ann Nophoto: refused FG_ERR_ROSTER_NO_PHOTO: no photo named E101\.jpg, \.jpeg or \.png/m);
  assert.match(first.stdout, /^line 4 {2}E102 {2}Wall, Blank: refused FG_ERR_ENROL_NO_FACE: no usable face for Wall, Blank: E102\.png: no face found/m);
  assert.match(first.stdout, /^3 row\(s\): 1 enrolled, 0 already enrolled \(skipped\), 2 refused: correct those rows or their photos and run the same command again$/m);

  const again = await s.run('roster.csv', '--json');
  assert.equal(again.rc, 1);
  const rows = jsonRows(again.stdout);
  assert.deepEqual(
    rows.map((r) => ('summary' in r ? r : [r.line, r.staff_number, r.outcome, r.code])),
    [[2, 'E100', 'already_enrolled', undefined], [3, 'E101', 'refused', 'FG_ERR_ROSTER_NO_PHOTO'], [4, 'E102', 'refused', 'FG_ERR_ENROL_NO_FACE'], { summary: { rows: 3, enrolled: 0, already_enrolled: 1, refused: 2 } }],
  );

  const listed = await cli(['person', 'list', ...s.files, '--json']);
  const persons = listed.stdout.trim().split('\n').map((l) => JSON.parse(l) as { name: string; external_id: string; group: string; templates: number });
  assert.deepEqual(persons.map((p) => [p.name, p.external_id, p.group, p.templates]), [['Jeff Bezos', 'E100', 'Sales', 2]], 'enrolled once, keyed by the staff number');

  const audit = await cli(['audit', 'list', '--gallery', s.d.path('g.db'), '--json']);
  const entries = audit.stdout.trim().split('\n').map((l) => JSON.parse(l) as { action: string; outcome: string; actor: string; detail: { code?: string } });
  assert.deepEqual(
    entries.filter((e) => e.action === 'person.enrol').map((e) => `${e.outcome} ${e.detail.code ?? ''}`.trim()).reverse(),
    ['ok', 'failed FG_ERR_ENROL_NO_FACE', 'failed FG_ERR_PERSON_EXISTS', 'failed FG_ERR_ENROL_NO_FACE'],
    "each enrolment the roster asked for is the enrolment's own audit entry; rows refused before any enrolment (no photo) change nothing and are not",
  );
  assert.ok(entries.every((e) => e.actor.startsWith('cli:')));
});

test('hostile rows are refused one by one with coded errors, printed escaped, and the good row is still enrolled', { skip: mediaMissing(PHOTOS.jolie) }, async (t) => {
  const s = await site(t);
  s.photo(PHOTOS.jolie, 'J1.jpg');
  // A photo for the traversal's target name, outside the folder: it must never be read.
  writeFileSync(s.d.path('x.jpg'), 'never read');
  const longName = 'A'.repeat(129);
  const roster = [
    'name,staff number,group,notes',
    'Angelina Jolie,J1,Ops,ok',
    '"=HYPERLINK(""http://evil.example/"",""x"")",F1,Ops,formula',
    '@SUM(1+1),F2,Ops,formula',
    '"Eve\x1b]0;pwned\x07\x1b[2J\u202eNIMDA",C1,Ops,escapes',
    `${longName},L1,Ops,long`,
    'Traversal,../../x,Ops,path',
    'Dash,-rf,Ops,option',
    'Bad Group,G1,"=cmd|\' /C calc\'!A0",formula group',
    'Half "quoted",Q1,Ops,quote',
    'Twice,D1,Ops,a',
    'Twice again,D1,Ops,b',
    ',N1,Ops,no name',
    'No Number,,Ops,no number',
    'Last,U1,Ops,"never closed',
    'After,U2,Ops,swallowed',
  ].join('\n');
  writeFileSync(s.d.path('roster.csv'), roster);

  const r = await s.run('roster.csv', '--json');
  assert.equal(r.rc, 1);
  const rows = jsonRows(r.stdout);
  const byLine = new Map(rows.flatMap((x) => ('summary' in x ? [] : [[x.line, x] as const])));
  const code = (line: number) => byLine.get(line)?.code ?? byLine.get(line)?.outcome;
  assert.equal(code(2), 'enrolled');
  assert.equal(code(3), 'FG_ERR_ROSTER_ROW');
  assert.match(byLine.get(3)!.reason!, /the name starts with "=" as a spreadsheet formula does/);
  assert.equal(code(4), 'FG_ERR_ROSTER_ROW');
  assert.equal(code(5), 'FG_ERR_PERSON_INVALID');
  assert.match(byLine.get(5)!.reason!, /the name holds a control character/);
  assert.equal(code(6), 'FG_ERR_PERSON_INVALID');
  assert.match(byLine.get(6)!.reason!, /the name is longer than 128 characters/);
  assert.equal(byLine.get(6)!.name!.length, 64, 'an over-long cell is shown clipped');
  assert.equal(code(7), 'FG_ERR_PERSON_INVALID');
  assert.match(byLine.get(7)!.reason!, /^the staff number holds a character other than/);
  assert.equal(code(8), 'FG_ERR_PERSON_INVALID');
  assert.equal(code(9), 'FG_ERR_ROSTER_ROW');
  assert.match(byLine.get(9)!.reason!, /the group starts with "="/);
  assert.equal(code(10), 'FG_ERR_ROSTER_ROW');
  assert.match(byLine.get(10)!.reason!, /a quote inside the unquoted column 1/);
  assert.equal(code(11), 'FG_ERR_ROSTER_DUPLICATE');
  assert.equal(code(12), 'FG_ERR_ROSTER_DUPLICATE');
  assert.match(byLine.get(12)!.reason!, /staff number D1 is on lines 11, 12/);
  assert.equal(code(13), 'FG_ERR_ROSTER_ROW');
  assert.match(byLine.get(13)!.reason!, /no name/);
  assert.equal(code(14), 'FG_ERR_ROSTER_ROW');
  assert.match(byLine.get(14)!.reason!, /no staff number/);
  assert.equal(code(15), 'FG_ERR_ROSTER_ROW');
  assert.match(byLine.get(15)!.reason!, /a quote opened and never closed/);
  assert.equal(byLine.has(16), false, 'the rest of the file went into the open quote');
  assert.deepEqual(rows.at(-1), { summary: { rows: 14, enrolled: 1, already_enrolled: 0, refused: 13 } });

  // The same file as a person reads it: every escape shown as text, on its own line.
  const text = await s.run('roster.csv');
  assert.equal(text.rc, 1);
  for (const out of [text.stdout, text.stderr, r.stdout, r.stderr]) assert.doesNotMatch(out.replaceAll('\n', ''), OBEYED);
  assert.match(text.stdout, /^line 5 {2}C1 {2}Eve\\u001b\]0;pwned\\u0007\\u001b\[2J\\u202eNIMDA: refused FG_ERR_PERSON_INVALID/m);
  assert.match(text.stdout, /^line 2 {2}J1 {2}Angelina Jolie: already enrolled \(skipped\)$/m);
  assert.equal(text.stdout.trim().split('\n').length, 15, 'one line a row and the summary: no line forged');
});

test('a file that is not a roster stops before anything is enrolled, with what to give instead', async (t) => {
  const s = await site(t);
  const cases: Array<[string, string | Buffer, RegExp]> = [
    ['no-header.csv', 'E1,Ann,Sales\n', /FG_ERR_ROSTER_INVALID: the header row has no name and no staff number column/],
    ['twice.csv', 'name,staff no,employee id\n', /FG_ERR_ROSTER_INVALID: the header names the staff number twice \(columns 2 and 3\)/],
    ['latin1.csv', Buffer.from([0x6e, 0x61, 0x6d, 0x65, 0x2c, 0x69, 0x64, 0x0a, 0x4a, 0xf6, 0x72, 0x67, 0x2c, 0x31, 0x0a]), /FG_ERR_ROSTER_INVALID: the file is not UTF-8 text/],
    ['many.csv', `name,id\n${Array.from({ length: 5001 }, (_, i) => `P${i},P${i}`).join('\n')}\n`, /FG_ERR_ROSTER_INVALID: the file has 5001 rows, more than the 5000 one import takes/],
    ['huge.csv', Buffer.alloc(1024 * 1024 + 1, 0x41), /FG_ERR_INPUT_TOO_LARGE: roster .*huge\.csv is larger than the 1\.0 MiB a roster file may have/],
  ];
  for (const [file, content, expected] of cases) {
    writeFileSync(s.d.path(file), content);
    const r = await s.run(file);
    assert.equal(r.rc, 1, file);
    assert.match(r.stderr, expected, file);
    assert.equal(r.stdout, '', file);
  }
  const missing = await s.run('nope.csv');
  assert.match(missing.stderr, /FG_ERR_ROSTER_UNREADABLE: roster .*nope\.csv: no such file — check the path/);
  writeFileSync(s.d.path('ok.csv'), 'name,id\nAnn,E1\n');
  const noFolder = await cli(['person', 'import-roster', s.d.path('ok.csv'), '--photos', s.d.path('no-such-folder'), ...s.files]);
  assert.match(noFolder.stderr, /FG_ERR_IMAGE_UNREADABLE: cannot read the photo folder .*no-such-folder: no such file — check the path given with --photos/);
  const usage = await cli(['person', 'import-roster', s.d.path('ok.csv'), ...s.files]);
  assert.equal(usage.rc, 2);
  assert.match(usage.stderr, /FG_ERR_USAGE: --photos DIR is required/);
  const listed = await cli(['person', 'list', ...s.files]);
  assert.match(listed.stderr + listed.stdout, /FG_ERR_GALLERY_MISSING|0 person\(s\)/, 'nothing enrolled');
});
