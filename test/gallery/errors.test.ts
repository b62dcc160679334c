// Error paths of the gallery that the end-to-end tests do not reach, each with its code and message.
import '../support/cli-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { Sqlite } from '../../daemon/store/sqlite.js';
import { FacegateError } from '../../daemon/base/errors.js';
import { Gallery } from '../../daemon/gallery/gallery.js';
import { createKeyFile } from '../../daemon/gallery/key-source.js';
import { rotateKeys } from '../../daemon/service/rotate-keys.js';
import { loadSodium } from '../../daemon/gallery/sodium.js';
import { exportedPersons } from '../../daemon/gallery/transfer.js';
import { videoFrames } from '../../daemon/camera/video-file.js';
import { media, mediaMissing } from '../support/media.js';
import { cli, keyOptions, memoryLogger, storePerson, tempDir, unitVector } from './helpers.js';

const code = (c: string) => (e: unknown) => e instanceof FacegateError && e.code === c;

async function smallGallery(t: { after(fn: () => void): void }) {
  const d = tempDir(t);
  createKeyFile(await loadSodium(), d.path('k'));
  const g = await Gallery.open({ path: d.path('g.db'), keys: keyOptions(d.path('k')), logger: memoryLogger().logger, create: true });
  const { person: p } = storePerson(g, { name: 'Ada' }, [{ embedding: unitVector(1), quality: 1, source: 's', model: 'm' }]);
  return { d, g, p };
}

test('a gallery folder that does not exist: FG_ERR_DB_OPEN', async (t) => {
  const d = tempDir(t);
  createKeyFile(await loadSodium(), d.path('k'));
  await assert.rejects(Gallery.open({ path: d.path('no/such/dir/g.db'), keys: keyOptions(d.path('k')), logger: memoryLogger().logger, create: true }), code('FG_ERR_DB_OPEN'));
});

test('persons without any key record: refused, and no new key is made over them', async (t) => {
  const { d, g } = await smallGallery(t);
  g.close();
  const db = new Sqlite(d.path('g.db'));
  db.prepare('DELETE FROM gallery_keys').run();
  db.close();
  await assert.rejects(Gallery.open({ path: d.path('g.db'), keys: keyOptions(d.path('k')), logger: memoryLogger().logger }), code('FG_ERR_GALLERY_CORRUPT'));
  const check = new Sqlite(d.path('g.db'), { readonly: true });
  assert.equal((check.prepare('SELECT COUNT(*) AS n FROM gallery_keys').get() as { n: number }).n, 0);
  check.close();
});

test('re-encryption refuses to run over a damaged row and changes nothing', async (t) => {
  const { d, g, p } = await smallGallery(t);
  const row = g.db.prepare('SELECT id, embedding FROM templates').get() as { id: number; embedding: Buffer };
  row.embedding[30]! ^= 1;
  g.db.prepare('UPDATE templates SET embedding = ? WHERE id = ?').run(row.embedding, row.id);
  const sodium = await loadSodium();
  const newKek = createKeyFile(sodium, d.path('k2'));
  const before = g.db.prepare('SELECT * FROM gallery_keys').all();
  assert.throws(
    () => rotateKeys({ db: g.db, sodium, oldKek: g.kek, unlocked: g.key, newKek, reencrypt: true, install: () => {}, now: () => new Date() }),
    (e: unknown) => code('FG_ERR_ROTATE_DAMAGED')(e) && (e as Error).message.includes(p.id),
  );
  assert.deepEqual(g.db.prepare('SELECT * FROM gallery_keys').all(), before);
  g.close();
});

test('a file that is not an export: FG_ERR_EXPORT_INVALID', async (t) => {
  const { g } = await smallGallery(t);
  t.after(() => g.close());
  assert.throws(() => exportedPersons(g.sodium, Buffer.from('hello world, not an export'), 'x', 'x.fgx'), code('FG_ERR_EXPORT_INVALID'));
});

test('a file that is not a video: FG_ERR_VIDEO_INVALID', async (t) => {
  const d = tempDir(t);
  writeFileSync(d.path('notes.mp4'), 'not a video');
  await assert.rejects(async () => {
    for await (const _ of videoFrames(d.path('notes.mp4'), { fps: 5 })) assert.fail('a frame from a text file');
  }, code('FG_ERR_VIDEO_INVALID'));
});

test('keys rotate to an empty passphrase variable: FG_ERR_KEY_MISSING, nothing changed', async (t) => {
  const { d, g } = await smallGallery(t);
  g.close();
  const r = await cli(['keys', 'rotate', '--gallery', d.path('g.db'), '--key-file', d.path('k'), '--new-passphrase-env', 'NEW_PASS']);
  assert.equal(r.rc, 1);
  assert.match(r.stderr, /FG_ERR_KEY_MISSING: \$NEW_PASS is empty/);
  const ok = await cli(['person', 'list', '--gallery', d.path('g.db'), '--key-file', d.path('k')]);
  assert.equal(ok.rc, 0);
});

