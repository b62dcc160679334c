// The central store on a real PostgreSQL (Debian's server, started here) beside the SQLite file:
// the same migrations, the same answers to the same calls and the same consumer verdicts and
// timesheet from either store; and what several consumers sharing one database rely on: an event
// stored once however many store it at once, one replay request out per box, a check-in and its
// withdrawal stored at once still meeting.
import { after, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDeviceKey, type DeviceKey } from '../../daemon/events/device-key.js';
import { createSigner, withSignature } from '../../daemon/events/signing.js';
import { CentralConsumer } from '../../central/consumer.js';
import { CENTRAL_MIGRATIONS, CentralStore } from '../../central/store.js';
import { PG_MIGRATIONS } from '../../central/pg-migrations.js';
import { PgCentralStore, isAway } from '../../central/pg-store.js';
import type { CentralStorage } from '../../central/storage.js';
import { parseCentralConfig } from '../../central/config.js';
import { quietLogger } from '../support/events-stack.js';
import { openDatabase } from '../../daemon/store/database.js';
import pg from 'pg';
import { PG_MISSING, PG_PASSWORD, Postgres } from '../support/postgres.js';

const NOW = Date.parse('2026-01-12T18:00:00+01:00');
const BASE = 'facegate/gate-1';
let seq = 0;
const nextId = () => `019b4f3a-6c00-7000-8000-${(++seq).toString(16).padStart(12, '0')}`;

let server: Postgres | undefined;
let dbs = 0;
after(() => server?.dispose());
/** One server for the file, a database per test. */
async function pgUrl(): Promise<string> {
  server ??= await Postgres.start();
  return server.createDatabase(`t${++dbs}`);
}

