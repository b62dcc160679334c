// Console accounts: Argon2id hashes in a real state file, lockout, rotating refresh tokens, the CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../daemon/store/database.js';
import { AuditLog } from '../../daemon/ops/audit.js';
import { PasswordHasher } from '../../daemon/web/passwords.js';
import { UserStore } from '../../daemon/web/users.js';
import { AccessTokens } from '../../daemon/web/access-tokens.js';
import { runCli } from '../support/cli.js';

const CLI = { actor: 'cli:test', role: 'admin' } as const;
const PW = 'correct horse battery staple';

async function store(now: { ms: number }) {
  const path = join(mkdtempSync(join(tmpdir(), 'fg-web-users-')), 'state.db');
  const db = openDatabase(path);
  const audit = new AuditLog(db, () => now.ms);
  return { db, path, audit, users: new UserStore(db, new PasswordHasher(), audit, () => now.ms) };
}

test('accounts: the first is an admin, hashes are Argon2id, names and passwords are checked, the last admin stays', async () => {
  const now = { ms: 1_700_000_000_000 };
  const { db, path, users, audit } = await store(now);
  await assert.rejects(async () => await users.add('alice', PW, 'viewer', CLI), { code: 'FG_ERR_WEB_FIRST_USER_ADMIN' });
  assert.equal((await users.add('alice', PW, undefined, CLI)).role, 'admin');
  assert.equal((await users.add('bob', PW, undefined, CLI)).role, 'viewer');
  await assert.rejects(async () => await users.add('bob', PW, 'operator', CLI), { code: 'FG_ERR_WEB_USER_EXISTS' });
  await assert.rejects(async () => await users.add('Bad Name', PW, 'operator', CLI), { code: 'FG_ERR_WEB_USER_NAME' });
  await assert.rejects(async () => await users.add('carol', 'short', 'operator', CLI), { code: 'FG_ERR_WEB_PASSWORD_WEAK' });
  await assert.rejects(async () => await users.passwd('nobody', PW, CLI), { code: 'FG_ERR_WEB_USER_NOT_FOUND' });
  await assert.rejects(async () => users.remove('alice', CLI), { code: 'FG_ERR_WEB_LAST_ADMIN' });
  users.remove('bob', CLI);
  const hash = (db.prepare("SELECT password_hash FROM web_users WHERE name = 'alice'").get() as { password_hash: string }).password_hash;
  assert.match(hash, /^\$argon2id\$v=19\$m=65536,t=2,p=1\$/);
  assert.deepEqual(audit.recent(10).map((e) => e.action).reverse(), ['user.add', 'user.add', 'user.remove']);
  db.close();
  const file = readFileSync(path);
  assert.equal(file.includes(Buffer.from(PW)), false, 'the password is nowhere in the state file');
});

test('login: wrong passwords lock the account for a while, the right one then waits too; all audited without the password', async () => {
  const now = { ms: 1_700_000_000_000 };
  const { db, users, audit } = await store(now);
  await users.add('alice', PW, undefined, CLI);
  const rules = { failures: 3, lockMs: 60_000 };
  assert.equal((await users.login('alice', PW, rules, '127.0.0.1')).ok, true);
  assert.deepEqual(await users.login('alice', 'guess-1', rules, '127.0.0.1'), { ok: false, locked: false });
  assert.deepEqual(await users.login('nobody', 'guess', rules, '127.0.0.1'), { ok: false, locked: false });
  await users.login('alice', 'guess-2', rules, '127.0.0.1');
  assert.deepEqual(await users.login('alice', 'guess-3', rules, '127.0.0.1'), { ok: false, locked: true, retryAfterS: 60 });
  assert.deepEqual(await users.login('alice', PW, rules, '127.0.0.1'), { ok: false, locked: true, retryAfterS: 60 });
  now.ms += 61_000;
  assert.equal((await users.login('alice', PW, rules, '127.0.0.1')).ok, true, 'the lock ends');
  const entries = audit.recent(20).reverse();
  assert.deepEqual(
    entries.map((e) => `${e.action}:${e.outcome}`),
    ['user.add:ok', 'web.login:ok', 'web.login:failed', 'web.login:failed', 'web.login:failed', 'web.login:failed', 'web.lockout:refused', 'web.login:refused', 'web.login:ok'],
  );
  assert.equal(entries[3]!.target, null, 'an unknown name is not written down (it may be a password)');
  assert.equal(JSON.stringify(entries).includes('guess'), false);
  assert.equal(audit.verify().ok, true);
  db.close();
});

