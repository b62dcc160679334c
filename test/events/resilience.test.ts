import '../support/paced-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sqlite } from '../../daemon/store/sqlite.js';
import { Mosquitto } from '../support/mosquitto.js';
import { EventsStack, Subscriber } from '../support/events-stack.js';

function tmp(t: { after(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'fg-ev-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('10,000 events while the broker is stopped (SIGTERM) and restarted 10 times: every id arrives', async (t) => {
  const broker = await Mosquitto.start();
  t.after(() => broker.dispose());
  const dir = tmp(t);
  const central = await Subscriber.connect(broker.url, 'facegate/test-device/bridge/event', 'central-restarts', {}, false);
  t.after(() => central.close());
  const stack = new EventsStack({ dbPath: join(dir, 'state.db'), keyPath: join(dir, 'device.key'), url: broker.url });
  stack.start();
  t.after(() => stack.stop());
  const written: string[] = [];
  const writeBatch = stack.db.transaction((n: number) => {
    for (let i = 0; i < n; i++) written.push(stack.writer.write('bridgeEvent', { type: 'burst', data: { i: written.length } }));
  });
  for (let round = 0; round < 10; round++) {
    for (let i = 0; i < 10; i++) {
      writeBatch(50); // 500 while the broker is up, some of them in flight at the stop
      await sleep(2);
    }
    await broker.stop('SIGTERM');
    for (let i = 0; i < 10; i++) writeBatch(50); // 500 while it is down
    await broker.start();
  }
  assert.equal(written.length, 10_000);
  await central.waitFor(() => central.unique.size >= written.length, 90_000, 'all 10,000 ids');
  const missing = written.filter((id) => !central.unique.has(id));
  assert.deepEqual(missing, [], `${missing.length} event ids never arrived`);
  assert.equal(central.unique.size, 10_000, 'nothing but the written ids');
  t.diagnostic(`received ${central.arrivals.length} messages for 10,000 events (${central.arrivals.length - central.unique.size} duplicates, by id)`);
  await central.waitFor(() => stack.outbox.stats(Date.now()).pending === 0, 10_000, 'outbox drained');
});

// The outage is six times the backoff's cap: long enough for the retries to reach the cap and stay
// there (it is reached 7.5 s in), and for the outbox to grow through it.
test('broker down for 30 s: the outbox grows, retries back off to their cap, then drains in order', async (t) => {
  const OUTAGE_MS = 30_000;
  const broker = await Mosquitto.start();
  t.after(() => broker.dispose());
  const dir = tmp(t);
  const central = await Subscriber.connect(broker.url, 'facegate/test-device/bridge/event', 'central-order', {}, false);
  t.after(() => central.close());
  // The daemon's shape of backoff, scaled down: 0.5 s doubling to a 5 s cap.
  const stack = new EventsStack({ dbPath: join(dir, 'state.db'), keyPath: join(dir, 'device.key'), url: broker.url, reconnect: { minMs: 500, maxMs: 5000 } });
  stack.start();
  t.after(() => stack.stop());
  await sleep(200);
  await broker.stop('SIGTERM');
  const down = Date.now();
  const written: string[] = [];
  const pending: number[] = [];
  // Events keep coming during the outage: 50 a second, more than a busy entrance makes.
  while (Date.now() - down < OUTAGE_MS) {
    stack.db.transaction(() => {
      for (let j = 0; j < 50; j++) written.push(stack.writer.write('bridgeEvent', { type: 'burst', data: { i: written.length } }));
    })();
    pending.push(stack.outbox.stats(Date.now()).pending);
    await sleep(1000);
  }
  assert.equal(stack.outbox.stats(Date.now()).pending, written.length, `all ${written.length} events wait in the outbox`);
  assert.ok(pending.every((n, i) => i === 0 || n > pending[i - 1]!), 'the outbox grew all along');
  assert.ok(stack.bridge.backoffAttempt >= 5, `backoff grew to its cap (attempt ${stack.bridge.backoffAttempt})`);
  await broker.start();
  const back = Date.now();
  await central.waitFor(() => central.unique.size >= written.length, 60_000, `${written.length} events`);
  t.diagnostic(`broker down ${((back - down) / 1000).toFixed(0)} s with ${written.length} events queued; all delivered ${((Date.now() - back) / 1000).toFixed(1)} s after its return`);
  const firsts = [...new Set(central.arrivals)];
  assert.deepEqual(firsts, written, 'first deliveries come in the order written');
});

test('the daemon SIGKILLed in the middle of a burst and started again: nothing lost', async (t) => {
  const broker = await Mosquitto.start();
  t.after(() => broker.dispose());
  const dir = tmp(t);
  const central = await Subscriber.connect(broker.url, 'facegate/test-device/bridge/event', 'central-kill', {}, false);
  t.after(() => central.close());
  const args = [join(dir, 'state.db'), join(dir, 'device.key'), broker.url];
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/burst-child.ts', ...args, '20000'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (/wrote (\d+)\n/.test(out) && Number([...out.matchAll(/wrote (\d+)/g)].pop()![1]) >= 3000) resolve();
    });
    child.once('exit', (code) => reject(new Error(`child exited ${code} before the kill`)));
  });
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  const db = new Sqlite(join(dir, 'state.db'), { readonly: true });
  const committed = (db.prepare('SELECT id FROM burst_log').all() as { id: string }[]).map((r) => r.id);
  const pendingAtKill = (db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n;
  db.close();
  assert.ok(committed.length >= 3000 && committed.length < 20000, `killed mid-burst (${committed.length} committed)`);
  t.diagnostic(`killed after ${committed.length} committed events, ${pendingAtKill} still in the outbox`);

  const again = spawn(process.execPath, ['--import', 'tsx', 'test/support/burst-child.ts', ...args, '0'], { stdio: ['ignore', 'ignore', 'inherit'] });
  t.after(() => again.kill('SIGKILL'));
  await central.waitFor(() => central.unique.size >= committed.length && committed.every((id) => central.unique.has(id)), 60_000, `${committed.length} committed ids`);
  again.kill('SIGTERM');
  await new Promise((r) => again.once('exit', r));
});

