import '../support/fast-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { compactVerify, importJWK } from 'jose';
import { ShiftSchema, type Requirement, type Shift, type ShiftRules } from '../../daemon/attendance/config.js';
import { createAttendanceSchema } from '../support/attendance-schema.js';
import { AttendanceStore } from '../../daemon/attendance/store.js';
import { AttendanceStage, type RosterPerson } from '../../daemon/attendance/stage.js';
import { readHistory } from '../../daemon/attendance/history.js';
import { gallerySealerForProofs, type ProofSealer } from '../../daemon/attendance/proof-sealer.js';
import { Sealer } from '../../daemon/gallery/seal.js';
import { loadSodium } from '../../daemon/gallery/sodium.js';
import { Outbox } from '../../daemon/events/outbox.js';
import { EventWriter } from '../../daemon/events/writer.js';
import { createSigner } from '../../daemon/events/signing.js';
import { ensureDeviceKey } from '../../daemon/events/device-key.js';
import { uuidv7Generator } from '../../daemon/base/uuidv7.js';
import { AttendancePayload } from '../../contract/topics.js';
import { AttendanceRetractedPayload, AttendanceUpgradedPayload } from '../../contract/alerts.js';
import { openTestDb, quietLogger, testSealer } from '../support/events-stack.js';

const at = (iso: string) => Date.parse(iso);

async function setup(t: { after(fn: () => void): void }, opts: { roster?: RosterPerson[]; sealer?: ProofSealer; require?: Requirement } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'fg-att-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const db = openTestDb(join(dir, 'state.db'));
  t.after(() => db.close());
  createAttendanceSchema(db);
  const key = ensureDeviceKey(join(dir, 'device.key')).key;
  let clock = at('2026-01-12T07:00:00Z');
  const outbox = new Outbox(db, { maxEvents: 10_000, maxBytes: 1 << 26 }, testSealer());
  const newId = uuidv7Generator(() => clock);
  const writer = new EventWriter({ outbox, signer: createSigner(key), deviceId: 'gate-1', baseTopic: 'facegate/gate-1', timeZone: 'Europe/Berlin', newId, now: () => clock, logger: quietLogger() });
  const sodium = await loadSodium();
  const sealer = opts.sealer ?? gallerySealerForProofs(new Sealer(sodium, new Uint8Array(randomBytes(32))));
  const rules: ShiftRules = {
    timeZone: 'Europe/Berlin',
    shifts: { default: { ...(Value.Default(ShiftSchema, {}) as Shift), checkout_window_min: 120 } },
    personOverrides: {},
    holidays: new Set(),
  };
  const store = new AttendanceStore(db);
  const roles: Record<string, 'entry' | 'exit' | 'both'> = { gate: 'entry', exit: 'exit', lobby: 'both' };
  // A door of two cameras at the front; gate, exit and lobby are in no door.
  const doors: Record<string, string> = { 'front-left': 'front-door', 'front-right': 'front-door' };
  const stage = new AttendanceStage({
    store, writer, sealer, rules: () => rules, roleOf: (c) => roles[c] ?? 'both', requireOf: () => opts.require ?? 'live', doorOf: (c) => doors[c], cooldownMs: 300_000,
    roster: () => opts.roster ?? [], newId, now: () => clock, logger: quietLogger(),
  });
  const events = async () => {
    const jwk = await importJWK(key.publicJwk, 'EdDSA');
    const rows = outbox.readAfter(0, 1000);
    return Promise.all(rows.map(async (r) => {
      const body = JSON.parse(r.payload.toString()) as Record<string, unknown>;
      // A withdrawal and an upgrade are checked against their own schemas; the tests read all through the attendance event's fields.
      const schema = body.type === 'retracted' ? AttendanceRetractedPayload : body.type === 'upgraded' ? AttendanceUpgradedPayload : AttendancePayload;
      const valid: boolean = Value.Check(schema, body);
      assert.ok(valid, JSON.stringify([...Value.Errors(schema, body)][0]));
      await compactVerify(body.jws as string, jwk);
      return body as Static<typeof AttendancePayload> & Record<string, unknown>;
    }));
  };
  return { db, stage, store, outbox, sealer, events, setClock: (iso: string) => (clock = at(iso)) };
}

