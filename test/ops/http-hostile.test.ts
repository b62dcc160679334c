// The loopback metrics port against any local user: idle connections by the thousand, requests
// never finished, and an endpoint that fails. The daemon's file descriptors stay bounded and it goes on.
import '../support/fast-tier.js';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog } from '../../daemon/service/audit.js';
import { OpsHttpServer } from '../../daemon/system/http.js';
import { openDatabase } from '../../daemon/store/database.js';
import { createLogger } from '../../daemon/base/log.js';

function start(metrics: () => string, limits = {}, audit?: AuditLog) {
  const server = new OpsHttpServer({
    ...(audit ? { audit } : {}),
    host: '127.0.0.1',
    port: 0,
    metrics,
    liveness: () => ({ alive: true, problems: [] }),
    status: () => 'ok',
    logger: createLogger({ level: 'silent' }),
    limits: { maxConnections: 16, headersTimeoutMs: 1000, requestTimeoutMs: 2000, keepAliveTimeoutMs: 500, idleTimeoutMs: 1000, ...limits },
  });
  return server;
}

function open(port: number): { s: Socket; closed: Promise<boolean>; data: () => string } {
  const s = connect(port, '127.0.0.1');
  let got = '';
  s.on('data', (d: Buffer) => (got += d.toString()));
  s.on('error', () => undefined);
  return { s, closed: new Promise((r) => s.once('close', () => r(true))), data: () => got };
}

test('metrics port: connections past the cap are closed at once; idle and half-sent ones are closed after the timeouts', { timeout: 30_000 }, async () => {
  const server = start(() => 'facegate_up 1\n');
  const port = await server.start();
  try {
    const conns = Array.from({ length: 200 }, () => open(port));
    await Promise.all(conns.map((c) => new Promise((r) => (c.s.once('connect', r), c.s.once('close', r)))));
    // Some send half a request and stop.
    for (const c of conns.slice(0, 4)) c.s.write('GET /metrics HTTP/1.1\r\nHost: x\r\n');
    assert.ok(server.connections() <= 16, `${server.connections()} connections held`);
    // Every one of them is closed in the end, without the client doing anything.
    for (const c of conns) assert.equal(await c.closed, true);
    while (server.connections() > 0) await new Promise((r) => setTimeout(r, 20));
    // And the port still serves.
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'facegate_up 1\n');
  } finally {
    await server.stop();
  }
});

test('metrics port: an endpoint that throws is answered 500 with a code and audited with the client address; the server goes on', async () => {
  let fail = true;
  const dir = mkdtempSync(join(tmpdir(), 'fg-http-audit-'));
  const db = openDatabase(join(dir, 'state.db'));
  const audit = new AuditLog(db);
  const server = start(
    () => {
      if (fail) throw new TypeError('a bug in a metric');
      return 'facegate_up 1\n';
    },
    {},
    audit,
  );
  const port = await server.start();
  try {
    const bad = await fetch(`http://127.0.0.1:${port}/metrics`);
    assert.equal(bad.status, 500);
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'FG_ERR_HTTP_FAILED');
    const [entry] = audit.recent(1);
    // Who asked: the scraper's address, which off loopback (metrics.host) is not always 127.0.0.1.
    assert.deepEqual([entry?.actor, entry?.action, entry?.outcome], ['http:127.0.0.1', 'http', 'failed'], 'the failure audited with the client address');
    fail = false;
    assert.equal((await fetch(`http://127.0.0.1:${port}/metrics`)).status, 200);
  } finally {
    await server.stop();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('metrics port: a request with oversized headers or a body is refused, not buffered', async () => {
  const server = start(() => 'facegate_up 1\n');
  const port = await server.start();
  try {
    const c = open(port);
    c.s.write(`GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
    await c.closed;
    assert.match(c.data(), /^HTTP\/1\.1 431/);
    const post = await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'POST', body: 'x'.repeat(1024) });
    assert.equal(post.status, 405);
  } finally {
    await server.stop();
  }
});
