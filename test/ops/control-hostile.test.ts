// The control sockets against a client that means harm: a member of the viewer group may send any
// bytes at all, hold connections open, or never read its answers. None of it may stop the daemon.
import '../support/fast-tier.js';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { AuditLog } from '../../daemon/service/audit.js';
import { callDaemon } from '../../daemon/control/client.js';
import { MAX_LINE_BYTES } from '../../daemon/control/protocol.js';
import { ControlServer, type Handlers } from '../../daemon/control/server.js';
import { createLogger } from '../../daemon/base/log.js';
import { openDatabase, type Database } from '../../daemon/store/database.js';

let dir: string;
let db: Database;
let audit: AuditLog;
let server: ControlServer;
const MAX_CONNECTIONS = 8;

const handlers: Handlers = {
  status: () => ({ summary: 'ok' }),
  cameras: () => [],
  'events.tail': (_p, ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve(null))),
  reload: () => ({}),
  'person.enrol': () => ({}),
  'person.promote': () => ({}),
  'person.photos': () => ({}),
  'person.add_photos': () => ({}),
  'person.remove_photo': () => ({}),
  'person.teach': () => ({}),
  'person.rename': () => ({}),
  'person.erase': () => {
    // A bug in a handler: not a FacegateError, and not even an Error.
    throw { toString: 1 };
  },
  'retention.purge': () => {
    throw new TypeError('boom');
  },
  'attendance.review.list': () => [],
  'attendance.review.confirm': () => ({}),
  'attendance.review.reject': () => ({}),
};

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fg-control-hostile-'));
  db = openDatabase(join(dir, 'state.db'));
  audit = new AuditLog(db);
  server = new ControlServer({
    dir: join(dir, 'run'),
    groups: { viewer: '', operator: '', admin: '' },
    handlers,
    audit,
    logger: createLogger({ level: 'silent' }),
    limits: { maxConnections: MAX_CONNECTIONS, idleTimeoutMs: 1000 },
  });
  await server.start();
});

