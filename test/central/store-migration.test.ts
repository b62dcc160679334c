// The central consumer's database from before replay (schema version 1, as `facegate central`
// wrote it then) opened by today's code: migrated to the newest version on a real SQLite file,
// every pin, event and attendance row still there and still used, and replay's tables working.
import '../support/fast-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../daemon/store/database.js';
import { schemaVersion } from '../../daemon/store/migrate.js';
import { CENTRAL_MIGRATIONS, CentralStore } from '../../central/store.js';
import { ensureDeviceKey } from '../../daemon/events/device-key.js';
import { pinnedKeyFromJwk } from '../../contract/signature.js';

const BASE = 'facegate/gate-1';
const V1_TABLES = { central_pins: 'base', central_events: 'id', central_attendance: 'event_id' } as const;

test('central.db version 1 → newest: nothing lost, old events still de-duplicate and make the timesheet, replay bookkeeping starts empty', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-central-migrate-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'central.db');
  const pin = pinnedKeyFromJwk(ensureDeviceKey(join(dir, 'box.key')).key.publicJwk)!;

  // Version 1, written with the statements the version-1 consumer used.
  const v1 = openDatabase(path, { migrations: CENTRAL_MIGRATIONS.slice(0, 1) });
  assert.equal(schemaVersion(v1), 1);
  v1.prepare('INSERT INTO central_pins (base, kid, jwk, device, pinned_at) VALUES (?, ?, ?, ?, ?)').run(BASE, pin.kid, JSON.stringify(pin.jwk), 'gate-1', '2026-01-12T07:00:00.000Z');
  const events = [
    { id: '019b4f3a-6c00-7000-8000-000000000001', topic: 'attendance', type: 'check_in', time: '2026-01-12T08:01:00+01:00' },
    { id: '019b4f3a-6c00-7000-8000-000000000002', topic: 'attendance', type: 'check_out', time: '2026-01-12T17:05:00+01:00' },
    { id: '019b4f3a-6c00-7000-8000-000000000003', topic: 'spoof', type: 'spoof', time: '2026-01-12T09:00:00+01:00' },
  ];
  for (const e of events) {
    v1.prepare('INSERT OR IGNORE INTO central_events (id, base, topic, type, time, received_at, body) VALUES (?, ?, ?, ?, ?, ?, ?)').run(e.id, BASE, e.topic, e.type, e.time, '2026-01-12T18:00:00.000Z', JSON.stringify({ ...e, device: 'gate-1', jws: 'x' }));
  }
  v1.prepare('INSERT INTO central_attendance (event_id, base, employee, type, day, at_ms) VALUES (?, ?, ?, ?, ?, ?)').run(events[0]!.id, BASE, 'EMP-17', 'check_in', '2026-01-12', Date.parse(events[0]!.time));
  v1.prepare('INSERT INTO central_attendance (event_id, base, employee, type, day, at_ms) VALUES (?, ?, ?, ?, ?, ?)').run(events[1]!.id, BASE, 'EMP-17', 'check_out', '2026-01-12', Date.parse(events[1]!.time));
  const before = Object.fromEntries(Object.entries(V1_TABLES).map(([table, key]) => [table, v1.prepare(`SELECT * FROM ${table} ORDER BY ${key}`).all()]));
  v1.close();

  const store = CentralStore.open(path);
  t.after(() => store.close());
  const check = openDatabase(path, { migrations: CENTRAL_MIGRATIONS });
  t.after(() => check.close());
  assert.equal(schemaVersion(check), CENTRAL_MIGRATIONS.length, 'migrated to the newest version');
  for (const [table, key] of Object.entries(V1_TABLES)) {
    const after = (check.prepare(`SELECT * FROM ${table} ORDER BY ${key}`).all() as Record<string, unknown>[]).map((r) => {
      if (table === 'central_attendance') {
        assert.equal(r.retracted_by, null, 'a mark from before withdrawals stands');
        assert.equal(r.assurance, 'live', 'a mark from before assurance was made of a live recognition, the only rule boxes had');
        assert.equal(r.door, null, 'a mark whose event named no door has none');
        assert.equal(r.liveness, null, "a mark whose event carried no cues' shares has none");
        const { retracted_by: _retracted, assurance: _assurance, door: _door, liveness: _liveness, ...rest } = r;
        return rest;
      }
      if (table !== 'central_events') return r;
      assert.equal(r.seq, null, 'an event from before replay has no number');
      const { seq: _seq, ...rest } = r;
      return rest;
    });
    assert.deepEqual(after, before[table], `${table}: every row, every column as it was`);
  }

  // Still used as before: the pin, de-duplication by id, the timesheet.
  assert.equal(store.pinOf(BASE)?.kid, pin.kid);
  assert.equal(store.eventCount(), 3);
  assert.equal(store.record(BASE, 'spoof', { ...events[2]!, device: 'gate-1', jws: 'x' }, undefined, '2026-01-13T00:00:00.000Z'), 'duplicate', 'an id stored before the migration is still a duplicate');
  assert.deepEqual(store.timesheet('2026-01-12'), [{ employee: 'EMP-17', day: '2026-01-12', firstInMs: Date.parse(events[0]!.time), firstInAssurance: 'live', firstInDoor: null, firstInLiveness: null, lastOutMs: Date.parse(events[1]!.time), lastOutAssurance: 'live', lastOutDoor: null, lastOutLiveness: null }]);
  assert.deepEqual(store.timesheet('2026-01-12', { assurances: ['stereo', 'recognised'] }), [], 'and filtered as any other');

  // Replay's tables start empty and work; the old events, without numbers, are not counted as numbers held.
  assert.deepEqual(store.gaps(), []);
  assert.deepEqual(store.replayStatus(), []);
  assert.equal(store.record(BASE, 'spoof', { id: '019b4f3a-6c00-7000-8000-000000000004', device: 'gate-1', time: '2026-01-13T09:00:00+01:00', type: 'spoof', seq: 2, jws: 'x' }, undefined, '2026-01-13T08:00:00.000Z'), 'stored');
  store.raiseHigh(BASE, 'gate-1', 3, '2026-01-13T08:00:00.000Z');
  assert.deepEqual(store.gaps(), [{ base: BASE, device: 'gate-1', high: 3, missing: [[1, 1], [3, 3]] }]);
  assert.equal(store.claimAsk(BASE, [1, 3], 'jti-1', '2026-01-13T08:00:10.000Z', '2026-01-13T08:00:40.000Z'), true);
  assert.equal(store.claimAsk(BASE, [1, 3], 'jti-2', '2026-01-13T08:00:20.000Z', '2026-01-13T08:00:50.000Z'), false, 'one request out per box: the second waits for the lease');
  assert.deepEqual(store.markGone(BASE, [[1, 3]], '2026-01-13T08:00:11.000Z'), [[1, 1], [3, 3]], 'only what was missing is gone');
  assert.deepEqual(store.replayStatus(), [
    { base: BASE, device: 'gate-1', high: 3, stored: 1, missing: 0, asked: { requests: 1, numbers: 3, last: { from: 1, to: 3, at: '2026-01-13T08:00:10.000Z' } }, gone: { numbers: 2, ranges: 2, lastAt: '2026-01-13T08:00:11.000Z' } },
  ]);
  const again = CentralStore.open(path);
  assert.equal(again.eventCount(), 4, 'opened again: no step runs twice');
  again.close();
});