test('refresh tokens rotate; a reused one ends its login; a password change ends every session', async () => {
  const now = { ms: 1_700_000_000_000 };
  const { db, users, audit } = await store(now);
  await users.add('alice', PW, undefined, CLI);
  const first = users.issueRefresh('alice', 3_600_000);
  const second = users.rotateRefresh(first, 3_600_000);
  assert.ok(second && second.user.name === 'alice' && second.token !== first);
  assert.equal(users.rotateRefresh(first, 3_600_000), undefined, 'a spent token is refused');
  assert.equal(users.rotateRefresh(second.token, 3_600_000), undefined, '...and its whole family is revoked');
  assert.equal(audit.recent(1)[0]!.action, 'web.refresh_reused');
  const other = users.issueRefresh('alice', 3_600_000);
  now.ms += 3_600_001;
  assert.equal(users.rotateRefresh(other, 3_600_000), undefined, 'an expired token is refused');
  const live = users.issueRefresh('alice', 3_600_000);
  assert.equal(users.revokeFamilyOf(live), 'alice');
  assert.equal(users.rotateRefresh(live, 3_600_000), undefined, 'logout revokes');
  const again = users.issueRefresh('alice', 3_600_000);
  const before = users.find('alice')!.tokenVersion;
  await users.passwd('alice', 'another long passphrase', CLI);
  assert.equal(users.rotateRefresh(again, 3_600_000), undefined, 'a password change revokes');
  assert.equal(users.find('alice')!.tokenVersion, before + 1);
  assert.equal(users.rotateRefresh('not-a-token', 3_600_000), undefined);
  db.close();
});

test('access tokens: signed by this daemon only, expiring, with the role', async () => {
  const tokens = new AccessTokens(60, 'dev-1');
  const t = await tokens.sign({ user: 'alice', role: 'operator', tokenVersion: 3 });
  assert.deepEqual(await tokens.verify(t), { user: 'alice', role: 'operator', tokenVersion: 3 });
  assert.equal(await new AccessTokens(60, 'dev-1').verify(t), undefined, "another daemon's key");
  // Change a signature character in its high bits, so the change is never a no-op (the last
  // character carries only 2 bits, and a fixed replacement equals the original now and then).
  const at = t.length - 10;
  const tampered = t.slice(0, at) + (t[at] === 'A' ? 'B' : 'A') + t.slice(at + 1);
  assert.notEqual(tampered, t);
  assert.equal(await tokens.verify(tampered), undefined, 'a changed signature');
  assert.equal(await tokens.verify('garbage'), undefined);
});

test('facegate user add|passwd|list|remove: password on stdin only, never in argv or output', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-web-cli-'));
  const gallery = join(dir, 'state.db');
  openDatabase(gallery).close();
  const add = await runCli(['user', 'add', 'alice', '--gallery', gallery], { input: `${PW}\n` });
  assert.equal(add.code, 0, add.stderr);
  assert.match(add.stdout, /alice added \(admin\)/);
  const op = await runCli(['user', 'add', 'olga', '--role', 'operator', '--gallery', gallery], { input: `${PW}\n` });
  assert.equal(op.code, 0, op.stderr);
  const bad = await runCli(['user', 'add', 'eve', '--role', 'root', '--gallery', gallery], { input: `${PW}\n` });
  assert.equal(bad.code, 2);
  const none = await runCli(['user', 'add', 'eve', '--gallery', gallery]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /no password/);
  const weak = await runCli(['user', 'passwd', 'olga', '--gallery', gallery], { input: 'short\n' });
  assert.equal(weak.code, 1);
  assert.match(weak.stderr, /FG_ERR_WEB_PASSWORD_WEAK/);
  const list = await runCli(['user', 'list', '--json', '--gallery', gallery]);
  assert.deepEqual(list.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { name: string; role: string }).role), ['admin', 'operator']);
  assert.equal((await runCli(['user', 'remove', 'olga', '--gallery', gallery])).code, 0);
  for (const r of [add, op, list]) assert.equal((r.stdout + r.stderr).includes(PW), false);
});