test('a check-in writes the day record, the sealed proof and a signed attendance event together', async (t) => {
  const s = await setup(t);
  const jpeg = new Uint8Array(randomBytes(500));
  const liveness = { score: 4.6, blink: 2.3, structure: 2.3, passive: 0, surround: 0, screen: 0, stereo: 0 };
  const made = s.stage.onRecognized({ assurance: 'live', liveness, personId: 'emp-1', group: 'staff', camera: 'gate', atMs: at('2026-01-12T08:07:00Z'), thumbnail: jpeg });
  assert.equal(made.length, 1);
  const [ev] = await s.events();
  assert.equal(ev!.type, 'check_in');
  assert.deepEqual(ev!.liveness, liveness, "signed with the cues' shares behind it");
  assert.equal(ev!.status, 'late');
  assert.equal(ev!.late_minutes, 7);
  assert.equal(ev!.time, '2026-01-12T09:07:00+01:00');
  assert.deepEqual(ev!.shift, { name: 'default', start: '2026-01-12T09:00:00+01:00', end: '2026-01-12T17:00:00+01:00' });
  const recordId = ev!.record_id as string;
  const sealed = s.store.proof(recordId, 'check_in')!;
  assert.ok(!Buffer.from(sealed).includes(Buffer.from(jpeg.subarray(0, 32))), 'stored sealed, not in clear');
  assert.deepEqual(s.sealer.open({ recordId, personId: 'emp-1', kind: 'check_in' }, sealed), jpeg);
  assert.throws(() => s.sealer.open({ recordId, personId: 'emp-2', kind: 'check_in' }, sealed), 'bound to its person');
});

test('repeats within the cooldown make nothing; an exit checks out with overtime', async (t) => {
  const s = await setup(t);
  s.stage.onRecognized({ assurance: 'live', personId: 'emp-1', camera: 'gate', atMs: at('2026-01-12T07:55:00Z') });
  assert.deepEqual(s.stage.onRecognized({ assurance: 'live', personId: 'emp-1', camera: 'gate', atMs: at('2026-01-12T07:58:00Z') }), []);
  s.stage.onRecognized({ assurance: 'live', personId: 'emp-1', camera: 'exit', atMs: at('2026-01-12T16:45:00Z') });
  const evs = await s.events();
  assert.deepEqual(evs.map((e) => [e.type, e.status, e.overtime_minutes, e.worked_minutes]), [['check_in', 'on_time', 0, null], ['check_out', 'on_time', 45, 530]]);
});

test('tick settles a both-camera day into a last-seen check-out and a summary, and summarises absences; events carry the external id', async (t) => {
  const s = await setup(t, { roster: [{ personId: 'emp-1', externalId: 'EMP-0001' }, { personId: 'emp-2' }] });
  s.stage.tick(); // starts the absence clock: days that closed before now are not reported
  s.stage.onRecognized({ assurance: 'live', personId: 'emp-1', camera: 'lobby', atMs: at('2026-01-12T08:00:00Z') });
  s.stage.onRecognized({ assurance: 'live', personId: 'emp-1', camera: 'lobby', atMs: at('2026-01-12T16:10:00Z') });
  s.setClock('2026-01-12T17:00:00Z');
  assert.equal(s.stage.tick(), 0, 'window still open');
  s.setClock('2026-01-12T18:00:00Z');
  assert.equal(s.stage.tick(), 3);
  const evs = await s.events();
  assert.deepEqual(evs.map((e) => [e.person_id, e.external_id, e.type, e.status, e.source]), [
    ['emp-1', 'EMP-0001', 'check_in', 'on_time', 'entry'],
    ['emp-1', 'EMP-0001', 'check_out', 'on_time', 'last_seen'],
    ['emp-1', 'EMP-0001', 'summary', 'present', 'end_of_day'],
    ['emp-2', null, 'summary', 'absent', 'end_of_day'],
  ]);
  assert.equal(s.stage.tick(), 0, 'each summary once');
});

