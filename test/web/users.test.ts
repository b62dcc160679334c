// Console accounts: Argon2id hashes in a real state file, lockout, rotating refresh tokens, the CLI.
import '../support/cli-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../daemon/store/database.js';
import { MIGRATIONS } from '../../daemon/store/migrations.js';
import { UUID_V7_PATTERN } from '../../contract/fields.js';
import { AuditLog } from '../../daemon/service/audit.js';
import { PasswordHasher } from '../../daemon/web/passwords.js';
import { UserStore } from '../../daemon/web/users.js';
import { AccessTokens } from '../../daemon/web/access-tokens.js';
import { runCli } from '../support/cli.js';

const CLI = { actor: 'cli:test', role: 'admin' } as const;
const PW = 'correct horse battery staple';

/** The real hasher, counting the checks it makes: each login attempt must cost one, whatever its answer. */
class CountingHasher extends PasswordHasher {
  verified = 0;
  override verify(hash: string | undefined, password: string): Promise<boolean> {
    this.verified++;
    return super.verify(hash, password);
  }
}

async function store(now: { ms: number }) {
  const path = join(mkdtempSync(join(tmpdir(), 'fg-web-users-')), 'state.db');
  const db = openDatabase(path);
  const audit = new AuditLog(db, () => now.ms);
  const hasher = new CountingHasher();
  return { db, path, audit, hasher, users: new UserStore(db, hasher, audit, () => now.ms) };
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
  const { db, users, audit, hasher } = await store(now);
  await users.add('alice', PW, undefined, CLI);
  const rules = { failures: 3, lockMs: 60_000 };
  assert.equal((await users.login('alice', PW, rules, '127.0.0.1')).ok, true);
  assert.deepEqual(await users.login('alice', 'guess-1', rules, '127.0.0.1'), { ok: false });
  assert.deepEqual(await users.login('nobody', 'guess', rules, '127.0.0.1'), { ok: false });
  await users.login('alice', 'guess-2', rules, '127.0.0.1');
  assert.deepEqual(await users.login('alice', 'guess-3', rules, '127.0.0.1'), { ok: false });
  assert.ok(users.find('alice')!.lockedUntilMs > now.ms, 'locked');
  const checks = hasher.verified;
  assert.deepEqual(await users.login('alice', PW, rules, '127.0.0.1'), { ok: false }, 'locked: the right password is refused, alike');
  assert.deepEqual(await users.login('nobody', PW, rules, '127.0.0.1'), { ok: false });
  assert.equal(hasher.verified - checks, 2, 'a locked account and an unknown name each cost one hash, as a known one does');
  now.ms += 61_000;
  assert.equal((await users.login('alice', PW, rules, '127.0.0.1')).ok, true, 'the lock ends');
  const entries = audit.recent(20).reverse();
  assert.deepEqual(
    entries.map((e) => `${e.action}:${e.outcome}`),
    ['user.add:ok', 'web.login:ok', 'web.login:failed', 'web.login:failed', 'web.login:failed', 'web.login:failed', 'web.lockout:refused', 'web.login:refused', 'web.login:failed', 'web.login:ok'],
  );
  assert.equal(entries[3]!.target, null, 'an unknown name is not written down (it may be a password)');
  assert.equal(JSON.stringify(entries).includes('guess'), false);
  assert.equal(audit.verify().ok, true);
  db.close();
});

test('login: the right password queued behind wrong guesses is refused once they lock the account meanwhile', async () => {
  const now = { ms: 1_700_000_000_000 };
  const { db, users } = await store(now);
  await users.add('alice', PW, undefined, CLI);
  const rules = { failures: 3, lockMs: 60_000 };
  // All sent before the first hash is done: none of them sees a lock when it arrives.
  const guesses = Array.from({ length: 9 }, (_, i) => users.login('alice', `guess-${i}`, rules, '127.0.0.1'));
  const right = users.login('alice', PW, rules, '127.0.0.1');
  assert.deepEqual(await right, { ok: false });
  for (const g of await Promise.all(guesses)) assert.deepEqual(g, { ok: false });
  assert.ok(users.find('alice')!.lockedUntilMs > now.ms);
  db.close();
});

test('refresh tokens rotate; a reused one ends its login; a password change ends every session', async () => {
  const now = { ms: 1_700_000_000_000 };
  const { db, users, audit } = await store(now);
  const alice = await users.add('alice', PW, undefined, CLI);
  const first = users.issueRefresh(alice.id, 3_600_000);
  const second = users.rotateRefresh(first.token, 3_600_000);
  assert.ok(second && second.user.name === 'alice' && second.refresh.token !== first.token && second.refresh.family === first.family);
  assert.equal(users.sessionLive(alice.id, first.family), true);
  assert.equal(users.rotateRefresh(first.token, 3_600_000), undefined, 'a spent token is refused');
  assert.equal(users.rotateRefresh(second.refresh.token, 3_600_000), undefined, '...and its whole family is revoked');
  assert.equal(users.sessionLive(alice.id, first.family), false, '...and with it the login');
  assert.equal(audit.recent(1)[0]!.action, 'web.refresh_reused');
  const other = users.issueRefresh(alice.id, 3_600_000);
  now.ms += 3_600_001;
  assert.equal(users.rotateRefresh(other.token, 3_600_000), undefined, 'an expired token is refused');
  const live = users.issueRefresh(alice.id, 3_600_000);
  assert.equal(users.revokeFamilyOf(live.token)?.name, 'alice');
  assert.equal(users.rotateRefresh(live.token, 3_600_000), undefined, 'logout revokes');
  assert.equal(users.sessionLive(alice.id, live.family), false, 'logout ends the login');
  const again = users.issueRefresh(alice.id, 3_600_000);
  const before = users.find('alice')!.tokenVersion;
  await users.passwd('alice', 'another long passphrase', CLI);
  assert.equal(users.rotateRefresh(again.token, 3_600_000), undefined, 'a password change revokes');
  assert.equal(users.sessionLive(alice.id, again.family), false);
  assert.equal(users.find('alice')!.tokenVersion, before + 1);
  assert.equal(users.rotateRefresh('not-a-token', 3_600_000), undefined);
  db.close();
});

