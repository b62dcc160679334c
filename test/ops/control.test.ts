import '../support/fast-tier.js';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import { SignJWT } from 'jose';
import { AuditLog } from '../../daemon/service/audit.js';
import { callDaemon } from '../../daemon/control/client.js';
import { ControlServer, groupId, type Handlers } from '../../daemon/control/server.js';
import { tokenVerifier } from '../../daemon/control/token.js';
import { createLogger } from '../../daemon/base/log.js';
import { openDatabase, type Database } from '../../daemon/store/database.js';
import { FacegateError } from '../../daemon/base/errors.js';
import { ConfigReload } from '../../daemon/service/reload.js';

let dir: string;
let db: Database;
let audit: AuditLog;
let reloads: ConfigReload;
let server: ControlServer;
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const calls: string[] = [];

const handlers: Handlers = {
  status: () => ({ summary: 'ok' }),
  cameras: () => [],
  'events.tail': (_p, ctx) => {
    ctx.emit({ type: 'blink', camera: 'door' });
    ctx.emit({ type: 'recognized', camera: 'door' });
    return new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve(null)));
  },
  // The daemon's own reload service, which audits a reload with the caller as actor (the server does not).
  reload: (_p, ctx) => (calls.push('reload'), reloads.reload({ actor: ctx.actor, role: ctx.role })),
  'person.enrol': () => ({}),
  'person.promote': () => ({}),
  'person.photos': () => ({}),
  'person.add_photos': () => ({}),
  'person.remove_photo': () => ({}),
  'person.teach': () => ({}),
  'person.rename': () => ({}),
  'person.erase': (p) => {
    if (p.id === 'nobody') throw new FacegateError('FG_ERR_PERSON_NOT_FOUND', 'no person nobody');
    calls.push(`erase ${String(p.id)}`);
    return { id: p.id };
  },
  'retention.purge': () => ({}),
  'attendance.review.list': () => [],
  'attendance.review.confirm': () => ({}),
  'attendance.review.reject': () => ({}),
};

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fg-control-'));
  db = openDatabase(join(dir, 'state.db'));
  audit = new AuditLog(db);
  writeFileSync(join(dir, 'config.yaml'), 'cameras: []\n');
  reloads = new ConfigReload({ configPath: join(dir, 'config.yaml'), apply: () => ({ added: [], removed: [], changed: [], restartNeeded: [] }), audit });
  const keyFile = join(dir, 'central.pem');
  writeFileSync(keyFile, publicKey.export({ type: 'spki', format: 'pem' }));
  server = new ControlServer({
    dir: join(dir, 'run'),
    groups: { viewer: '', operator: '', admin: '' },
    handlers,
    audit,
    logger: createLogger({ level: 'silent' }),
    verifyToken: tokenVerifier(keyFile, 'gate-1'),
  });
  await server.start();
});

after(async () => {
  await server.stop();
  db.close();
});

/** Talks to exactly one role socket, as a user who may open only that one would. */
const only = (role: string) => ({ dir: join(dir, 'run'), role });
async function callAs(role: 'viewer' | 'operator' | 'admin', method: Parameters<typeof callDaemon>[1], params: Record<string, unknown> = {}, token?: string) {
  const t = only(role);
  return callDaemon({ dir: t.dir, ...(token ? { token } : {}) }, method, role, params);
}

test('control: one socket per role, mode 0660', () => {
  for (const role of ['viewer', 'operator', 'admin']) assert.equal(statSync(join(dir, 'run', `${role}.sock`)).mode & 0o777, 0o660);
  assert.equal(groupId('root'), 0);
  assert.equal(groupId('no-such-group-here'), undefined);
});

test('control: a viewer may read but not reload or erase; refusals are audited', async () => {
  assert.deepEqual(await callAs('viewer', 'status'), { summary: 'ok' });
  await assert.rejects(callAs('viewer', 'reload'), (e: unknown) => e instanceof FacegateError && e.code === 'FG_ERR_CONTROL_FORBIDDEN' && /reload needs the operator role; this connection has viewer/.test(e.message));
  await assert.rejects(callAs('operator', 'person.erase', { id: 'p1' }), /needs the admin role/);
  assert.deepEqual(calls, []);
  await callAs('operator', 'reload');
  await callAs('admin', 'person.erase', { id: 'p1' });
  await assert.rejects(callAs('admin', 'person.erase', { id: 'nobody' }), /FG_ERR_PERSON_NOT_FOUND|no person nobody/);
  assert.deepEqual(calls, ['reload', 'erase p1']);
  const entries = audit.recent(10).reverse().map((e) => `${e.action} ${e.role} ${e.outcome}`);
  // A call that reached its handler is its service's to audit (the reload service here; the person service's erase in
  // test/ops/person-entry-points.test.ts); the server audits the refusals only.
  assert.deepEqual(entries, ['reload viewer refused', 'person.erase operator refused', 'reload operator ok']);
  assert.equal(audit.verify().ok, true);
});