test('keys rotate to a passphrase, then the passphrase opens the gallery', async (t) => {
  const { d, g } = await smallGallery(t);
  g.close();
  const r = await cli(['keys', 'rotate', '--gallery', d.path('g.db'), '--key-file', d.path('k'), '--new-passphrase-env', 'NEW_PASS'], { NEW_PASS: 'a new long passphrase' });
  assert.equal(r.rc, 0, r.stderr);
  const withPass = await cli(['person', 'list', '--gallery', d.path('g.db'), '--json'], { FACEGATE_PASSPHRASE: 'a new long passphrase' });
  assert.equal(withPass.rc, 0, withPass.stderr);
  assert.match(withPass.stdout, /"name":"Ada"/);
  assert.equal((await cli(['person', 'list', '--gallery', d.path('g.db'), '--key-file', d.path('k')])).rc, 1);
});

test('a photo with no usable face: FG_ERR_ENROL_NO_FACE with each reason, nothing stored', { skip: mediaMissing('detector_edge/no_face/dlib_dogs.jpg') }, async (t) => {
  const { d, g } = await smallGallery(t);
  g.close();
  const r = await cli(['person', 'add', '--gallery', d.path('g.db'), '--key-file', d.path('k'), '--name', 'Rex', '--image', media('detector_edge/no_face/juan_none_blank.jpg'), '--json']);
  assert.equal(r.rc, 1);
  assert.match(r.stderr, /FG_ERR_ENROL_NO_FACE: no usable face for Rex/);
  assert.deepEqual(JSON.parse(r.stdout), { id: null, templates: 0, refused: [{ file: media('detector_edge/no_face/juan_none_blank.jpg'), reason: 'no_face', detail: 'no face found' }] });
  const list = await cli(['person', 'list', '--gallery', d.path('g.db'), '--key-file', d.path('k'), '--json']);
  assert.equal(list.stdout.trim().split('\n').length, 1);
});

test('usage errors name what is missing', async () => {
  assert.match((await cli(['person', 'add', '--image', 'x.jpg'])).stderr, /FG_ERR_USAGE: --name \(a new person\) or --to ID \(an enrolled one\) is required/);
  assert.match((await cli(['person', 'add', '--name', 'A'])).stderr, /give at least one --image/);
  assert.match((await cli(['identify'])).stderr, /no image given/);
  assert.equal((await cli(['person', 'show'])).rc, 2);
});

test('person teach --unknown: one person id only; with no daemon holding the gallery, a coded error that says to start it, and nothing taught', async (t) => {
  const { d, g } = await smallGallery(t);
  g.close();
  const files = ['--gallery', d.path('g.db'), '--key-file', d.path('k')];
  const twoIds = await cli(['person', 'teach', 'Ada', '7', '--unknown', 'anon-1', ...files]);
  assert.equal(twoIds.rc, 2);
  assert.match(twoIds.stderr, /FG_ERR_USAGE: give one person id with --unknown/);
  const noDaemon = await cli(['person', 'teach', 'Ada', '--unknown', 'anon-1', ...files]);
  assert.equal(noDaemon.rc, 1);
  assert.match(noDaemon.stderr, /FG_ERR_DAEMON_NOT_RUNNING: unknown persons live in the running daemon.*start it/s);
  const listed = await cli(['person', 'list', '--json', ...files]);
  assert.equal((JSON.parse(listed.stdout) as { templates: number }).templates, 1, 'Ada keeps her one template');
});

test('person add --dir enrols every photo of a folder; off a terminal no progress is drawn (test/cli/progress.test.ts shows it on one)', { skip: mediaMissing('identities/deepface/img20.jpg') }, async (t) => {
  const { d, g } = await smallGallery(t);
  g.close();
  const { mkdirSync, symlinkSync } = await import('node:fs');
  mkdirSync(d.path('photos'));
  symlinkSync(media('identities/deepface/img20.jpg'), d.path('photos/a.jpg'));
  symlinkSync(media('identities/deepface/img21.jpg'), d.path('photos/b.JPG'));
  writeFileSync(d.path('photos/notes.txt'), 'not a photo');
  const r = await cli(['person', 'add', '--gallery', d.path('g.db'), '--key-file', d.path('k'), '--name', 'Jeff Bezos', '--dir', d.path('photos')]);
  assert.equal(r.rc, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /\r|%/, 'nothing drawn into a pipe');
  assert.match(r.stdout, /enrolled Jeff Bezos as [0-9a-f-]{36}: 2 template\(s\)/);
});
