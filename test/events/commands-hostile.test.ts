// Remote commands under hostile input, over a real Mosquitto and a real SQLite file: junk floods,
// retained requests, and a daemon that dies between running commands and delivering their answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID, createPublicKey, type JsonWebKey } from 'node:crypto';
import { SignJWT, compactVerify, exportJWK, generateKeyPair, importJWK, type CryptoKey } from 'jose';
import mqtt from 'mqtt';
import { Mosquitto } from '../support/mosquitto.js';
import { EventsStack, quietLogger } from '../support/events-stack.js';
import { CommandRouter } from '../../daemon/remote/router.js';
import { CommandAudit, ReplayCache } from '../../daemon/service/command-records.js';
import type { FloodWindow } from '../../daemon/remote/flood.js';
import type { CommandDeps } from '../../daemon/remote/handlers.js';
import { FakePersons, noReviews } from '../support/fake-persons.js';

const central = await generateKeyPair('EdDSA', { extractable: true });
const centralPublic = createPublicKey({ key: (await exportJWK(central.publicKey)) as JsonWebKey, format: 'jwk' });

function sign(cmd: string, data: Record<string, unknown> = {}, key: CryptoKey = central.privateKey): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ cmd, data }).setProtectedHeader({ alg: 'EdDSA' }).setAudience('test-device').setIssuedAt(now).setExpirationTime(now + 60).setJti(randomUUID()).sign(key);
}

function routerFor(stack: EventsStack, o: { flood?: FloodWindow; setShiftRules?: CommandDeps['setShiftRules']; persons?: FakePersons } = {}): CommandRouter {
  const persons = o.persons ?? new FakePersons();
  return new CommandRouter({
    baseTopic: stack.baseTopic,
    policy: { key: centralPublic, deviceId: 'test-device', maxTokenAgeS: 300, clockSkewS: 5 },
    replay: new ReplayCache(stack.db),
    audit: new CommandAudit(stack.db),
    deps: {
      persons,
      setShiftRules: o.setShiftRules ?? (() => ({ groups: ['default'] })),
      status: () => ({ device: 'test-device', enrolled: persons.images }),
      replay: (from, to) => stack.replay.replay(from, to),
      reviews: noReviews,
    },
    writer: stack.writer,
    db: stack.db,
    now: Date.now,
    logger: quietLogger(),
    ...(o.flood ? { flood: o.flood } : {}),
  });
}