test('if sealing fails nothing is written: record and event share one transaction', async (t) => {
  let down = true;
  const failing: ProofSealer = { seal: (_r, jpeg) => { if (down) throw new Error('sealer down'); return jpeg; }, open: () => new Uint8Array() };
  const s = await setup(t, { sealer: failing });
  assert.throws(() => s.stage.onRecognized({ assurance: 'live', personId: 'emp-1', camera: 'gate', atMs: at('2026-01-12T08:00:00Z'), thumbnail: new Uint8Array(10) }), /sealer down/);
  assert.equal(s.outbox.stats(0).pending, 0);
  assert.equal(s.store.day('emp-1', '2026-01-12'), undefined);
  down = false;
  assert.equal(s.stage.onRecognized({ assurance: 'live', personId: 'emp-1', camera: 'gate', atMs: at('2026-01-12T08:00:30Z'), thumbnail: new Uint8Array(10) }).length, 1, 'the failed sighting did not start a cooldown');
});

test('a check-in whose track is refused afterwards is withdrawn, signed, naming the event it withdraws; the person really there checks in again at once', async (t) => {
  const s = await setup(t);
  const arrival = at('2026-01-12T08:07:00Z');
  const made = s.stage.onRecognized({ assurance: 'live', personId: 'emp-1', camera: 'gate', track: 4, atMs: arrival, thumbnail: new Uint8Array(randomBytes(300)) });
  assert.deepEqual(made.map((d) => d.kind), ['check_in']);
  s.setClock('2026-01-12T08:07:02Z');
  assert.equal(s.stage.onRefused('gate', 4, 'held_picture'), 1);
  const [checkIn, retracted] = await s.events();
  assert.equal(checkIn!.type, 'check_in');
  assert.deepEqual(
    { type: retracted!.type, kind: retracted!.kind, retracts: retracted!.retracts, record_id: retracted!.record_id, camera: retracted!.camera, reason: retracted!.reason, check_in: retracted!.check_in },
    { type: 'retracted', kind: 'check_in', retracts: checkIn!.id, record_id: checkIn!.record_id, camera: 'gate', reason: 'held_picture', check_in: null },
  );
  assert.equal(s.store.day('emp-1', '2026-01-12')?.record.checkInMs, null, 'the day record no longer holds it');
  assert.deepEqual(s.db.prepare('SELECT kind, at_ms, reason, event_id FROM attendance_retractions').all(), [{ kind: 'check_in', at_ms: arrival, reason: 'held_picture', event_id: checkIn!.id }]);
  // Refused twice, or after the track ended: nothing more.
  assert.equal(s.stage.onRefused('gate', 4, 'held_picture'), 0);
  // The person, really there, a minute later: within the cooldown of the withdrawn sighting, admitted all the same.
  const again = s.stage.onRecognized({ assurance: 'live', personId: 'emp-1', camera: 'gate', track: 9, atMs: arrival + 60_000 });
  assert.deepEqual(again.map((d) => d.kind), ['check_in']);
  s.stage.onTrackEnded('gate', 9);
  assert.equal(s.stage.onRefused('gate', 9, 'frozen'), 0, 'a track that ended keeps what it made');
  assert.equal(s.store.day('emp-1', '2026-01-12')?.record.checkInMs, arrival + 60_000);
});

test('a refused track that made nothing, or whose check-in a sighting before it already made, withdraws nothing', async (t) => {
  const s = await setup(t);
  s.stage.onRecognized({ assurance: 'live', personId: 'emp-2', camera: 'gate', track: 1, atMs: at('2026-01-12T07:55:00Z') });
  // A second track of the same person, at another camera of role both, the same day: no new check-in.
  const later = s.stage.onRecognized({ assurance: 'live', personId: 'emp-2', camera: 'lobby', track: 2, atMs: at('2026-01-12T08:30:00Z') });
  assert.equal(later.filter((d) => d.kind === 'check_in').length, 0);
  assert.equal(s.stage.onRefused('lobby', 2, 'held_picture'), 0);
  assert.equal(s.stage.onRefused('gate', 77, 'frozen'), 0);
  assert.equal(s.store.day('emp-2', '2026-01-12')?.record.checkInMs, at('2026-01-12T07:55:00Z'));
});