test('control: a signed token grants its role on any socket; a wrong or expired one is refused', async () => {
  const sign = (claims: Record<string, unknown>, exp = '5m', aud = 'gate-1') =>
    new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA' }).setSubject('central-ops').setAudience(aud).setIssuedAt().setExpirationTime(exp).sign(privateKey);
  await callAs('viewer', 'reload', {}, await sign({ role: 'operator' }));
  assert.equal(audit.recent(1)[0]!.actor, 'token:central-ops');
  await assert.rejects(callAs('viewer', 'reload', {}, await sign({ role: 'viewer' })), /needs the operator role/);
  await assert.rejects(callAs('admin', 'status', {}, await sign({ role: 'admin' }, '5m', 'other-box')), /FG_ERR_CONTROL_TOKEN|token refused/);
  await assert.rejects(callAs('admin', 'status', {}, await sign({ role: 'root' })), /role claim/);
});

test('control: events.tail streams until the client stops', async () => {
  const got: unknown[] = [];
  const abort = new AbortController();
  const done = callDaemon({ dir: join(dir, 'run') }, 'events.tail', 'viewer', {}, { signal: abort.signal, onEvent: (e) => (got.push(e), got.length === 2 && abort.abort()) });
  assert.equal(await done, null);
  assert.deepEqual(got, [{ type: 'blink', camera: 'door' }, { type: 'recognized', camera: 'door' }]);
});

test('control: no daemon listening says so with the fix', async () => {
  await assert.rejects(callDaemon({ dir: join(dir, 'nowhere') }, 'status', 'viewer'), (e: unknown) => e instanceof FacegateError && e.code === 'FG_ERR_DAEMON_NOT_RUNNING' && /systemctl start facegate/.test(e.hint ?? ''));
});

test('control: a daemon that takes the call and never answers: the client gives up with a code, says a change may still be made, and hangs up', async () => {
  const silent = mkdtempSync(join(tmpdir(), 'fg-silent-'));
  let closed: Promise<void> | undefined;
  // It reads what comes (so it sees the client hang up) and says nothing.
  const stuck = createServer((socket) => {
    closed = new Promise((resolve) => socket.on('close', () => resolve()));
    socket.resume();
  }).listen(join(silent, 'viewer.sock'));
  await once(stuck, 'listening');
  try {
    await assert.rejects(callDaemon({ dir: silent }, 'status', 'viewer', {}, { answerWithinMs: 200 }), (e: unknown) => e instanceof FacegateError && e.code === 'FG_ERR_DAEMON_TIMEOUT' && /did not answer status within 0.2 s/.test(e.message) && /journalctl -u facegate/.test(e.hint ?? ''));
    await closed;
    await assert.rejects(callDaemon({ dir: silent }, 'person.rename', 'viewer', { id: 'emp-7', name: 'May' }, { answerWithinMs: 200 }), (e: unknown) => e instanceof FacegateError && e.code === 'FG_ERR_DAEMON_TIMEOUT' && /may still make the change/.test(e.hint ?? ''));
  } finally {
    stuck.close();
  }
});

test('control: the audit trail keeps no name, external id or group in clear (the gallery seals them)', async () => {
  // Params of the wrong shape never reach the person service: the server audits the failure, with the error only.
  const before = audit.recent(1)[0]?.seq ?? 0;
  await assert.rejects(callAs('operator', 'person.enrol', { name: 'Ada Lovelace', id: 'EMP-0042', group: 'night-shift', images: 'x'.repeat(300) }), { code: 'FG_ERR_CONTROL_BAD_REQUEST' });
  const [entry] = audit.recent(1);
  assert.deepEqual([entry!.action, entry!.target, entry!.outcome, Object.keys(entry!.detail)], ['person.enrol', null, 'failed', ['error']]);
  // A call that reaches the service is audited there (with counts, never names), not here.
  await callAs('operator', 'person.enrol', { name: 'Ada Lovelace', id: 'EMP-0042', group: 'night-shift', images: [{ name: 'a.jpg', data: 'x'.repeat(300) }] });
  assert.equal(audit.recent(1)[0]!.seq, entry!.seq);
  assert.ok(entry!.seq > before);
  const raw = JSON.stringify(db.prepare('SELECT * FROM audit_log').all());
  for (const secret of ['Ada Lovelace', 'EMP-0042', 'night-shift']) assert.ok(!raw.includes(secret), `${secret} not in audit_log`);
});