test('an event the broker refuses (not authorized) stays in the outbox and goes once allowed; others are not held up', async (t) => {
  const deny = 'topic readwrite facegate/test-device/bridge/#\ntopic read facegate/test-device/#\n';
  const broker = await Mosquitto.start({ acl: deny });
  t.after(() => broker.dispose());
  const dir = tmp(t);
  const central = await Subscriber.connect(broker.url, 'facegate/test-device/#', 'central-acl', {}, false);
  t.after(() => central.close());
  const stack = new EventsStack({ dbPath: join(dir, 'state.db'), keyPath: join(dir, 'device.key'), url: broker.url, refusedRetryMs: 200 });
  stack.start();
  t.after(() => stack.stop());
  const refusedId = stack.writer.write('spoof', { type: 'spoof', camera: 'gate', anonymous_id: 'a1', person_id: null, reason: 'passive', score: 0.1 });
  const laterId = stack.writer.write('bridgeEvent', { type: 'after', data: {} });
  await central.waitFor(() => central.unique.has(laterId), 5000, 'the allowed event');
  assert.ok(!central.unique.has(refusedId));
  await central.waitFor(() => stack.publisher.failures >= 1, 5000, 'a refusal');
  await central.waitFor(() => stack.outbox.stats(Date.now()).pending === 1, 5000, `only the refused event kept (pending ${stack.outbox.stats(Date.now()).pending})`);
  assert.equal(stack.outbox.readAfter(0, 10)[0]?.eventId, refusedId);
  broker.reloadAcl('topic readwrite facegate/test-device/#\n');
  await central.waitFor(() => central.unique.has(refusedId), 10_000, 'the refused event after the ACL allows it');
});