async function until(what: string, ok: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const rows = (stack: EventsStack, sql: string) => (stack.db.prepare(sql).get() as { n: number }).n;

async function centralClient(url: string, base: string) {
  const client = await mqtt.connectAsync(url, { protocolVersion: 5, clientId: `central-${randomUUID().slice(0, 8)}` });
  const answers: Record<string, unknown>[] = [];
  client.on('message', (_topic, payload) => answers.push(JSON.parse(payload.toString()) as Record<string, unknown>));
  await client.subscribeAsync(`${base}/bridge/response/#`, { qos: 1 });
  return { client, answers };
}

test('a flood of junk requests from a broker user who is not the central server: counted, audited and answered a few at a time plus one summary; a good request is still served', { timeout: 60_000 }, async (t) => {
  const broker = await Mosquitto.start();
  t.after(() => broker.dispose());
  const dir = mkdtempSync(join(tmpdir(), 'fg-cmd-flood-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const stack = new EventsStack({ dbPath: join(dir, 'state.db'), keyPath: join(dir, 'device.key'), url: broker.url });
  // A window long enough that 2,000 requests arrive inside it even on a busy machine.
  const router = routerFor(stack, { flood: { windowMs: 8000, detailed: 3 } });
  router.attach(stack.bridge);
  stack.start();
  t.after(() => stack.stop());
  const { client, answers } = await centralClient(broker.url, stack.baseTopic);
  t.after(() => client.endAsync(true));
  await until('the device to connect', () => stack.bridge.connected);
  await new Promise((r) => setTimeout(r, 300)); // it subscribes once connected

  const forger = await generateKeyPair('EdDSA');
  const forged = await sign('status', {}, forger.privateKey);
  const JUNK = 2000;
  for (let i = 0; i < JUNK; i++) {
    const body = i % 3 === 0 ? '{not json' : i % 3 === 1 ? JSON.stringify({ token: forged, transaction: `j${i}` }) : JSON.stringify({ token: 'a.b.c', transaction: `j${i}` });
    client.publish(`${stack.baseTopic}/bridge/request/status`, body, { qos: 1 });
  }
  await until('every junk request to be counted', () => router.counts.unauthenticated === JUNK, 30_000);
  // Inside the window: the first 3 in full, nothing else yet.
  assert.equal(rows(stack, 'SELECT COUNT(*) AS n FROM command_audit'), 3);
  await client.publishAsync(`${stack.baseTopic}/bridge/request/status`, JSON.stringify({ token: await sign('status'), transaction: 'good' }), { qos: 1 });
  await until('the good answer', () => answers.some((a) => a.transaction === 'good'));
  const good = answers.find((a) => a.transaction === 'good')!;
  assert.equal(good.status, 'ok');
  await compactVerify(String(good.jws), await importJWK(stack.key.publicJwk, 'EdDSA'));

  await until('the summary at the end of the window', () => rows(stack, "SELECT COUNT(*) AS n FROM command_audit WHERE command = '*'") === 1, 15_000);
  const summary = stack.db.prepare("SELECT reason FROM command_audit WHERE command = '*'").get() as { reason: string };
  assert.match(summary.reason, new RegExp(`^${JUNK - 3} more unauthenticated requests refused in 8 s: `));
  assert.match(summary.reason, /bad signature ×\d+/);
  assert.match(summary.reason, /malformed request ×\d+|malformed token ×\d+/);
  assert.equal(rows(stack, 'SELECT COUNT(*) AS n FROM command_audit'), 3 + 1 + 1, '3 refusals, 1 summary, 1 command run');
  assert.equal(answers.filter((a) => a.status === 'error').length, 3, 'only the admitted refusals are answered');
  assert.deepEqual(router.counts, { ok: 1, failed: 0, refused: 0, unauthenticated: JUNK, retained: 0, duplicate: 0 });
  await until('the outbox to drain', () => stack.outbox.stats(Date.now()).pending === 0);
});

test('retained requests, junk or validly signed, never run: ignored and counted at every reconnect, with no audit row or answer', { timeout: 60_000 }, async (t) => {
  const broker = await Mosquitto.start();
  t.after(() => broker.dispose());
  const dir = mkdtempSync(join(tmpdir(), 'fg-cmd-retained-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const stack = new EventsStack({ dbPath: join(dir, 'state.db'), keyPath: join(dir, 'device.key'), url: broker.url });
  const router = routerFor(stack);
  router.attach(stack.bridge);
  const { client, answers } = await centralClient(broker.url, stack.baseTopic);
  t.after(() => client.endAsync(true));
  // Left on the broker before the device connects.
  await client.publishAsync(`${stack.baseTopic}/bridge/request/status`, '{"junk": true}', { qos: 1, retain: true });
  await client.publishAsync(`${stack.baseTopic}/bridge/request/person/enrol`, JSON.stringify({ token: await sign('person/enrol', { person_id: 'p', images: ['aGVsbG8='] }) }), { qos: 1, retain: true });
  stack.start();
  t.after(() => stack.stop());
  await until('both retained requests', () => router.counts.retained === 2);
  // A reconnect subscribes again, and the broker sends the retained ones again.
  stack.bridge.mqtt!.stream.destroy();
  await until('the retained requests after the reconnect', () => router.counts.retained === 4);
  // One published live with the retain flag is ignored too (retain-as-published).
  await client.publishAsync(`${stack.baseTopic}/bridge/request/status`, JSON.stringify({ token: await sign('status'), transaction: 'r' }), { qos: 1, retain: true });
  await until('the live retained request', () => router.counts.retained === 5);
  await client.publishAsync(`${stack.baseTopic}/bridge/request/status`, JSON.stringify({ token: await sign('status'), transaction: 'live' }), { qos: 1 });
  await until('the good answer', () => answers.some((a) => a.transaction === 'live'));
  assert.equal(rows(stack, 'SELECT COUNT(*) AS n FROM command_audit'), 1, 'only the live request is audited');
  assert.deepEqual(answers.map((a) => a.transaction), ['live']);
  assert.equal((answers[0]!.data as { enrolled: number }).enrolled, 0, 'the retained enrolment never ran');
  assert.deepEqual(router.counts, { ok: 1, failed: 0, refused: 0, unauthenticated: 0, retained: 5, duplicate: 0 });
});

test('answers are in the outbox before the command counts as done: a daemon that dies before publishing them delivers every one after its restart', { timeout: 60_000 }, async (t) => {
  const broker = await Mosquitto.start();
  t.after(() => broker.dispose());
  const dir = mkdtempSync(join(tmpdir(), 'fg-cmd-crash-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const paths = { dbPath: join(dir, 'state.db'), keyPath: join(dir, 'device.key'), url: broker.url };
  // The first life never reaches the broker: every answer has to wait for the second one.
  const first = new EventsStack(paths);
  const router = routerFor(first);
  const N = 300;
  const topic = (c: string) => `${first.baseTopic}/bridge/request/${c}`;
  for (let i = 0; i < N; i++) {
    const cmd = i % 3 === 0 ? 'person/enrol' : i % 3 === 1 ? 'attendance/shifts' : 'status';
    const data = cmd === 'person/enrol' ? { person_id: `p${i}`, images: ['aGVsbG8='] } : {};
    await router.handle(topic(cmd), Buffer.from(JSON.stringify({ token: await sign(cmd, data), transaction: `t${i}` })));
  }
  assert.deepEqual(router.counts, { ok: N, failed: 0, refused: 0, unauthenticated: 0, retained: 0, duplicate: 0 });
  first.db.close(); // the crash: no stop, no flush

  const { client, answers } = await centralClient(broker.url, first.baseTopic);
  t.after(() => client.endAsync(true));
  const second = new EventsStack(paths);
  second.start();
  t.after(() => second.stop());
  await until('every answer', () => answers.length >= N, 20_000);
  assert.equal(new Set(answers.map((a) => a.transaction)).size, N);
  assert.ok(answers.every((a) => a.status === 'ok'));
  const key = await importJWK(second.key.publicJwk, 'EdDSA');
  for (const a of answers.slice(0, 10)) await compactVerify(String(a.jws), key);
  assert.equal(rows(second, "SELECT COUNT(*) AS n FROM command_audit WHERE outcome = 'ok'"), N);
});

test('a command whose effect is a state-file write keeps effect, token claim, audit and answer together: when it fails, the token is still claimed and the failure answered', { timeout: 30_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-cmd-atomic-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const stack = new EventsStack({ dbPath: join(dir, 'state.db'), keyPath: join(dir, 'device.key'), url: 'mqtt://127.0.0.1:1' });
  t.after(() => stack.db.close());
  stack.db.exec('CREATE TABLE effects (n INTEGER)');
  const router = routerFor(stack, {
    setShiftRules: () => {
      stack.db.prepare('INSERT INTO effects VALUES (1)').run();
      throw new Error('rules refused half-way');
    },
  });
  const token = await sign('attendance/shifts', {});
  const request = Buffer.from(JSON.stringify({ token, transaction: 'a' }));
  await router.handle(`${stack.baseTopic}/bridge/request/attendance/shifts`, request);
  assert.equal(rows(stack, 'SELECT COUNT(*) AS n FROM effects'), 0, 'the half-done write was rolled back');
  assert.deepEqual(new CommandAudit(stack.db).recent().map((a) => [a.outcome, a.reason]), [['failed', 'rules refused half-way']]);
  await router.handle(`${stack.baseTopic}/bridge/request/attendance/shifts`, request);
  assert.deepEqual(new CommandAudit(stack.db).recent().map((a) => [a.outcome, a.reason]), [['refused', 'token already used (replay)'], ['failed', 'rules refused half-way']]);
  const answers = stack.outbox.readAfter(0, 100).filter((r) => r.topic.endsWith('/bridge/response/attendance/shifts')).map((r) => JSON.parse(r.payload.toString()) as { status: string; error: string });
  assert.deepEqual(answers.map((a) => [a.status, a.error]), [['error', 'rules refused half-way'], ['error', 'token already used (replay)']]);
});

test('refusals still waiting for their summary are reported when the router closes (the daemon stopping); retained ones are only logged', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-cmd-close-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const stack = new EventsStack({ dbPath: join(dir, 'state.db'), keyPath: join(dir, 'device.key'), url: 'mqtt://127.0.0.1:1' });
  const router = routerFor(stack, { flood: { windowMs: 60_000, detailed: 1 } });
  const topic = `${stack.baseTopic}/bridge/request/status`;
  for (let i = 0; i < 5; i++) await router.handle(topic, Buffer.from('{"token": 1}'));
  for (let i = 0; i < 3; i++) await router.handle(topic, Buffer.from('{}'), { retain: true });
  assert.equal(rows(stack, 'SELECT COUNT(*) AS n FROM command_audit'), 1);
  router.close();
  assert.deepEqual(
    new CommandAudit(stack.db).recent().map((a) => [a.command, a.reason]),
    [
      ['*', '4 more unauthenticated requests refused in 60 s: malformed request ×4'],
      ['status', 'malformed request: /token expected string'],
    ],
  );
  const events = stack.outbox.readAfter(0, 100).map((r) => JSON.parse(r.payload.toString()) as { type?: string; data?: Record<string, unknown> }).filter((e) => e.type === 'command_refused');
  assert.deepEqual(events.at(-1)?.data, { suppressed: 4, kind: 'unauthenticated', window_s: 60, reasons: { 'malformed request': 4 } });
  assert.deepEqual(router.counts, { ok: 0, failed: 0, refused: 0, unauthenticated: 5, retained: 3, duplicate: 0 });
  // A summary that cannot be written (the state file is gone) is logged, never thrown.
  await router.handle(topic, Buffer.from('{"token": 1}'));
  await router.handle(topic, Buffer.from('{"token": 1}'));
  stack.db.close();
  assert.doesNotThrow(() => router.close());
});

test('a gallery command is recorded before the broker gets its acknowledgement: one cut off by a crash is answered FG_ERR_COMMAND_INTERRUPTED at the next start; a copy the broker sends again (DUP) is neither run nor answered again, another copy is a replay', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-cmd-pending-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const paths = { dbPath: join(dir, 'state.db'), keyPath: join(dir, 'device.key'), url: 'mqtt://127.0.0.1:1' };
  const first = new EventsStack(paths);
  const stuck = new FakePersons();
  stuck.resync = () => new Promise<never>(() => {}); // the analysis the crash cuts off
  const router = routerFor(first, { persons: stuck });
  const topic = `${first.baseTopic}/bridge/request/roster/resync`;
  const token = await sign('roster/resync', { persons: [{ person_id: 'p1' }] });
  const jti = (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { jti: string }).jti;
  const request = Buffer.from(JSON.stringify({ token, transaction: 'cut' }));
  await router.receive(topic, request); // what the acknowledgement waits for
  assert.equal(rows(first, 'SELECT count(*) AS n FROM command_pending'), 1, 'taken: on the pending list');
  assert.equal(rows(first, 'SELECT count(*) AS n FROM outbox'), 0, 'not answered yet');
  first.db.close(); // the crash: no stop, no answer

  const second = new EventsStack(paths);
  t.after(() => second.stop());
  const again = routerFor(second);
  assert.equal(again.answerInterrupted(), 1);
  const answers = () => second.outbox.readAfter(0, 100).map((r) => JSON.parse(r.payload.toString()) as Record<string, unknown>);
  assert.equal(answers().length, 1);
  assert.deepEqual({ ...answers()[0], id: undefined, time: undefined, jws: undefined }, {
    id: undefined, time: undefined, jws: undefined, device: 'test-device', status: 'error', data: {}, code: 'FG_ERR_COMMAND_INTERRUPTED',
    error: 'interrupted: the device stopped before the command finished, and nothing of it was kept; send it again with a new token', transaction: 'cut', jti,
  });
  assert.equal(rows(second, 'SELECT count(*) AS n FROM command_pending'), 0);
  assert.equal(rows(second, "SELECT count(*) AS n FROM command_audit WHERE outcome = 'failed'"), 1);
  assert.equal(again.answerInterrupted(), 0, 'answered once');

  await again.handle(topic, request, { dup: true });
  assert.equal(answers().length, 1, 'the copy the broker sent again is not answered again');
  assert.deepEqual(again.counts, { ok: 0, failed: 1, refused: 0, unauthenticated: 0, retained: 0, duplicate: 1 });
  await again.handle(topic, request);
  assert.equal(answers().at(-1)!.code, 'FG_ERR_COMMAND_REPLAYED', 'a copy without the DUP flag is a replay');
});

test('attendance/shifts: a holiday that is no day of the calendar (2026-02-30, 2026-13-01, 2025-02-29) is refused naming it, and the rules are not touched', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-cmd-holiday-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const stack = new EventsStack({ dbPath: join(dir, 'state.db'), keyPath: join(dir, 'device.key'), url: 'mqtt://127.0.0.1:1' });
  t.after(() => stack.db.close());
  const set: unknown[] = [];
  const router = routerFor(stack, { flood: { windowMs: 60_000, detailed: 100 }, setShiftRules: (patch) => (set.push(patch), { groups: ['default'] }) });
  const topic = `${stack.baseTopic}/bridge/request/attendance/shifts`;
  const days = ['2026-02-30', '2026-13-01', '2025-02-29', '2028-02-29'];
  for (const [i, day] of days.entries()) await router.handle(topic, Buffer.from(JSON.stringify({ token: await sign('attendance/shifts', { holidays: ['2026-12-25', day] }), transaction: `t${i}` })));
  const answers = stack.outbox.readAfter(0, 100).filter((r) => r.topic.endsWith('/bridge/response/attendance/shifts')).map((r) => JSON.parse(r.payload.toString()) as { status: string; error?: string; code?: string });
  const expected = "is not a calendar day 'YYYY-MM-DD' that exists (month 01-12, a day that month has; 29 February in leap years only)";
  assert.deepEqual(
    answers.map((a) => [a.status, a.code, a.error]),
    [
      ['error', 'FG_ERR_COMMAND_INVALID', `invalid data: /holidays/1 "2026-02-30" ${expected}`],
      ['error', 'FG_ERR_COMMAND_INVALID', `invalid data: /holidays/1 "2026-13-01" ${expected}`],
      ['error', 'FG_ERR_COMMAND_INVALID', `invalid data: /holidays/1 "2025-02-29" ${expected}`],
      ['ok', undefined, undefined],
    ],
  );
  assert.deepEqual(
    set.map((patch) => (patch as { holidays: string[] }).holidays),
    [['2026-12-25', '2028-02-29']],
    'only the real leap day reached the rules',
  );
});
