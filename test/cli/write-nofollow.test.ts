// Files the CLI writes to a path a user gives (camera test --save, person photos --faces, scan
// --thumbnails, gallery export) and the generation anchor a root-run command writes in the daemon's
// folder: never through a symbolic link. Each link is planted as an attacker would (another local
// user's /tmp, a compromised daemon's state folder), pointing at a file or folder of the victim's;
// the built CLI (dist/, as an operator runs it) refuses with a code, and the target keeps its bytes
// and its mode.
import '../support/cli-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, enrolled, tempDir, type TempDir } from '../gallery/helpers.js';

/** The victim's file and folder, with a mode and bytes the test checks were left alone. */
function victim(d: TempDir) {
  const file = d.path('victim/passwd');
  const folder = d.path('victim/folder');
  mkdirSync(folder, { recursive: true });
  writeFileSync(file, 'root:x:0:0:root:/root:/bin/bash\n');
  chmodSync(file, 0o644);
  chmodSync(folder, 0o755);
  return {
    file,
    folder,
    untouched(what: string) {
      assert.equal(readFileSync(file, 'utf8'), 'root:x:0:0:root:/root:/bin/bash\n', `${what}: the file the link points to kept its bytes`);
      assert.equal(statSync(file).mode & 0o777, 0o644, `${what}: the file the link points to kept its mode`);
      assert.equal(statSync(folder).mode & 0o777, 0o755, `${what}: the folder the link points to kept its mode`);
      assert.deepEqual(readdirSync(folder), [], `${what}: nothing was written into the folder the link points to`);
    },
  };
}

/** A one-second clip made by FFmpeg: a camera test of a file needs no camera. */
function clip(d: TempDir): string {
  const file = d.path('clip.mp4');
  const r = spawnSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=5', '-t', '1', '-pix_fmt', 'yuv420p', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return file;
}

function refused(r: { rc: number; stderr: string }, code: string, path: string): void {
  assert.equal(r.rc, 1, r.stderr);
  assert.ok(r.stderr.startsWith(`${code}: ${path} `), r.stderr);
}

test('camera test --save: a link at FILE (to a file, or dangling), a FIFO or a missing folder is refused, and what a link points to is left as it was', async (t) => {
  const d = tempDir(t);
  const v = victim(d);
  const video = clip(d);
  symlinkSync(v.file, d.path('frame.jpg'));
  refused(await cli(['camera', 'test', video, '--save', d.path('frame.jpg')]), 'FG_ERR_OUTPUT_SYMLINK', d.path('frame.jpg'));
  v.untouched('camera test --save through a link');

  symlinkSync(join(v.folder, 'new.jpg'), d.path('dangling.jpg'));
  refused(await cli(['camera', 'test', video, '--save', d.path('dangling.jpg')]), 'FG_ERR_OUTPUT_SYMLINK', d.path('dangling.jpg'));
  v.untouched('camera test --save through a dangling link');

  assert.equal(spawnSync('mkfifo', [d.path('fifo')]).status, 0);
  refused(await cli(['camera', 'test', video, '--save', d.path('fifo')]), 'FG_ERR_OUTPUT_NOT_FILE', d.path('fifo'));

  const missing = await cli(['camera', 'test', video, '--save', d.path('no/such/folder/frame.jpg')]);
  assert.equal(missing.rc, 1);
  assert.ok(missing.stderr.startsWith(`FG_ERR_OUTPUT_WRITE: cannot write ${d.path('no/such/folder/frame.jpg')}: ENOENT`), missing.stderr);

  // A regular file there is replaced, and made private whatever mode it had.
  writeFileSync(d.path('old.jpg'), 'old');
  chmodSync(d.path('old.jpg'), 0o644);
  const saved = await cli(['camera', 'test', video, '--save', d.path('old.jpg')]);
  assert.equal(saved.rc, 0, saved.stderr);
  assert.equal(readFileSync(d.path('old.jpg')).subarray(0, 2).toString('hex'), 'ffd8', 'a JPEG');
  assert.equal(statSync(d.path('old.jpg')).mode & 0o777, 0o600);
});