test('accounts: a role change outdates access tokens but keeps logins; a name given again is a new account with a new id', async () => {
  const now = { ms: 1_700_000_000_000 };
  const { db, users, audit } = await store(now);
  await users.add('alice', PW, undefined, CLI);
  const bob = await users.add('bob', PW, 'operator', CLI);
  assert.match(bob.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7/);
  const login = users.issueRefresh(bob.id, 3_600_000);
  assert.equal(users.setRole('bob', 'viewer', CLI).tokenVersion, bob.tokenVersion + 1);
  assert.equal(users.sessionLive(bob.id, login.family), true, 'the login goes on...');
  assert.equal(users.rotateRefresh(login.token, 3_600_000)?.user.role, 'viewer', '...and its next refresh carries the new role');
  assert.deepEqual(audit.recent(1)[0]!.detail, { from: 'operator', to: 'viewer' });
  assert.throws(() => users.setRole('alice', 'viewer', CLI), { code: 'FG_ERR_WEB_LAST_ADMIN' });
  assert.throws(() => users.setRole('nobody', 'viewer', CLI), { code: 'FG_ERR_WEB_USER_NOT_FOUND' });
  users.remove('bob', CLI);
  const bob2 = await users.add('bob', PW, 'admin', CLI);
  assert.notEqual(bob2.id, bob.id);
  assert.equal(bob2.tokenVersion, bob.tokenVersion, 'the version starts again: only the id tells the two apart');
  assert.equal(users.byId(bob.id), undefined);
  assert.equal(users.sessionLive(bob2.id, login.family), false, "the old account's login is not the new one's");
  db.close();
});

test('migration 10: accounts made before ids get one, and their logins go on', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'fg-web-migrate-')), 'state.db');
  const old = openDatabase(path, { migrations: MIGRATIONS.slice(0, 8) });
  old.prepare("INSERT INTO web_users (name, role, password_hash, created_ms) VALUES ('alice', 'admin', 'h1', 1), ('bob', 'viewer', 'h2', 2)").run();
  old.prepare("INSERT INTO web_refresh_tokens (token_hash, user_name, family, expires_ms) VALUES ('t1', 'bob', 'f1', 9e15)").run();
  old.close();
  const db = openDatabase(path);
  const rows = db.prepare('SELECT id, name FROM web_users ORDER BY name').all() as { id: string; name: string }[];
  assert.deepEqual(rows.map((r) => r.name), ['alice', 'bob']);
  for (const r of rows) assert.match(r.id, new RegExp(UUID_V7_PATTERN));
  assert.notEqual(rows[0]!.id, rows[1]!.id);
  assert.deepEqual(db.prepare('SELECT user_id, family FROM web_refresh_tokens').all(), [{ user_id: rows[1]!.id, family: 'f1' }]);
  db.prepare('DELETE FROM web_users WHERE name = ?').run('bob');
  assert.equal((db.prepare('SELECT COUNT(*) AS n FROM web_refresh_tokens').get() as { n: number }).n, 0, 'removing an account still takes its refresh tokens');
  db.close();
});

test('access tokens: signed by this daemon only, expiring, with the role', async () => {
  const tokens = new AccessTokens(60, 'dev-1');
  const t = await tokens.sign({ user: '0190a5c4-0000-7000-8000-000000000001', role: 'operator', tokenVersion: 3, session: 'f1' });
  assert.deepEqual(await tokens.verify(t), { user: '0190a5c4-0000-7000-8000-000000000001', role: 'operator', tokenVersion: 3, session: 'f1' });
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
  const demoted = await runCli(['user', 'role', 'olga', 'viewer', '--gallery', gallery]);
  assert.equal(demoted.code, 0, demoted.stderr);
  assert.match(demoted.stdout, /olga is now viewer/);
  assert.equal((await runCli(['user', 'role', 'olga', 'root', '--gallery', gallery])).code, 2);
  const last = await runCli(['user', 'role', 'alice', 'operator', '--gallery', gallery]);
  assert.equal(last.code, 1);
  assert.match(last.stderr, /FG_ERR_WEB_LAST_ADMIN/);
  const list = await runCli(['user', 'list', '--json', '--gallery', gallery]);
  assert.deepEqual(list.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { name: string; role: string }).role), ['admin', 'viewer']);
  assert.equal((await runCli(['user', 'remove', 'olga', '--gallery', gallery])).code, 0);
  for (const r of [add, op, list]) assert.equal((r.stdout + r.stderr).includes(PW), false);
});