test('require recognised: a person named but not proven live checks in, and the record, the signed event and the proof say recognised', async (t) => {
  const s = await setup(t, { require: 'recognised' });
  const arrival = at('2026-01-12T07:58:00Z');
  const made = s.stage.onRecognized({ personId: 'emp-3', camera: 'gate', track: 5, atMs: arrival, assurance: 'recognised', thumbnail: new Uint8Array(randomBytes(200)) });
  assert.deepEqual(made.map((d) => [d.kind, 'assurance' in d ? d.assurance : null]), [['check_in', 'recognised']]);
  const [ev] = await s.events();
  assert.deepEqual([ev!.type, ev!.assurance], ['check_in', 'recognised']);
  const record = s.store.day('emp-3', '2026-01-12')!.record;
  assert.deepEqual([record.checkInMs, record.checkInAssurance, record.lastSeenAssurance], [arrival, 'recognised', 'recognised']);
  assert.ok(s.store.proof(record.recordId, 'check_in'), 'with its proof, as any check-in');
});

test('require recognised: the track that checked its person in when named, proven live then stereo, raises the check-in each time (one signed upgrade each, the audit keeps both), never lowers it, and another track raises nothing', async (t) => {
  const s = await setup(t, { require: 'recognised' });
  const arrival = at('2026-01-12T07:58:00Z');
  assert.equal(s.stage.onRecognized({ personId: 'emp-3', camera: 'gate', track: 5, atMs: arrival, assurance: 'recognised' })[0]?.kind, 'check_in');
  // Another track of the same person proven live: the check-in is not its own.
  s.setClock('2026-01-12T07:58:01Z');
  assert.deepEqual(s.stage.onRecognized({ personId: 'emp-3', camera: 'gate', track: 6, atMs: arrival + 500, assurance: 'live' }), []);
  // The same track, proven live 2 s after it was named: its sighting keeps the arrival time, so the cooldown holds it, and no new decision is made.
  s.setClock('2026-01-12T07:58:02Z');
  assert.deepEqual(s.stage.onRecognized({ personId: 'emp-3', camera: 'gate', track: 5, atMs: arrival, assurance: 'live' }), []);
  // Told again, or told less: nothing more.
  assert.deepEqual(s.stage.onRecognized({ personId: 'emp-3', camera: 'gate', track: 5, atMs: arrival, assurance: 'live' }), []);
  assert.deepEqual(s.stage.onRecognized({ personId: 'emp-3', camera: 'gate', track: 5, atMs: arrival, assurance: 'recognised' }), []);
  s.setClock('2026-01-12T07:58:05Z');
  const stereoShares = { score: 6.7, blink: 0, structure: 2.3, passive: 0, surround: 0, screen: 0, stereo: 4.4 };
  s.stage.onRecognized({ personId: 'emp-3', camera: 'gate', track: 5, atMs: arrival, assurance: 'stereo', liveness: stereoShares });
  const [checkIn, toLive, toStereo, ...rest] = await s.events();
  assert.deepEqual(rest, [], 'one event a rise, none for the other track, the repeat or the lower one');
  const upgrade = (e: Record<string, unknown>) => [e.type, e.kind, e.upgrades, e.record_id, e.camera, e.previous_assurance, e.assurance, e.check_in, e.time];
  assert.deepEqual(upgrade(toLive!), ['upgraded', 'check_in', checkIn!.id, checkIn!.record_id, 'gate', 'recognised', 'live', '2026-01-12T08:58:00+01:00', '2026-01-12T08:58:02+01:00']);
  assert.deepEqual(upgrade(toStereo!), ['upgraded', 'check_in', checkIn!.id, checkIn!.record_id, 'gate', 'live', 'stereo', '2026-01-12T08:58:00+01:00', '2026-01-12T08:58:05+01:00']);
  assert.deepEqual([toLive!.liveness, toStereo!.liveness], [null, stereoShares], 'each with the shares that raised it (none where the decision carried none)');
  const record = s.store.day('emp-3', '2026-01-12')!.record;
  assert.deepEqual([record.checkInMs, record.checkInAssurance, record.lastSeenAssurance], [arrival, 'stereo', 'stereo'], 'the check-in keeps its time; the sighting it is made of rises with it');
  assert.deepEqual(
    s.db.prepare('SELECT kind, at_ms, camera, track, from_assurance, to_assurance, upgrades, event_id FROM attendance_upgrades ORDER BY upgraded_ms').all(),
    [
      { kind: 'check_in', at_ms: arrival, camera: 'gate', track: 5, from_assurance: 'recognised', to_assurance: 'live', upgrades: checkIn!.id, event_id: toLive!.id },
      { kind: 'check_in', at_ms: arrival, camera: 'gate', track: 5, from_assurance: 'live', to_assurance: 'stereo', upgrades: checkIn!.id, event_id: toStereo!.id },
    ],
  );
  // Refused afterwards all the same: the withdrawal names the check-in's own event, whatever raised it.
  s.setClock('2026-01-12T07:58:09Z');
  assert.equal(s.stage.onRefused('gate', 5, 'held_picture'), 1);
  const retracted = (await s.events()).at(-1)!;
  assert.deepEqual([retracted.type, retracted.retracts], ['retracted', checkIn!.id]);
  assert.deepEqual(s.db.prepare('SELECT track FROM attendance_retractions').all(), [{ track: 5 }], 'the withdrawal names the refused track');
});