function tmp(t: TestContext): string {
  const d = mkdtempSync(join(tmpdir(), 'fg-central-pg-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

type Kind = 'sqlite' | 'postgres';
const KINDS: Kind[] = ['sqlite', 'postgres'];

async function openStore(t: TestContext, kind: Kind, dir: string): Promise<CentralStorage> {
  const store = kind === 'sqlite' ? CentralStore.open(join(dir, 'central.db')) : await PgCentralStore.open(await pgUrl());
  t.after(() => store.close());
  return store;
}

function attendance(key: DeviceKey, type: 'check_in' | 'check_out', at: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return withSignature<Record<string, unknown>>(createSigner(key), {
    id: nextId(), device: 'gate-1', time: at, type, record_id: 'r-17', person_id: 'p-17', external_id: 'EMP-17', group: 'staff', camera: 'gate',
    date: at.slice(0, 10), shift: null, status: type === 'check_in' ? 'unscheduled' : 'on_time', source: type === 'check_in' ? 'entry' : 'exit',
    late_minutes: 0, early_minutes: 0, overtime_minutes: 0, check_in: type === 'check_in' ? at : null, check_out: type === 'check_out' ? at : null, worked_minutes: null,
    ...over,
  });
}

const info = (key: DeviceKey) => Buffer.from(JSON.stringify({ version: '0.1.0', device: 'gate-1', cameras: ['gate'], public_key: key.publicJwk, config: {} }));
const bytes = (v: unknown) => Buffer.from(JSON.stringify(v));

test('the PostgreSQL migrations are the SQLite ones, step for step: same versions, same meaning', () => {
  assert.deepEqual(
    PG_MIGRATIONS.map((m) => [m.version, m.description]),
    CENTRAL_MIGRATIONS.map((m) => [m.version, m.description]),
  );
});

test('the store away (waited out, unacknowledged) is told from a refusal (counted failed, acknowledged)', () => {
  const err = (message: string, code?: string) => Object.assign(new Error(message), code === undefined ? {} : { code });
  for (const e of [err('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'), err('terminating connection due to administrator command', '57P01'), err('the database system is starting up', '57P03'), err('could not connect', '08006'), err('Connection terminated unexpectedly'), err('Query read timeout'), err('too many clients', '53300')]) {
    assert.equal(isAway(e), true, e.message);
  }
  for (const e of [err('duplicate key value', '23505'), err('new row violates check constraint', '23514'), err('invalid byte sequence for encoding "UTF8": 0x00', '22021'), 'ECONNREFUSED', undefined]) {
    assert.equal(isAway(e), false, String(e));
  }
});

for (const kind of KINDS) {
  test(`${kind}: the store's calls answer as the consumer and replay rely on`, { skip: kind === 'postgres' && PG_MISSING }, async (t) => {
    const dir = tmp(t);
    const key = ensureDeviceKey(join(dir, 'box.key')).key;
    const store = await openStore(t, kind, dir);
    const now = '2026-01-12T17:00:00.000Z';
    const pin = { kid: key.kid, jwk: key.publicJwk } as unknown as Parameters<CentralStorage['pin']>[1];
    assert.equal(await store.pin(BASE, pin, 'gate-1', now), true);
    assert.equal(await store.pin(BASE, pin, 'gate-1', now), false, 'pinned once');
    assert.equal(await store.pinCount(), 1, 'one box pinned, a number in either store');
    assert.equal((await store.pinOf(BASE))?.kid, key.kid);
    assert.equal(await store.pinOf('facegate/gate-2'), undefined);
    assert.equal(await store.baseOfBox('gate-1', 'site-b/gate-1'), BASE, 'the box id is the last level');
    assert.equal(await store.baseOfBox('ate-1', 'x'), undefined, 'a whole level, not a suffix');
    assert.equal(await store.baseOfBox('gate-1', BASE), undefined);

    const inEarly = attendance(key, 'check_in', '2026-01-12T08:01:00+01:00', { seq: 1 });
    const outLate = attendance(key, 'check_out', '2026-01-12T17:05:09+01:00', { seq: 2, assurance: 'stereo' });
    const withdrawn = attendance(key, 'check_in', '2026-01-12T07:00:00+01:00', { seq: 4 });
    const mark = (e: Record<string, unknown>, assurance: 'live' | 'stereo' = 'live', door: string | null = null) => ({ employee: 'EMP-17', type: e.type as 'check_in' | 'check_out', day: '2026-01-12', atMs: Date.parse(String(e.time)), assurance, door, liveness: null });
    const stereoShares = { score: 6.7, blink: 0, structure: 2.3, passive: 0, surround: 0, screen: 0, stereo: 4.4 };
    assert.equal(await store.record(BASE, 'attendance', inEarly, mark(inEarly, 'live', 'front-door'), now), 'stored');
    assert.equal(await store.record(BASE, 'attendance', inEarly, mark(inEarly, 'live', 'front-door'), now), 'duplicate', 'the same id again');
    assert.equal(await store.record(BASE, 'attendance', outLate, { ...mark(outLate, 'stereo'), liveness: stereoShares }, now), 'stored');
    // The withdrawal first, then the check-in it withdraws (as a replay may bring them).
    const withdrawal = { id: nextId(), device: 'gate-1', time: '2026-01-12T07:10:00+01:00', type: 'retracted', retracts: withdrawn.id, seq: 5, jws: 'x' };
    assert.equal(await store.record(BASE, 'attendanceRetracted', withdrawal, undefined, now), 'stored');
    assert.equal(await store.retract(BASE, withdrawal.id, String(withdrawn.id)), undefined, 'not here yet');
    assert.equal(await store.record(BASE, 'attendance', withdrawn, mark(withdrawn), now), 'stored');
    const sheet = [{ employee: 'EMP-17', day: '2026-01-12', firstInMs: Date.parse('2026-01-12T08:01:00+01:00'), firstInAssurance: 'live', firstInDoor: 'front-door', firstInLiveness: null, lastOutMs: Date.parse('2026-01-12T17:05:09+01:00'), lastOutAssurance: 'stereo', lastOutDoor: null, lastOutLiveness: stereoShares }];
    assert.deepEqual(await store.timesheet('2026-01-12'), sheet, 'the withdrawn 07:00 check-in does not count; each mark with the shares it came with');
    assert.deepEqual(await store.timesheet('2026-01-12', { assurances: ['stereo'] }), [{ ...sheet[0], firstInMs: null, firstInAssurance: null, firstInDoor: null }]);
    assert.deepEqual(await store.timesheet('2026-01-12', { assurances: [] }), []);
    // A door's own sheet: only the marks made at it; a camera in no door's check-out is at none.
    assert.deepEqual(await store.timesheet('2026-01-12', { doors: ['front-door'] }), [{ ...sheet[0], lastOutMs: null, lastOutAssurance: null, lastOutDoor: null, lastOutLiveness: null }]);
    assert.deepEqual(await store.timesheet('2026-01-12', { doors: ['back-door'] }), []);
    assert.deepEqual(await store.timesheet('2026-01-12', { doors: [] }), []);
    assert.deepEqual(await store.timesheet('2026-01-12', { assurances: ['stereo'], doors: ['front-door'] }), [], 'both filters at once');
    assert.equal(await store.retract(BASE, 'w-2', String(inEarly.id)), '2026-01-12', 'a withdrawal after its check-in');
    assert.equal((await store.timesheet('2026-01-12'))[0]!.firstInMs, null);
    // Proven better afterwards (attendance/upgraded): the upgrade before the check-out it names, then
    // the mark, raised, with the shares that raised it; never lowered after.
    const named = attendance(key, 'check_out', '2026-01-12T17:20:00+01:00', { assurance: 'recognised' });
    const liveShares = { score: 4.1, blink: 2.3, structure: 0, passive: 1.8, surround: 0, screen: 0 };
    const raise = (to: string, liveness: Record<string, number> | null) => ({ id: nextId(), device: 'gate-1', time: '2026-01-12T17:20:03+01:00', type: 'upgraded', upgrades: named.id, assurance: to, liveness, jws: 'x' });
    assert.equal(await store.record(BASE, 'attendanceUpgraded', raise('live', liveShares), undefined, now), 'stored');
    assert.equal(await store.upgrade(BASE, String(named.id), 'live', liveShares), undefined, 'not here yet');
    assert.equal(await store.record(BASE, 'attendance', named, { ...mark(named), assurance: 'recognised' }, now), 'stored');
    assert.deepEqual(await store.timesheet('2026-01-12', { assurances: ['live'] }), [{ employee: 'EMP-17', day: '2026-01-12', firstInMs: null, firstInAssurance: null, firstInDoor: null, firstInLiveness: null, lastOutMs: Date.parse('2026-01-12T17:20:00+01:00'), lastOutAssurance: 'live', lastOutDoor: null, lastOutLiveness: liveShares }]);
    assert.equal(await store.upgrade(BASE, String(named.id), 'stereo', stereoShares), '2026-01-12');
    assert.equal(await store.upgrade(BASE, String(named.id), 'live', liveShares), '2026-01-12', 'a lower one finds the mark');
    assert.equal(await store.upgrade('facegate/gate-2', String(named.id), 'reviewed', null), undefined, "another box's upgrade finds no mark of its own");
    const raised = (await store.timesheet('2026-01-12'))[0]!;
    assert.deepEqual([raised.lastOutAssurance, raised.lastOutLiveness], ['stereo', stereoShares], 'and changes nothing: the stereo proof and its shares stand');

    await store.raiseHigh(BASE, 'gate-1', 9, now);
    await store.raiseHigh(BASE, 'gate-1', 7, now);
    assert.deepEqual(await store.gaps(), [{ base: BASE, device: 'gate-1', high: 9, missing: [[3, 3], [6, 9]] }]);
    assert.deepEqual(await store.markGone(BASE, [[5, 8]], now), [[6, 8]], 'only what was missing');
    assert.deepEqual(await store.markGone(BASE, [[6, 8]], now), [], 'known already');
    assert.deepEqual((await store.gaps())[0]!.missing, [[3, 3], [9, 9]]);
    assert.equal(await store.claimAsk(BASE, [3, 3], 'jti-1', '2026-01-12T17:00:00.000Z', '2026-01-12T17:00:30.000Z'), true);
    assert.equal(await store.claimAsk(BASE, [3, 3], 'jti-2', '2026-01-12T17:00:10.000Z', '2026-01-12T17:00:40.000Z'), false, 'one request out per box');
    await store.releaseAsk(BASE, 'jti-other');
    assert.equal(await store.claimAsk(BASE, [3, 3], 'jti-2', '2026-01-12T17:00:11.000Z', '2026-01-12T17:00:41.000Z'), false, 'an answer to another request ends nothing');
    await store.releaseAsk(BASE, 'jti-1');
    assert.equal(await store.claimAsk(BASE, [9, 9], 'jti-3', '2026-01-12T17:00:12.000Z', '2026-01-12T17:00:42.000Z'), true, 'answered: the next may be asked at once');
    assert.equal(await store.claimAsk(BASE, [9, 9], 'jti-4', '2026-01-12T17:00:42.000Z', '2026-01-12T17:01:12.000Z'), true, 'or once the lease ran out');
    assert.deepEqual(await store.replayStatus(), [
      { base: BASE, device: 'gate-1', high: 9, stored: 4, missing: 2, asked: { requests: 3, numbers: 3, last: { from: 9, to: 9, at: '2026-01-12T17:00:42.000Z' } }, gone: { numbers: 3, ranges: 1, lastAt: now } },
    ]);
    assert.equal(await store.eventCount(), 6);
  });
}

for (const kind of KINDS) {
  test(`${kind}: steps 7 and 8 keep the door and the cues' shares each stored check-in's event named, the shares only where no upgrade raised the mark since; an event without them, or with what no box sends, leaves none`, { skip: kind === 'postgres' && PG_MISSING }, async (t) => {
    const dir = tmp(t);
    const at = (hh: string) => `2026-01-12T${hh}:00+01:00`;
    const shares = { score: 4.1, blink: 2.3, structure: 0, passive: 1.8, surround: 0, screen: 0 };
    // `assurance` is what the event said; `stored`, what the mark holds (raised by an upgrade before step 8, which brought no shares).
    const rows: Array<{ id: string; type: string; time: string; employee: string; door?: unknown; liveness?: unknown; assurance?: string; stored?: string }> = [
      { id: nextId(), type: 'check_in', time: at('08:01'), door: 'front-door', employee: 'EMP-1', liveness: shares, assurance: 'live' },
      { id: nextId(), type: 'check_in', time: at('08:02'), employee: 'EMP-2', liveness: shares, assurance: 'recognised', stored: 'live' },
      { id: nextId(), type: 'check_in', time: at('08:03'), door: 'x'.repeat(33), employee: 'EMP-3' },
      { id: nextId(), type: 'check_out', time: at('17:00'), door: 7, employee: 'EMP-1', liveness: 'score 4.1' },
    ];
    const body = (r: (typeof rows)[number]) => JSON.stringify({ id: r.id, device: 'gate-1', time: r.time, type: r.type, ...('door' in r ? { door: r.door } : {}), ...('liveness' in r ? { liveness: r.liveness, assurance: r.assurance } : {}), jws: 'x' });
    let store: CentralStorage;
    if (kind === 'sqlite') {
      // Version 6, written as the consumer of that version wrote it.
      const path = join(dir, 'central.db');
      const v6 = openDatabase(path, { migrations: CENTRAL_MIGRATIONS.slice(0, 6) });
      for (const r of rows) {
        v6.prepare('INSERT INTO central_events (id, base, topic, type, time, received_at, body) VALUES (?, ?, ?, ?, ?, ?, ?)').run(r.id, BASE, 'attendance', r.type, r.time, r.time, body(r));
        v6.prepare('INSERT INTO central_attendance (event_id, base, employee, type, day, at_ms, assurance) VALUES (?, ?, ?, ?, ?, ?, ?)').run(r.id, BASE, r.employee, r.type, '2026-01-12', Date.parse(r.time), r.stored ?? 'live');
      }
      v6.close();
      store = CentralStore.open(path);
    } else {
      const url = await pgUrl();
      const v6 = new pg.Client({ connectionString: url });
      await v6.connect();
      await v6.query('CREATE TABLE central_schema (version integer NOT NULL, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (version))');
      for (const m of PG_MIGRATIONS.slice(0, 6)) {
        await v6.query(m.sql);
        await v6.query('INSERT INTO central_schema (version, description) VALUES ($1, $2)', [m.version, m.description]);
      }
      for (const r of rows) {
        await v6.query('INSERT INTO central_events (id, base, topic, type, time, received_at, body) VALUES ($1, $2, $3, $4, $5, $6, $7)', [r.id, BASE, 'attendance', r.type, r.time, r.time, body(r)]);
        await v6.query('INSERT INTO central_attendance (event_id, base, employee, type, day, at_ms, assurance) VALUES ($1, $2, $3, $4, $5, $6, $7)', [r.id, BASE, r.employee, r.type, '2026-01-12', Date.parse(r.time), r.stored ?? 'live']);
      }
      await v6.end();
      store = await PgCentralStore.open(url);
    }
    t.after(() => store.close());
    const sheet = await store.timesheet('2026-01-12');
    assert.deepEqual(sheet.map((r) => [r.employee, r.firstInDoor, r.lastOutDoor]), [['EMP-1', 'front-door', null], ['EMP-2', null, null], ['EMP-3', null, null]]);
    assert.deepEqual((await store.timesheet('2026-01-12', { doors: ['front-door'] })).map((r) => r.employee), ['EMP-1'], 'filtered by the door copied');
    assert.deepEqual(sheet.map((r) => [r.employee, r.firstInLiveness, r.lastOutLiveness]), [['EMP-1', shares, null], ['EMP-2', null, null], ['EMP-3', null, null]], 'the shares copied where the mark still says what they proved');
  });
}

test('the consumer over either store: the same verdicts for the same messages, the same timesheet CSV', { skip: PG_MISSING }, async (t) => {
  const dir = tmp(t);
  const key = ensureDeviceKey(join(dir, 'box.key')).key;
  const messages: [string, Buffer][] = [
    [`${BASE}/bridge/info`, info(key)],
    [`${BASE}/bridge/info`, info(key)],
  ];
  const first = attendance(key, 'check_in', '2026-01-12T08:01:00+01:00', { seq: 1, door: 'front-door' });
  messages.push([`${BASE}/attendance`, bytes(first)], [`${BASE}/attendance`, bytes(first)]);
  const shares = { stereo: 4.4, score: 6.7, blink: 0, structure: 2.3, passive: 0, surround: 0, screen: 0 };
  messages.push([`${BASE}/attendance`, bytes(attendance(key, 'check_out', '2026-01-12T17:05:00+01:00', { seq: 3, assurance: 'stereo', liveness: shares }))]);
  messages.push([`${BASE}/attendance`, bytes({ ...attendance(key, 'check_in', '2026-01-12T08:00:00+01:00'), external_id: 'EMP-99' })]);
  messages.push([`${BASE}/attendance`, Buffer.from('{"id":')]);
  // Signed, but with a NUL in a value: PostgreSQL could not keep it, and both stores refuse it alike.
  messages.push([`${BASE}/attendance`, bytes(attendance(key, 'check_in', '2026-01-12T08:30:00+01:00', { group: 'night\u0000shift' }))]);
  const signer = createSigner(key);
  messages.push([`${BASE}/bridge/sequence`, bytes(withSignature(signer, { device: 'gate-1', time: '2026-01-12T17:59:00+01:00', seq: 5 } as { device: string; time: string; seq: number; image?: string }))]);
  const results: Record<Kind, { verdicts: unknown[]; csv: string; gaps: unknown }> = {} as never;
  for (const kind of KINDS) {
    const sub = join(dir, kind);
    const config = parseCentralConfig(`database: ${join(sub, 'central.db')}\ntimesheet_dir: ${join(sub, 'ts')}\ntime_zone: Europe/Berlin\nsubscribe: [facegate/+]\n`, 'test.yaml');
    const store = await openStore(t, kind, dir);
    const c = new CentralConsumer({ config, store, logger: quietLogger(), connect: () => assert.fail('no broker'), now: () => NOW });
    const verdicts = [];
    for (const [topic, payload] of messages) verdicts.push(await c.handle(topic, payload));
    await c.flushTimesheets();
    results[kind] = { verdicts, csv: readFileSync(join(sub, 'ts', 'timesheet-2026-01-12.csv'), 'utf8'), gaps: await store.gaps() };
  }
  assert.deepEqual(results.postgres, results.sqlite);
  assert.deepEqual(results.sqlite.verdicts.map((v) => (v as { outcome: string }).outcome), ['pinned', 'ignored', 'accepted', 'duplicate', 'accepted', 'forged', 'malformed', 'malformed', 'sequence']);
  assert.match(results.sqlite.csv, /^"EMP-17",.*,"live","stereo","front-door","","","score 6.7; structure 2.3; stereo 4.4"\r$/m, 'the check-in names its door; the check-out of a camera in no door none; the cues behind each');
  assert.deepEqual(results.sqlite.gaps, [{ base: BASE, device: 'gate-1', high: 5, missing: [[2, 2], [4, 5]] }]);
});

test('several consumers on one PostgreSQL at once: each event stored once, one replay request out per box, a check-in and its withdrawal meet, the schema migrated once', { skip: PG_MISSING }, async (t) => {
  const dir = tmp(t);
  const key = ensureDeviceKey(join(dir, 'box.key')).key;
  const url = await pgUrl();
  // Four consumers start at once on an empty database: one of them migrates, under the lock.
  const stores = await Promise.all([1, 2, 3, 4].map(() => PgCentralStore.open(url)));
  t.after(() => Promise.all(stores.map((s) => s.close())));
  const now = '2026-01-12T17:00:00.000Z';
  const events = Array.from({ length: 50 }, (_, i) => attendance(key, 'check_in', '2026-01-12T08:00:00+01:00', { seq: i + 1 }));
  const mark = (e: Record<string, unknown>) => ({ employee: 'EMP-17', type: 'check_in' as const, day: '2026-01-12', atMs: Date.parse(String(e.time)), assurance: 'live' as const, door: null, liveness: null });
  // Every consumer stores every event, all at once (a redelivery storm across the group).
  const outcomes = await Promise.all(events.flatMap((e) => stores.map((s) => s.record(BASE, 'attendance', e, mark(e), now))));
  assert.equal(outcomes.filter((o) => o === 'stored').length, events.length, 'each stored once');
  assert.equal(await stores[0]!.eventCount(), events.length);

  const claims = await Promise.all(stores.flatMap((s, i) => [0, 1, 2].map((j) => s.claimAsk(BASE, [60, 70], `jti-${i}-${j}`, now, '2026-01-12T17:00:30.000Z'))));
  assert.equal(claims.filter(Boolean).length, 1, 'one consumer asks');

  // A check-in and its withdrawal, each stored by another consumer, at once, many times over.
  for (let i = 0; i < 20; i++) {
    const checkIn = attendance(key, 'check_in', '2026-01-12T06:00:00+01:00', { external_id: `EMP-W${i}` });
    const withdrawal = { id: nextId(), device: 'gate-1', time: '2026-01-12T06:10:00+01:00', type: 'retracted', retracts: checkIn.id, jws: 'x' };
    const a = stores[i % 4]!;
    const b = stores[(i + 1) % 4]!;
    await Promise.all([
      a.record(BASE, 'attendance', checkIn, { ...mark(checkIn), employee: `EMP-W${i}` }, now),
      b.record(BASE, 'attendanceRetracted', withdrawal, undefined, now).then(() => b.retract(BASE, withdrawal.id, String(checkIn.id))),
    ]);
  }
  const standing = (await stores[0]!.timesheet('2026-01-12')).filter((r) => r.employee.startsWith('EMP-W'));
  assert.deepEqual(standing, [], 'every withdrawn check-in left the timesheet');
  assert.ok(server);
  const versions = await server.query<{ version: number }>(url.slice(url.lastIndexOf('/') + 1), 'SELECT version FROM central_schema ORDER BY version');
  assert.deepEqual(versions.map((v) => v.version), PG_MIGRATIONS.map((m) => m.version), 'each step once');
});

test('a PostgreSQL database written by a newer facegate is refused, never downgraded; one without the tables is refused where only read', { skip: PG_MISSING }, async () => {
  const url = await pgUrl();
  const db = url.slice(url.lastIndexOf('/') + 1);
  await assert.rejects(PgCentralStore.open(url, { create: false }), (e: Error & { code?: string }) => e.code === 'FG_ERR_DB_MISSING' && !e.message.includes(PG_PASSWORD));
  await (await PgCentralStore.open(url)).close();
  await server!.query(db, "INSERT INTO central_schema (version, description) VALUES (99, 'from a newer facegate')");
  await assert.rejects(PgCentralStore.open(url), (e: Error & { code?: string }) => e.code === 'FG_ERR_DB_TOO_NEW' && new RegExp(`schema version 99, newer than this facegate knows \\(${PG_MIGRATIONS.length}\\)`).test(e.message) && !e.message.includes(PG_PASSWORD));
});
