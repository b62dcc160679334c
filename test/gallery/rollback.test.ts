// An older copy of the state file put back is detected: the gallery's generation, raised by every
// change inside the file, is anchored beside it, and a file behind its anchor is refused until
// `facegate gallery accept-restore` (audited) says the restore was meant.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { ExitCode, FacegateError } from '../../daemon/base/errors.js';
import { anchorPath } from '../../daemon/gallery/generation.js';
import { Gallery } from '../../daemon/gallery/gallery.js';
import { Sqlite } from '../../daemon/store/sqlite.js';
import { DaemonProcess } from '../ops/daemon-harness.js';
import { runCli } from '../support/cli.js';
import { enrolled, keyOptions, memoryLogger, NAMES, open, storePerson, unitVector, unstorePerson, type Fixture } from './helpers.js';

const anchorOf = (f: Fixture) => JSON.parse(readFileSync(anchorPath(f.dbPath), 'utf8')) as { gallery_id: string; generation: number };

/** The state file as it sits on disk now, WAL folded in, so that a copy of the one file is whole. */
function snapshot(f: Fixture, to: string): void {
  const db = new Sqlite(f.dbPath);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  copyFileSync(f.dbPath, to);
}

function restore(f: Fixture, from: string): void {
  rmSync(`${f.dbPath}-wal`, { force: true });
  rmSync(`${f.dbPath}-shm`, { force: true });
  copyFileSync(from, f.dbPath);
}

test('every change raises the generation, and the anchor beside the state file follows it after the commit', async (t) => {
  const f = await enrolled(t);
  const first = anchorOf(f).generation;
  assert.ok(first > 0, 'the enrolment counted');
  const g = await open(f);
  t.after(() => g.close());
  assert.equal(g.generation, first);
  g.store.renamePerson(f.ids[0]!, 'Ada King');
  g.remember(f.ids[0]!, 'Ada King', [], []);
  const renamed = anchorOf(f).generation;
  assert.ok(renamed > first);
  unstorePerson(g, f.ids[1]!);
  assert.ok(anchorOf(f).generation > renamed);
  assert.equal(anchorOf(f).generation, g.generation);
  // A write through the store alone reaches the anchor at close at the latest.
  g.store.setGroup(f.ids[2]!, 'visitors');
  assert.ok(g.generation > anchorOf(f).generation);
  g.close();
  const reopened = await open(f);
  assert.equal(anchorOf(f).generation, reopened.generation);
  reopened.close();
});

test('a restored older copy is refused at open (CLI and daemon, exit 78 for the daemon); accept-restore takes it back, audited', { timeout: 240_000 }, async (t) => {
  const f = await enrolled(t);
  const copy = f.d.path('backup.db');
  snapshot(f, copy);
  const gallery = ['--gallery', f.dbPath, '--key-file', f.keyFile];
  const removed = await runCli(['person', 'remove', f.ids[3]!, ...gallery]);
  assert.equal(removed.code, 0, removed.stderr);
  restore(f, copy);

  const list = await runCli(['person', 'list', ...gallery, '--json']);
  assert.equal(list.code, 1);
  assert.match(list.stderr, /^FG_ERR_GALLERY_ROLLBACK: gallery .*facegate\.db is at generation \d+, older than the \d+ recorded in .*facegate\.db\.generation: an older copy of the state file was put back/);
  assert.match(list.stderr, /facegate gallery accept-restore/);

  // The daemon: refused with exit 78, so that systemd does not restart it in a loop.
  const config = f.d.path('site.yaml');
  writeFileSync(config, `gallery:\n  path: ${f.dbPath}\n  key_file: ${f.keyFile}\ncontrol:\n  enabled: false\ncameras: []\n`);
  const daemon = new DaemonProcess(config);
  t.after(() => daemon.kill());
  assert.equal(await daemon.exited, ExitCode.CONFIG, daemon.log.slice(-2000));
  assert.match(daemon.log, /FG_ERR_GALLERY_ROLLBACK/);

  const before = readFileSync(f.dbPath);
  const accepted = await runCli(['gallery', 'accept-restore', ...gallery]);
  assert.equal(accepted.code, 0, accepted.stderr);
  assert.match(accepted.stdout, /generation \d+ accepted \(the record said \d+; persons removed since that copy was made are back: remove them again\)/);
  assert.notDeepEqual(readFileSync(f.dbPath), before, 'the acceptance is in the audit trail of the file now in force');
  const audit = new Sqlite(f.dbPath, { readonly: true });
  const row = audit.prepare("SELECT actor, action, detail FROM audit_log WHERE action = 'gallery.accept_restore'").get() as { actor: string; action: string; detail: string } | undefined;
  audit.close();
  assert.match(row?.actor ?? '', /^cli:/);
  const detail = JSON.parse(row!.detail) as { generation_before: number; generation_now: number };
  assert.ok(detail.generation_before > detail.generation_now);

  const after = await runCli(['person', 'list', ...gallery, '--json']);
  assert.equal(after.code, 0, after.stderr);
  assert.ok(after.stdout.includes(f.ids[3]!), 'the removed person is back, as the restore says');
});

test('crash safety: a file ahead of its anchor (a crash between commit and anchor), a missing anchor, a spoilt one, or one of another gallery never lock the box out', async (t) => {
  const f = await enrolled(t);
  const anchor = anchorOf(f);
  // The commit landed and the anchor write did not.
  writeFileSync(anchorPath(f.dbPath), JSON.stringify({ ...anchor, generation: anchor.generation - 3 }));
  let g = await open(f);
  assert.equal(anchorOf(f).generation, g.generation, 'caught up at open');
  g.close();
  rmSync(anchorPath(f.dbPath));
  g = await open(f);
  assert.equal(anchorOf(f).generation, g.generation, 'written again');
  g.close();
  const log = memoryLogger();
  writeFileSync(anchorPath(f.dbPath), '{"gallery_id": 5}');
  g = await open(f, f.keyFile, log.logger);
  assert.equal(anchorOf(f).generation, g.generation);
  g.close();
  assert.ok(log.lines.some((l) => /generation anchor unusable/.test(l)));
  // A new gallery at the same path (the old file deleted) starts its own count.
  writeFileSync(anchorPath(f.dbPath), JSON.stringify({ gallery_id: 'ab'.repeat(16), generation: 1_000_000 }));
  g = await open(f);
  g.close();
  assert.equal(anchorOf(f).gallery_id, anchor.gallery_id);
  // Behind its own gallery's anchor: refused, and the anchor is left as it was.
  writeFileSync(anchorPath(f.dbPath), JSON.stringify({ ...anchor, generation: anchor.generation + 1 }));
  await assert.rejects(open(f), (e: unknown) => e instanceof FacegateError && e.code === 'FG_ERR_GALLERY_ROLLBACK');
  assert.equal(anchorOf(f).generation, anchor.generation + 1);
});

test('a fresh gallery gets its anchor at once, and an import raises it', async (t) => {
  const f = await enrolled(t);
  const path = f.d.path('fresh.db');
  const g = await Gallery.open({ path, keys: keyOptions(f.keyFile), logger: memoryLogger().logger, create: true });
  t.after(() => g.close());
  assert.ok(existsSync(anchorPath(path)));
  const at = g.generation;
  storePerson(g, { name: NAMES[0]! }, [{ embedding: unitVector(1), quality: 1, source: 's', model: 'm' }]);
  assert.ok(g.generation > at);
  assert.equal((JSON.parse(readFileSync(anchorPath(path), 'utf8')) as { generation: number }).generation, g.generation);
});