test('an upgrade raises a check-out too, and only while the record holds it so proven: one a later exit replaced stays as that exit made it', async (t) => {
  const s = await setup(t, { require: 'recognised' });
  const out = at('2026-01-12T16:30:00Z');
  assert.equal(s.stage.onRecognized({ personId: 'emp-6', camera: 'exit', track: 1, atMs: out, assurance: 'recognised' })[0]?.kind, 'check_out');
  s.setClock('2026-01-12T16:30:03Z');
  assert.deepEqual(s.stage.onRecognized({ personId: 'emp-6', camera: 'exit', track: 1, atMs: out, assurance: 'live' }), []);
  assert.deepEqual([s.store.day('emp-6', '2026-01-12')!.record.checkOutAssurance, s.store.day('emp-6', '2026-01-12')!.record.lastSeenAssurance], ['live', 'live']);
  // The person leaves again later, named only: that check-out replaces the first, as it was made.
  assert.equal(s.stage.onRecognized({ personId: 'emp-6', camera: 'exit', track: 2, atMs: out + 400_000, assurance: 'recognised' })[0]?.kind, 'check_out');
  s.setClock('2026-01-12T16:37:00Z');
  s.stage.onRecognized({ personId: 'emp-6', camera: 'exit', track: 1, atMs: out, assurance: 'stereo' });
  assert.deepEqual((await s.events()).map((e) => [e.type, e.kind ?? null, e.assurance]), [['check_out', null, 'recognised'], ['upgraded', 'check_out', 'live'], ['check_out', null, 'recognised']]);
  const record = s.store.day('emp-6', '2026-01-12')!.record;
  assert.deepEqual([record.checkOutMs, record.checkOutAssurance, record.lastSeenAssurance], [out + 400_000, 'recognised', 'recognised']);
  assert.equal((s.db.prepare('SELECT count(*) AS n FROM attendance_upgrades').get() as { n: number }).n, 1);
});

test('require live: a person named but not proven makes nothing and holds no cooldown; proven a moment later, they check in as live', async (t) => {
  const s = await setup(t, { require: 'live' });
  const arrival = at('2026-01-12T07:58:00Z');
  assert.deepEqual(s.stage.onRecognized({ personId: 'emp-3', camera: 'gate', track: 5, atMs: arrival, assurance: 'recognised' }), []);
  assert.equal(s.store.day('emp-3', '2026-01-12'), undefined, 'no record of a sighting below the requirement');
  assert.equal(s.outbox.stats(0).pending, 0, 'and no event');
  const made = s.stage.onRecognized({ personId: 'emp-3', camera: 'gate', track: 5, atMs: arrival, assurance: 'live' });
  assert.deepEqual(made.map((d) => [d.kind, 'assurance' in d ? d.assurance : null]), [['check_in', 'live']]);
  assert.deepEqual((await s.events()).map((e) => [e.type, e.assurance]), [['check_in', 'live']]);
});

