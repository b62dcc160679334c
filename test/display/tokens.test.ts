// Door display tokens on a real state file: made (shown once, kept as a hash), bound to one door,
// listed, revoked, each change audited without the token; refused with coded errors that say what
// to do; and the same through the built CLI, `facegate display token add / list / revoke`.
import '../support/cli-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { AuditLog } from '../../daemon/service/audit.js';
import { DisplayTokenService, MAX_DISPLAY_TOKENS } from '../../daemon/service/display-tokens.js';
import { openDatabase } from '../../daemon/store/database.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../gallery/helpers.js';

const ADMIN = { actor: 'cli:test', role: 'admin' } as const;

function rig(t: Parameters<typeof tempDir>[0]) {
  const d = tempDir(t);
  const path = d.path('state.db');
  const db = openDatabase(path);
  t.after(() => db.close());
  const audit = new AuditLog(db);
  return { d, path, db, audit, tokens: new DisplayTokenService({ db, audit, targets: () => ['front', 'hall'] }) };
}

test('a display token opens its own door\'s feed alone, is kept only as a hash, and each change is audited without it', (t) => {
  const r = rig(t);
  const { token, record } = r.tokens.add('front', 'first_name', 'lobby tablet', ADMIN);
  assert.match(token, /^fgd_[A-Za-z0-9_-]{43}$/);
  assert.deepEqual(r.tokens.open(token, 'front'), { ok: true, record });
  assert.deepEqual(r.tokens.open(token, 'hall'), { ok: false, why: 'other_target', record });
  // One character changed (never to itself: a token's last character is 'A' one time in sixteen).
  const altered = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
  assert.equal(r.tokens.open(altered, 'front').ok, false);
  assert.deepEqual(r.tokens.open('', 'front'), { ok: false, why: 'invalid' });
  assert.deepEqual(r.tokens.list(), [record]);
  r.db.pragma('wal_checkpoint(TRUNCATE)');
  assert.equal(readFileSync(r.path).includes(token), false, 'the token is not in the state file');
  const entries = r.audit.recent(10);
  assert.ok(entries.some((e) => e.action === 'display.token.add' && e.target === 'front' && e.outcome === 'ok'));
  assert.equal(JSON.stringify(entries).includes(token), false, 'the token is not in the audit log');

  assert.equal(r.tokens.revoke(record.id, ADMIN).id, record.id);
  assert.deepEqual(r.tokens.open(token, 'front'), { ok: false, why: 'invalid' });
  assert.deepEqual([...r.tokens.stillValid([record.id])], []);
  assert.ok(r.audit.recent(10).some((e) => e.action === 'display.token.revoke' && e.target === record.id && e.outcome === 'ok'));
  assert.equal(r.audit.verify().ok, true);
});

test('display tokens: an unknown door, a bad label or setting, an unknown id and a full box are refused with a code and the next step; nothing is stored', (t) => {
  const r = rig(t);
  const refused = (fn: () => unknown, code: string, hint: RegExp) =>
    assert.throws(fn, (e: Error & { code?: string; hint?: string }) => {
      assert.equal(e.code, code);
      assert.match(e.hint ?? '', hint);
      return true;
    });
  refused(() => r.tokens.add('back', 'first_name', '', ADMIN), 'FG_ERR_DISPLAY_TARGET', /front, hall/);
  refused(() => r.tokens.add('front', 'portrait' as 'none', '', ADMIN), 'FG_ERR_DISPLAY_SHOW', /first_name, full_name, photo, none/);
  refused(() => r.tokens.add('front', 'none', 'tablet\u001b[2J', ADMIN), 'FG_ERR_DISPLAY_LABEL', /lobby tablet/);
  refused(() => r.tokens.add('front', 'none', 'x'.repeat(65), ADMIN), 'FG_ERR_DISPLAY_LABEL', /lobby tablet/);
  refused(() => r.tokens.revoke('0193b0c4-5d1e-7a2b-8c3d-4e5f60718293', ADMIN), 'FG_ERR_DISPLAY_TOKEN_NOT_FOUND', /display token list/);
  refused(() => r.tokens.revoke("'; DROP TABLE display_tokens; --", ADMIN), 'FG_ERR_DISPLAY_TOKEN_NOT_FOUND', /display token list/);
  assert.deepEqual(r.tokens.list(), []);
  assert.ok(r.audit.recent(10).every((e) => e.outcome === 'failed'));
  for (let i = 0; i < MAX_DISPLAY_TOKENS; i++) r.tokens.add('hall', 'none', '', ADMIN);
  refused(() => r.tokens.add('hall', 'none', '', ADMIN), 'FG_ERR_DISPLAY_TOKENS_FULL', /revoke/);
  assert.equal(r.tokens.list().length, MAX_DISPLAY_TOKENS);
});