after(async () => {
  await server.stop();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A raw connection to one role socket; answers collected line by line. */
async function raw(role = 'viewer', options: { allowHalfOpen?: boolean } = {}) {
  const s: Socket = connect({ path: join(dir, 'run', `${role}.sock`), allowHalfOpen: options.allowHalfOpen ?? false });
  await once(s, 'connect');
  const lines: Record<string, unknown>[] = [];
  let buf = '';
  const waiters: (() => void)[] = [];
  s.setEncoding('utf8');
  s.on('data', (d: string) => {
    buf += d;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      lines.push(JSON.parse(buf.slice(0, nl)) as Record<string, unknown>);
      buf = buf.slice(nl + 1);
    }
    for (const w of waiters.splice(0)) w();
  });
  s.on('error', () => undefined);
  const closed = new Promise<boolean>((r) => s.once('close', () => r(true)));
  let isClosed = false;
  void closed.then(() => (isClosed = true));
  return {
    s,
    lines,
    closed,
    /** Resolves once `n` answers came. */
    async answers(n: number) {
      while (lines.length < n) {
        if (isClosed) throw new Error(`connection closed after ${lines.length} answers: ${JSON.stringify(lines.slice(0, 5))}`);
        await Promise.race([new Promise<void>((r) => waiters.push(r)), closed]);
      }
      return lines;
    },
  };
}

const alive = async () => assert.deepEqual(await callDaemon({ dir: join(dir, 'run') }, 'status', 'viewer'), { summary: 'ok' });

test('control: JSON that is not a request object (null, a number, an array, a string) is refused with a code', async () => {
  const c = await raw();
  c.s.write('null\n42\n[1,2]\n"status"\ntrue\n{}\n');
  const got = await c.answers(6);
  for (const r of got) assert.deepEqual([r.ok, (r.error as { code: string }).code], [false, 'FG_ERR_CONTROL_BAD_REQUEST'], JSON.stringify(r));
  c.s.destroy();
  await alive();
});

test('control: fields of the wrong type, prototype keys and unknown keys are refused before any field is used', async () => {
  const c = await raw();
  const bad = [
    { id: 1, method: 'status', client: { toString: 1 } },
    { id: 2, method: { toString: 1 } },
    { id: 3, method: 'status', token: { valueOf: 1 } },
    { id: 4, method: 'status', params: [1, 2] },
    { id: 5, method: 'status', params: { __proto__: { polluted: 1 } } },
    { id: 6, method: 'toString' },
    { id: 7, method: '__proto__' },
    { id: 8, method: 'status', extra: 1 },
    { id: 9, method: 'status', params: { anything: 1 } },
  ];
  // JSON.stringify drops a literal __proto__ key: write it by hand.
  c.s.write(bad.map((b, i) => (i === 4 ? '{"id":5,"method":"status","params":{"__proto__":{"polluted":1}}}' : JSON.stringify(b))).join('\n') + '\n');
  c.s.write('{"id":10,"method":"status","__proto__":{"ok":true}}\n');
  const got = await c.answers(bad.length + 1);
  for (const r of got) {
    assert.equal(r.ok, false, JSON.stringify(r));
    assert.match((r.error as { code: string }).code, /^FG_ERR_CONTROL_(BAD_REQUEST|UNKNOWN_METHOD)$/, JSON.stringify(r));
  }
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  c.s.destroy();
  await alive();
});

test('control: an id that is not a safe integer is refused; a good one is echoed', async () => {
  const c = await raw();
  c.s.write('{"id":1e400,"method":"status"}\n{"id":-1,"method":"status"}\n{"id":1.5,"method":"status"}\n{"id":77,"method":"status"}\n');
  const got = await c.answers(4);
  assert.deepEqual(got.map((r) => r.ok), [false, false, false, true]);
  assert.equal(got[3]!.id, 77);
  c.s.destroy();
});

test('control: a handler that throws something odd is answered FG_ERR_CONTROL_FAILED, logged and audited; the daemon goes on', async () => {
  const c = await raw('admin');
  c.s.write('{"id":1,"method":"person.erase","params":{"id":"p1"}}\n{"id":2,"method":"retention.purge"}\n');
  const got = await c.answers(2);
  for (const r of got) assert.equal((r.error as { code: string }).code, 'FG_ERR_CONTROL_FAILED', JSON.stringify(r));
  const entries = audit.recent(2).map((e) => `${e.action} ${e.outcome}`);
  assert.deepEqual(entries.sort(), ['person.erase failed', 'retention.purge failed']);
  c.s.destroy();
  await alive();
});

test('control: a line over the limit is answered once, then the connection is closed and its buffer dropped', { timeout: 60_000 }, async () => {
  // Half-open: a client that keeps its side open and keeps writing after the refusal.
  const c = await raw('viewer', { allowHalfOpen: true });
  const chunk = Buffer.alloc(1024 * 1024, 'a'.charCodeAt(0));
  let written = 0;
  while (written <= MAX_LINE_BYTES && !c.s.destroyed) {
    if (!c.s.write(chunk)) await Promise.race([once(c.s, 'drain').catch(() => undefined), c.closed]);
    written += chunk.length;
  }
  // Keep writing: the server must not read (and keep) any of it.
  for (let i = 0; i < 64 && !c.s.destroyed; i++) if (!c.s.write(chunk)) await Promise.race([once(c.s, 'drain').catch(() => undefined), c.closed]);
  assert.equal(await c.closed, true);
  assert.equal(c.lines.length, 1);
  assert.equal((c.lines[0]!.error as { code: string }).code, 'FG_ERR_CONTROL_TOO_LARGE');
  while (server.stats().connections > 0) await new Promise((r) => setTimeout(r, 10));
  await alive();
});

test('control: a client that never reads its answers stops being read (backpressure); nothing is lost once it reads', { timeout: 120_000 }, async () => {
  const c = await raw();
  c.s.pause();
  const n = 100_000;
  const requests = Array.from({ length: n }, (_, i) => `{"id":${i + 1},"method":"status"}\n`).join('');
  c.s.write(requests);
  // The server stops reading once its answers to this connection are unread past the bound.
  while (!server.stats().paused) await new Promise((r) => setTimeout(r, 20));
  const { queuedBytes } = server.stats();
  assert.ok(queuedBytes <= 2 * 1024 * 1024, `the daemon holds ${queuedBytes} bytes for a client that does not read`);
  c.s.resume();
  const got = await c.answers(n);
  assert.equal(got.length, n);
  assert.ok(got.every((r) => r.ok === true));
  assert.deepEqual(got.slice(0, 3).map((r) => r.id), [1, 2, 3]);
  c.s.destroy();
});

test('control: connections past the cap are refused with a code; idle ones are closed', { timeout: 30_000 }, async () => {
  const held = await Promise.all(Array.from({ length: MAX_CONNECTIONS }, () => raw()));
  const extra = await raw();
  await extra.closed;
  assert.equal((extra.lines[0]?.error as { code: string } | undefined)?.code, 'FG_ERR_CONTROL_BUSY');
  // Idle connections (no call in progress) are closed after the idle timeout, freeing their slots.
  for (const h of held) assert.equal(await h.closed, true);
  await alive();
});