test("central.db version 7 → newest: each mark takes the cues' shares its event carried, unless an upgrade raised it since (it keeps none rather than shares that proved something else)", (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-central-migrate-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'central.db');
  const v7 = openDatabase(path, { migrations: CENTRAL_MIGRATIONS.slice(0, 7) });
  assert.equal(schemaVersion(v7), 7);
  const stereo = { score: 6.7, blink: 0, structure: 2.3, passive: 0, surround: 0, screen: 0, stereo: 4.4 };
  const named = { score: 1.2, blink: 0, structure: 0, passive: 1.2, surround: 0, screen: 0 };
  const marks = [
    // A stereo check-out with its shares; a recognised check-in an upgrade raised to live before
    // this step (the upgrade brought no shares then); a check-in of a box before the shares.
    { id: '019b4f3a-6c00-7000-8000-000000000011', type: 'check_out', at: '2026-01-12T17:05:00+01:00', body: { assurance: 'stereo', liveness: stereo }, stored: 'stereo' },
    { id: '019b4f3a-6c00-7000-8000-000000000012', type: 'check_in', at: '2026-01-12T08:01:00+01:00', body: { assurance: 'recognised', liveness: named }, stored: 'live' },
    { id: '019b4f3a-6c00-7000-8000-000000000013', type: 'check_in', at: '2026-01-12T08:30:00+01:00', body: { assurance: 'live' }, stored: 'live' },
  ];
  for (const m of marks) {
    v7.prepare('INSERT INTO central_events (id, base, topic, type, time, received_at, body, seq) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)').run(m.id, BASE, 'attendance', m.type, m.at, '2026-01-12T18:00:00.000Z', JSON.stringify({ id: m.id, device: 'gate-1', time: m.at, type: m.type, ...m.body, jws: 'x' }));
    v7.prepare('INSERT INTO central_attendance (event_id, base, employee, type, day, at_ms, assurance, door) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)').run(m.id, BASE, `EMP-${m.id.slice(-2)}`, m.type, '2026-01-12', Date.parse(m.at), m.stored);
  }
  v7.close();

  const store = CentralStore.open(path);
  t.after(() => store.close());
  const check = openDatabase(path, { migrations: CENTRAL_MIGRATIONS });
  t.after(() => check.close());
  const kept = check.prepare('SELECT event_id, liveness FROM central_attendance ORDER BY event_id').all() as { event_id: string; liveness: string | null }[];
  assert.deepEqual(kept.map((r) => [r.event_id.slice(-2), r.liveness === null ? null : JSON.parse(r.liveness)]), [['11', stereo], ['12', null], ['13', null]]);
  assert.deepEqual(store.timesheet('2026-01-12').map((r) => [r.employee, r.firstInLiveness, r.lastOutLiveness]), [['EMP-11', null, stereo], ['EMP-12', null, null], ['EMP-13', null, null]]);
});