test('person photos --faces: a link planted at a face file or at the folder, or a file as the folder, is refused, and what a link points to is left as it was', async (t) => {
  const f = await enrolled(t);
  const v = victim(f.d);
  const files = ['--gallery', f.dbPath, '--key-file', f.keyFile];
  const listed = await cli(['person', 'photos', 'EMP-1000', '--json', ...files]);
  assert.equal(listed.rc, 0, listed.stderr);
  const photo = (JSON.parse(listed.stdout.split('\n')[0]!) as { photo: number }).photo;

  const faces = f.d.path('faces');
  mkdirSync(faces, { mode: 0o700 });
  symlinkSync(v.file, join(faces, `${photo}.jpg`));
  refused(await cli(['person', 'photos', 'EMP-1000', '--faces', faces, ...files]), 'FG_ERR_OUTPUT_SYMLINK', join(faces, `${photo}.jpg`));
  v.untouched('person photos --faces with a link at a face');

  symlinkSync(v.folder, f.d.path('faces-link'));
  refused(await cli(['person', 'photos', 'EMP-1000', '--faces', f.d.path('faces-link'), ...files]), 'FG_ERR_OUTPUT_SYMLINK', f.d.path('faces-link'));
  v.untouched('person photos --faces at a link to a folder');

  writeFileSync(f.d.path('a-file'), 'not a folder');
  refused(await cli(['person', 'photos', 'EMP-1000', '--faces', f.d.path('a-file'), ...files]), 'FG_ERR_OUTPUT_NOT_FILE', f.d.path('a-file'));
  assert.equal(readFileSync(f.d.path('a-file'), 'utf8'), 'not a folder');

  // Into a folder of its own, the faces are written, 0600.
  const written = await cli(['person', 'photos', 'EMP-1000', '--faces', f.d.path('own'), ...files]);
  assert.equal(written.rc, 0, written.stderr);
  assert.equal(statSync(f.d.path(`own/${photo}.jpg`)).mode & 0o777, 0o600);
});

test('gallery export: a link at FILE is refused as a link, dangling or not; an existing file is never overwritten', async (t) => {
  const f = await enrolled(t);
  const v = victim(f.d);
  const env = { FACEGATE_EXPORT_PASSPHRASE: 'correct horse battery staple' };
  const files = ['--gallery', f.dbPath, '--key-file', f.keyFile];
  symlinkSync(v.file, f.d.path('export.fgx'));
  refused(await cli(['gallery', 'export', f.d.path('export.fgx'), ...files], env), 'FG_ERR_OUTPUT_SYMLINK', f.d.path('export.fgx'));
  symlinkSync(join(v.folder, 'export.fgx'), f.d.path('dangling.fgx'));
  refused(await cli(['gallery', 'export', f.d.path('dangling.fgx'), ...files], env), 'FG_ERR_OUTPUT_SYMLINK', f.d.path('dangling.fgx'));
  v.untouched('gallery export through a link');
  writeFileSync(f.d.path('older.fgx'), 'an older export');
  refused(await cli(['gallery', 'export', f.d.path('older.fgx'), ...files], env), 'FG_ERR_OUTPUT_EXISTS', f.d.path('older.fgx'));
  assert.equal(readFileSync(f.d.path('older.fgx'), 'utf8'), 'an older export');
});

test('scan --thumbnails: a link at the folder is refused before the video is read', async (t) => {
  const d = tempDir(t);
  const v = victim(d);
  symlinkSync(v.folder, d.path('thumbs'));
  refused(await cli(['scan', clip(d), '--thumbnails', d.path('thumbs')]), 'FG_ERR_OUTPUT_SYMLINK', d.path('thumbs'));
  v.untouched('scan --thumbnails at a link to a folder');
});

test("the generation anchor: a link the daemon's user planted at its temporary name is replaced, never written through", async (t) => {
  const f = await enrolled(t);
  const v = victim(f.d);
  symlinkSync(v.file, `${f.dbPath}.generation.new`);
  const renamed = await cli(['person', 'rename', 'EMP-1000', 'Ada King', '--gallery', f.dbPath, '--key-file', f.keyFile]);
  assert.equal(renamed.rc, 0, renamed.stderr);
  v.untouched('a gallery change with a link at the anchor’s temporary name');
  assert.ok(lstatSync(`${f.dbPath}.generation`).isFile(), 'the anchor is a file of its own');
  assert.match(readFileSync(`${f.dbPath}.generation`, 'utf8'), /"generation":\d+/);
});
