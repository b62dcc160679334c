import '../support/cli-tier.js';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AuditLog } from '../../daemon/service/audit.js';
import { openDatabase } from '../../daemon/store/database.js';
import { runCli } from '../support/cli.js';

function freshLog(entries = 5) {
  const path = join(mkdtempSync(join(tmpdir(), 'fg-audit-')), 'state.db');
  const db = openDatabase(path);
  let t = 1_000;
  const log = new AuditLog(db, () => (t += 1_000));
  for (let i = 0; i < entries; i++) log.append({ actor: 'socket:admin', role: 'admin', action: i % 2 ? 'reload' : 'person.erase', target: `p${i}`, detail: { i }, outcome: 'ok' });
  return { path, db, log };
}

test('audit: an untouched chain verifies', () => {
  const { db, log } = freshLog();
  assert.deepEqual(log.verify(), { ok: true, entries: 5, fromSeq: 1, toSeq: 5, problems: [] });
  db.close();
});

test('audit: an edited entry, a deleted one and a cut-off tail are each found', () => {
  const edited = freshLog();
  edited.db.prepare("UPDATE audit_log SET target = 'someone-else' WHERE seq = 3").run();
  assert.deepEqual(edited.log.verify().problems.map((p) => [p.kind, p.seq]), [['edited', 3]]);

  const deleted = freshLog();
  deleted.db.prepare('DELETE FROM audit_log WHERE seq = 2').run();
  assert.deepEqual(deleted.log.verify().problems.map((p) => [p.kind, p.seq]), [['deleted', 2]]);

  const truncated = freshLog();
  truncated.db.prepare('DELETE FROM audit_log WHERE seq = 5').run();
  assert.deepEqual(truncated.log.verify().problems.map((p) => [p.kind, p.seq]), [['truncated', 5]]);

  // Rewriting a row with a recomputed hash still breaks the link to the next one.
  const rehashed = freshLog();
  const row = rehashed.db.prepare('SELECT * FROM audit_log WHERE seq = 2').get() as { prev_hash: string };
  rehashed.db.prepare("UPDATE audit_log SET hash = 'f00d' WHERE seq = 2").run();
  assert.ok(row);
  assert.deepEqual(rehashed.log.verify().problems.map((p) => [p.kind, p.seq]), [['edited', 2], ['deleted', 3]]);
  for (const l of [edited, deleted, truncated, rehashed]) l.db.close();
});

test('audit: a retention purge keeps the rest of the chain verifiable from its checkpoint', () => {
  const { db, log } = freshLog(6);
  assert.equal(log.purge(4_500), 3); // entries at 2000, 3000, 4000
  const v = log.verify();
  assert.deepEqual({ ok: v.ok, entries: v.entries, fromSeq: v.fromSeq, toSeq: v.toSeq }, { ok: true, entries: 3, fromSeq: 4, toSeq: 6 });
  log.append({ actor: 'retention', role: 'admin', action: 'audit.purge', detail: { deleted: 3 }, outcome: 'ok' });
  assert.equal(log.verify().ok, true);
  db.close();
});

test('facegate audit verify: exit 0 on an intact chain, 1 naming the entry after tampering', async () => {
  const { path, db } = freshLog(3);
  db.close();
  const ok = await runCli(['audit', 'verify', '--gallery', path]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /audit chain intact: 3 entries \(1\.\.3\)/);

  const tamper = openDatabase(path);
  tamper.prepare("UPDATE audit_log SET outcome = 'refused' WHERE seq = 2").run();
  tamper.close();
  const bad = await runCli(['audit', 'verify', '--gallery', path]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /audit: edited: entry 2 \(reload\) was changed after it was written/);
  assert.match(bad.stderr, /FG_ERR_AUDIT_TAMPERED/);

  const list = await runCli(['audit', 'list', '--gallery', path, '--json']);
  assert.equal(list.stdout.trim().split('\n').length, 3);
});