test('require stereo: a sighting proven live at one camera is not enough; one proven by two cameras is, and a check-out carries its own assurance', async (t) => {
  const s = await setup(t, { require: 'stereo' });
  assert.deepEqual(s.stage.onRecognized({ personId: 'emp-4', camera: 'gate', atMs: at('2026-01-12T07:50:00Z'), assurance: 'live' }), []);
  assert.equal(s.stage.onRecognized({ personId: 'emp-4', camera: 'gate', atMs: at('2026-01-12T07:51:00Z'), assurance: 'stereo' })[0]?.kind, 'check_in');
  assert.equal(s.stage.onRecognized({ personId: 'emp-4', camera: 'exit', atMs: at('2026-01-12T16:30:00Z'), assurance: 'stereo' })[0]?.kind, 'check_out');
  assert.deepEqual((await s.events()).map((e) => [e.type, e.assurance]), [['check_in', 'stereo'], ['check_out', 'stereo']]);
});

test('a summary carries no assurance of its own: the check-in and check-out it repeats said theirs', async (t) => {
  const s = await setup(t, { require: 'recognised' });
  s.stage.onRecognized({ personId: 'emp-5', camera: 'lobby', atMs: at('2026-01-12T08:00:00Z'), assurance: 'recognised' });
  s.stage.onRecognized({ personId: 'emp-5', camera: 'lobby', atMs: at('2026-01-12T16:10:00Z'), assurance: 'live' });
  s.setClock('2026-01-12T18:00:00Z');
  s.stage.tick();
  assert.deepEqual((await s.events()).map((e) => [e.type, e.assurance]), [['check_in', 'recognised'], ['check_out', 'live'], ['summary', null]]);
});

test('a check-in and check-out at a door\'s cameras name the door in the record, the signed event and the history; a camera in no door names none', async (t) => {
  const s = await setup(t);
  s.stage.onRecognized({ personId: 'emp-6', camera: 'front-left', atMs: at('2026-01-12T08:00:00Z'), assurance: 'stereo' });
  s.stage.onRecognized({ personId: 'emp-6', camera: 'front-right', atMs: at('2026-01-12T16:10:00Z'), assurance: 'stereo' });
  s.stage.onRecognized({ personId: 'emp-7', camera: 'gate', atMs: at('2026-01-12T08:30:00Z'), assurance: 'live' });
  s.setClock('2026-01-12T18:00:00Z');
  s.stage.tick();
  const events = await s.events();
  assert.deepEqual(
    events.map((e) => [e.person_id, e.type, e.camera, e.door]),
    [
      ['emp-6', 'check_in', 'front-left', 'front-door'],
      ['emp-7', 'check_in', 'gate', undefined],
      ['emp-6', 'check_out', 'front-right', 'front-door'],
      ['emp-6', 'summary', null, undefined],
      ['emp-7', 'summary', null, undefined],
    ],
  );
  assert.ok(events.filter((e) => e.camera === 'gate' || e.type === 'summary').every((e) => !('door' in e)), 'absent, not null, where there is no door: as older boxes send it');
  const record = s.store.day('emp-6', '2026-01-12')!.record;
  assert.deepEqual([record.checkInDoor, record.checkOutDoor, record.lastSeenDoor], ['front-door', 'front-door', 'front-door']);
  // A check-in at a door's camera whose track is refused afterwards: the withdrawal names the door too.
  s.stage.onRecognized({ personId: 'emp-8', camera: 'front-right', track: 5, atMs: at('2026-01-13T08:00:00Z'), assurance: 'stereo' });
  assert.equal(s.stage.onRefused('front-right', 5, 'held_picture'), 1);
  const retracted = (await s.events()).at(-1)!;
  assert.deepEqual([retracted.type, retracted.camera, retracted.door], ['retracted', 'front-right', 'front-door']);
  const days = readHistory(s.db, { from: '2026-01-12', to: '2026-01-12', limit: 10, timeZone: 'Europe/Berlin' });
  assert.deepEqual(days.map((d) => [d.person_id, d.check_in_door, d.check_out_door]).sort(), [['emp-6', 'front-door', 'front-door'], ['emp-7', null, null]]);
});