test('facegate display token add / list / revoke: the link printed once, the doors of the config, coded refusals', async (t) => {
  const r = rig(t);
  const config = r.d.path('config.yaml');
  writeFileSync(
    config,
    `gallery:\n  path: ${r.path}\n  key_file: ${r.d.path('gallery.key')}\n` +
      'cameras:\n  - { name: a, url: "rtsp://127.0.0.1:8554/a" }\n  - { name: b, url: "rtsp://127.0.0.1:8554/b" }\n  - { name: hall, url: "rtsp://127.0.0.1:8554/hall" }\n' +
      'doors:\n  - { name: front, cameras: [a, b] }\n',
  );
  const add = await runCli(['display', 'token', 'add', 'front', '--label', 'lobby tablet', '--config', config]);
  assert.equal(add.code, 0, add.stderr);
  const token = /#(fgd_[A-Za-z0-9_-]{43})/.exec(add.stdout)?.[1];
  assert.ok(token, add.stdout);
  assert.match(add.stdout, /open on the display: http:\/\/127\.0\.0\.1:8443\/display\/front#fgd_/);
  const json = await runCli(['display', 'token', 'add', 'hall', '--show', 'full_name', '--json', '--config', config]);
  assert.equal(json.code, 0, json.stderr);
  const made = JSON.parse(json.stdout) as { id: string; target: string; show: string; path: string };
  assert.equal(made.target, 'hall');
  assert.equal(made.show, 'full_name');
  // A camera of a door shows on its door: it is no display target of its own.
  const camera = await runCli(['display', 'token', 'add', 'a', '--config', config]);
  assert.equal(camera.code, 1);
  assert.match(camera.stderr, /FG_ERR_DISPLAY_TARGET.*front, hall/s);
  const show = await runCli(['display', 'token', 'add', 'front', '--show', 'portrait', '--config', config]);
  assert.equal(show.code, 2);
  assert.match(show.stderr, /FG_ERR_USAGE: --show must be one of first_name, full_name, photo, none/);

  const list = await runCli(['display', 'token', 'list', '--json', '--config', config]);
  assert.equal(list.code, 0, list.stderr);
  const rows = list.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; target: string; label: string });
  assert.deepEqual(rows.map((row) => [row.target, row.label]), [['front', 'lobby tablet'], ['hall', '']]);
  assert.equal(list.stdout.includes('fgd_'), false, 'the list never shows a token');

  const revoke = await runCli(['display', 'token', 'revoke', made.id, '--config', config]);
  assert.equal(revoke.code, 0, revoke.stderr);
  assert.equal(r.tokens.open(made.path.split('#')[1]!, 'hall').ok, false);
  const again = await runCli(['display', 'token', 'revoke', made.id, '--config', config]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /FG_ERR_DISPLAY_TOKEN_NOT_FOUND/);
  assert.equal(r.tokens.open(token, 'front').ok, true);
  assert.ok(r.audit.recent(20).some((e) => e.action === 'display.token.add' && e.actor.startsWith('cli:')));
});
