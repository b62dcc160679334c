import '../support/fast-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Value } from '@sinclair/typebox/value';
import { ShiftSchema, type Requirement, type Shift, type ShiftRules } from '../../daemon/attendance/config.js';
import { createAttendanceSchema } from '../support/attendance-schema.js';
import { AttendanceStore } from '../../daemon/attendance/store.js';
import { AttendanceStage, type RefusedByReview } from '../../daemon/attendance/stage.js';
import { ArrivalStore, ARRIVAL_CROP_CELLS, purgeArrivalsBefore, eraseArrivalsOf } from '../../daemon/attendance/arrivals.js';
import { isoWeek } from '../../daemon/base/zoned-time.js';
import { gallerySealerForProofs } from '../../daemon/attendance/proof-sealer.js';
import { Outbox } from '../../daemon/events/outbox.js';
import { EventWriter } from '../../daemon/events/writer.js';
import { createSigner } from '../../daemon/events/signing.js';
import { ensureDeviceKey } from '../../daemon/events/device-key.js';
import { uuidv7Generator } from '../../daemon/base/uuidv7.js';
import { AuditLog } from '../../daemon/service/audit.js';
import { createAuditTables } from '../../daemon/store/schema/audit.js';
import { ArrivalReviews, outcomeKind } from '../../daemon/service/arrival-reviews.js';
import { measureOf } from '../../daemon/service/teaching.js';
import { isFacegateError } from '../../daemon/base/errors.js';
import { AttendancePayload } from '../../contract/topics.js';
import { openTestDb, quietLogger, testSealer } from '../support/events-stack.js';

const at = (iso: string) => Date.parse(iso);
const OPERATOR = { actor: 'web:olga', role: 'operator' as const };
const VIEWER = { actor: 'web:vic', role: 'viewer' as const };
const NOT_LIVE = { score: 1.2, blink: 0, structure: 0.8, passive: 0.4, surround: 0, screen: -0.2, stereo: 0 };

function setup(t: { after(fn: () => void): void }, require: Requirement = 'live') {
  const dir = mkdtempSync(join(tmpdir(), 'fg-review-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const db = openTestDb(join(dir, 'state.db'));
  t.after(() => db.close());
  createAttendanceSchema(db);
  createAuditTables(db);
  let clock = at('2026-01-12T07:00:00Z');
  const outbox = new Outbox(db, { maxEvents: 10_000, maxBytes: 1 << 26 }, testSealer());
  const newId = uuidv7Generator(() => clock);
  const writer = new EventWriter({ outbox, signer: createSigner(ensureDeviceKey(join(dir, 'device.key')).key), deviceId: 'gate-1', baseTopic: 'facegate/gate-1', timeZone: 'Europe/Berlin', newId, now: () => clock, logger: quietLogger() });
  const sealer = testSealer();
  let rules: ShiftRules = { timeZone: 'Europe/Berlin', shifts: { default: Value.Default(ShiftSchema, {}) as Shift }, personOverrides: {}, holidays: new Set() };
  const store = new AttendanceStore(db);
  const arrivals = new ArrivalStore(db, sealer);
  const roles: Record<string, 'entry' | 'exit' | 'both'> = { gate: 'entry', exit: 'exit' };
  const refusedByReview: RefusedByReview[] = [];
  const stage = new AttendanceStage({
    store, writer, sealer: gallerySealerForProofs(sealer), arrivals, rules: () => rules, roleOf: (c) => roles[c] ?? 'both', requireOf: () => require, cooldownMs: 300_000,
    roster: () => [], newId, now: () => clock, logger: quietLogger(), onRefusedByReview: (r) => {
      refusedByReview.push(r);
      reviews.sightingRefused(r);
    },
  });
  const audit = new AuditLog(db, () => clock);
  const reviews: ArrivalReviews = new ArrivalReviews({ db, attendance: () => ({ stage, arrivals }), audit, timeZone: () => 'Europe/Berlin', now: () => clock });
  const events = () => outbox.readAfter(0, 1000).map((r) => JSON.parse(r.payload.toString()) as Record<string, unknown>);
  return { db, stage, store, arrivals, reviews, audit, events, refusedByReview, sealer, rules: () => rules, setRules: (r: ShiftRules) => (rules = r), setClock: (iso: string) => (clock = at(iso)) };
}

const code = (c: string) => (e: unknown) => isFacegateError(e) && e.code === c;

test('a recognised person below the requirement is kept as one unverified arrival of the day, with the track\'s crops and the cues that did not speak', (t) => {
  const s = setup(t);
  const crop = (n: number) => new Uint8Array(randomBytes(100 + n));
  const first = { personId: 'emp-1', camera: 'gate', track: 4, atMs: at('2026-01-12T07:58:00Z'), assurance: 'recognised' as const, liveness: NOT_LIVE };
  for (let i = 0; i < 5; i++) assert.deepEqual(s.stage.onRecognized({ ...first, thumbnail: crop(i) }), []);
  // A second track of the same person that day adds nothing: the first is the arrival.
  s.stage.onRecognized({ ...first, track: 9, atMs: first.atMs + 60_000, thumbnail: crop(9) });
  const queue = s.reviews.list();
  assert.equal(queue.length, 1);
  const [a] = queue;
  assert.equal(a!.person_id, 'emp-1');
  assert.equal(a!.at, '2026-01-12T08:58:00+01:00');
  assert.equal(a!.assurance, 'recognised');
  assert.equal(a!.required, 'live');
  assert.deepEqual(a!.missing, ['blink', 'screen', 'stereo', 'surround']);
  assert.equal(a!.crops, 3, 'the first three crops of its track, no more');
  assert.equal(s.events().length, 0, 'no check-in, no event');
  // The crops are sealed, bound to their row: gallery verify reads them as every sealed cell.
  const cells = [...ARRIVAL_CROP_CELLS.cells(s.db)];
  assert.equal(cells.length, 3);
  for (const c of cells) assert.ok(s.sealer.open(c.ref, c.value!).length > 0);
  assert.throws(() => s.sealer.open({ ...cells[0]!.ref, personId: 'emp-2' }, cells[0]!.value!));
});

test('a person proven a moment later checks in on their own, and their arrival leaves the queue; nothing is kept at an exit camera', (t) => {
  const s = setup(t);
  const base = { personId: 'emp-1', camera: 'gate', track: 1, atMs: at('2026-01-12T07:58:00Z'), liveness: NOT_LIVE, thumbnail: new Uint8Array([1, 2, 3]) };
  s.stage.onRecognized({ ...base, assurance: 'recognised' });
  assert.equal(s.reviews.list().length, 1);
  assert.equal(s.stage.onRecognized({ ...base, assurance: 'live' }).length, 1);
  assert.equal(s.reviews.list({ status: 'all' }).length, 0);
  // Checked in already: a later unproven sighting that day is no arrival to review.
  s.stage.onRecognized({ ...base, track: 2, atMs: base.atMs + 3_600_000, assurance: 'recognised' });
  assert.equal(s.reviews.list({ status: 'all' }).length, 0);
  s.stage.onRecognized({ ...base, personId: 'emp-2', camera: 'exit', assurance: 'recognised' });
  assert.equal(s.reviews.list({ status: 'all' }).length, 0);
});

test('confirm: a check-in at the arrival time with assurance reviewed, through the engine, signed, with the proof, audited with who and why', (t) => {
  const s = setup(t);
  s.stage.onRecognized({ personId: 'emp-1', group: 'staff', camera: 'gate', track: 1, atMs: at('2026-01-12T08:07:00Z'), assurance: 'recognised', liveness: NOT_LIVE, thumbnail: new Uint8Array([9, 9, 9]) });
  const [a] = s.reviews.list();
  s.setClock('2026-01-12T10:00:00Z');
  const r = s.reviews.confirm(a!.id, OPERATOR, 'known face, badge seen at the desk');
  assert.deepEqual(r.decisions, ['check_in']);
  assert.equal(r.arrival.status, 'confirmed');
  assert.equal(r.arrival.reviewed_by, 'web:olga');
  const day = s.store.day('emp-1', '2026-01-12')!.record;
  assert.equal(day.checkInMs, at('2026-01-12T08:07:00Z'), 'at the arrival, not at the review');
  assert.equal(day.checkInAssurance, 'reviewed');
  assert.equal(r.arrival.record_id, day.recordId);
  assert.ok(s.store.proof(day.recordId, 'check_in'), 'the arrival\'s crop is the proof');
  const [ev] = s.events();
  assert.ok(Value.Check(AttendancePayload, ev));
  assert.equal(ev!.type, 'check_in');
  assert.equal(ev!.assurance, 'reviewed');
  assert.equal(ev!.status, 'late');
  assert.equal(ev!.time, '2026-01-12T09:07:00+01:00');
  const entry = s.audit.recent(10).find((e) => e.action === 'arrival.confirm')!;
  assert.equal(entry.actor, 'web:olga');
  assert.equal(entry.outcome, 'ok');
  assert.equal(entry.detail.note, 'known face, badge seen at the desk');
  // A review stands: a second one is refused, with nothing changed.
  assert.throws(() => s.reviews.reject(a!.id, 'wrong_person', OPERATOR), code('FG_ERR_ARRIVAL_REVIEWED'));
  assert.equal(s.events().length, 1);
  assert.deepEqual(s.reviews.outcomeCounts(), [{ camera: 'gate', outcome: 'confirmed', count: 1 }]);
});

test('reject: kept as rejected with the reason, nothing checked in; viewers, unknown ids, bad reasons and notes are refused with codes', (t) => {
  const s = setup(t, 'stereo');
  for (const [personId, camera] of [['emp-1', 'gate'], ['emp-2', 'lobby'], ['emp-3', 'gate']] as const) {
    s.stage.onRecognized({ personId, camera, track: 1, atMs: at('2026-01-12T07:58:00Z'), assurance: 'live', liveness: { ...NOT_LIVE, blink: 2 } });
  }
  const byPerson = new Map(s.reviews.list().map((a) => [a.person_id, a.id]));
  assert.equal(byPerson.size, 3);
  assert.throws(() => s.reviews.confirm(byPerson.get('emp-1')!, VIEWER), code('FG_ERR_REVIEW_ROLE'));
  assert.throws(() => s.reviews.reject(byPerson.get('emp-1')!, 'picture', VIEWER), code('FG_ERR_REVIEW_ROLE'));
  assert.ok(s.audit.recent(10).some((e) => e.action === 'arrival.confirm' && e.outcome === 'refused' && e.actor === 'web:vic'));
  assert.throws(() => s.reviews.confirm('0190a0a0-0000-7000-8000-000000000000', OPERATOR), code('FG_ERR_ARRIVAL_NOT_FOUND'));
  assert.throws(() => s.reviews.reject(byPerson.get('emp-1')!, 'because' as never, OPERATOR), code('FG_ERR_REVIEW_INVALID'));
  assert.throws(() => s.reviews.reject(byPerson.get('emp-1')!, 'other', OPERATOR, 'x'.repeat(501)), code('FG_ERR_REVIEW_INVALID'));
  assert.throws(() => s.reviews.reject(byPerson.get('emp-1')!, 'other', OPERATOR, 'line\nbreak'), code('FG_ERR_REVIEW_INVALID'));
  assert.equal(s.reviews.list().length, 3, 'nothing decided by a refusal');
  const r = s.reviews.reject(byPerson.get('emp-1')!, 'wrong_person', OPERATOR, 'that is her brother');
  assert.equal(r.arrival.status, 'rejected');
  assert.equal(r.arrival.reason, 'wrong_person');
  s.reviews.reject(byPerson.get('emp-2')!, 'picture', { actor: 'cli:root', role: 'admin' });
  s.reviews.confirm(byPerson.get('emp-3')!, OPERATOR);
  assert.equal(s.store.day('emp-1', '2026-01-12'), undefined);
  assert.deepEqual(s.reviews.list({ status: 'rejected' }).map((a) => a.person_id).sort(), ['emp-1', 'emp-2']);
  const week = s.reviews.weekly(0);
  assert.deepEqual(week.sort((a, b) => a.camera.localeCompare(b.camera)), [
    { camera: 'gate', week: '2026-W03', false_accepts: 1, false_rejects: 1, other: 0 },
    { camera: 'lobby', week: '2026-W03', false_accepts: 1, false_rejects: 0, other: 0 },
  ]);
  assert.equal(outcomeKind('other'), 'other');
});

test('a track refused afterwards leaves its arrival to review, saying why; retention and erasure take arrivals with their crops', (t) => {
  const s = setup(t);
  s.stage.onRecognized({ personId: 'emp-1', camera: 'gate', track: 7, atMs: at('2026-01-12T07:58:00Z'), assurance: 'recognised', liveness: NOT_LIVE, thumbnail: new Uint8Array([1]) });
  s.stage.onRefused('gate', 7, 'held_picture');
  assert.equal(s.reviews.list()[0]!.refused, 'held_picture');
  s.stage.onRecognized({ personId: 'emp-2', camera: 'gate', track: 8, atMs: at('2026-01-13T07:58:00Z'), assurance: 'recognised', liveness: NOT_LIVE, thumbnail: new Uint8Array([1]) });
  assert.equal(purgeArrivalsBefore(s.db, at('2026-01-13T00:00:00Z')), 1);
  assert.deepEqual(s.reviews.list().map((a) => a.person_id), ['emp-2']);
  assert.equal(eraseArrivalsOf(s.db, 'emp-2'), 1);
  assert.equal([...ARRIVAL_CROP_CELLS.cells(s.db)].length, 0);
});

const LIVE = { score: 3.4, blink: 2.2, structure: 0.8, passive: 0.4, surround: 0, screen: 0, stereo: 0 };

test('a check-in withdrawn when its track is refused afterwards leaves the person as an arrival to review: at the check-in time, with its proof as the face, what proved it and the cue that contradicted', (t) => {
  const s = setup(t);
  const face = new Uint8Array(randomBytes(300));
  const arrivedMs = at('2026-01-12T07:58:00Z');
  assert.deepEqual(s.stage.onRecognized({ personId: 'emp-1', group: 'staff', camera: 'gate', track: 4, atMs: arrivedMs, assurance: 'live', liveness: LIVE, thumbnail: face }).map((d) => d.kind), ['check_in']);
  assert.equal(s.reviews.list().length, 0, 'checked in: nothing to review');
  s.setClock('2026-01-12T07:58:02Z');
  assert.equal(s.stage.onRefused('gate', 4, 'held_picture'), 1);
  const [checkIn, withdrawal] = s.events();
  assert.equal(withdrawal!.type, 'retracted');
  const [a] = s.reviews.list();
  assert.ok(a, 'the person recognised is not left out');
  assert.deepEqual(
    { person: a.person_id, group: a.group, camera: a.camera, at: a.at, assurance: a.assurance, required: a.required, refused: a.refused, retracts: a.retracts, missing: a.missing, crops: a.crops, status: a.status },
    { person: 'emp-1', group: 'staff', camera: 'gate', at: '2026-01-12T08:58:00+01:00', assurance: 'live', required: 'live', refused: 'held_picture', retracts: checkIn!.id, missing: ['screen', 'stereo', 'surround'], crops: 1, status: 'pending' },
  );
  assert.deepEqual(new Uint8Array(s.reviews.crop(a.id, 1, OPERATOR)!), face, "the check-in's proof, sealed again as the arrival's face");
  assert.equal([...ARRIVAL_CROP_CELLS.cells(s.db)].length, 1, 'sealed like every arrival crop');
  // The same refusal again, or the track's end: nothing more is withdrawn or kept.
  assert.equal(s.stage.onRefused('gate', 4, 'held_picture'), 0);
  s.stage.onTrackEnded('gate', 4);
  assert.equal(s.reviews.list({ status: 'all' }).length, 1);
  assert.equal(s.events().length, 2);

  // Confirmed: one check-in at the arrival, proven by the review, a new signed event; the withdrawn one stays withdrawn.
  s.setClock('2026-01-12T09:30:00Z');
  const r = s.reviews.confirm(a.id, OPERATOR, 'she was at the desk');
  assert.deepEqual(r.decisions, ['check_in']);
  const day = s.store.day('emp-1', '2026-01-12')!.record;
  assert.deepEqual([day.checkInMs, day.checkInAssurance], [arrivedMs, 'reviewed']);
  const reviewed = s.events()[2]!;
  assert.deepEqual([reviewed.type, reviewed.assurance, reviewed.check_in], ['check_in', 'reviewed', '2026-01-12T08:58:00+01:00']);
  assert.notEqual(reviewed.id, checkIn!.id, 'a new decision, not the withdrawn one brought back');
  assert.deepEqual(s.db.prepare('SELECT event_id FROM attendance_retractions').all(), [{ event_id: checkIn!.id }], 'the withdrawal stands beside it');
  assert.equal(s.audit.recent(10).find((e) => e.action === 'arrival.confirm')!.detail.withdrawn, checkIn!.id, 'the audit names the check-in withdrawn');

  // Never a second time: a review stands, by any door; and nothing the camera does later brings back a check-in the day holds.
  assert.throws(() => s.reviews.confirm(a.id, OPERATOR), code('FG_ERR_ARRIVAL_REVIEWED'));
  assert.throws(() => s.reviews.reject(a.id, 'picture', OPERATOR), code('FG_ERR_ARRIVAL_REVIEWED'));
  assert.equal(s.stage.onRefused('gate', 4, 'frozen'), 0);
  assert.deepEqual(s.stage.onRecognized({ personId: 'emp-1', camera: 'gate', track: 12, atMs: at('2026-01-12T09:31:00Z'), assurance: 'live', liveness: LIVE }).filter((d) => d.kind === 'check_in'), []);
  assert.equal(s.events().filter((e) => e.type === 'check_in').length, 2, 'the one withdrawn and the one confirmed');
  assert.equal(s.reviews.list({ status: 'all' }).length, 1);
});

test('a withdrawn check-in kept for review leaves the queue when the person checks in on their own; a replay withdrawn twice in a day is one arrival; rejected, it checks nobody in; a later track that day is kept again', (t) => {
  const s = setup(t);
  const face = new Uint8Array([7, 7, 7]);
  const live = (personId: string, track: number, iso: string) => s.stage.onRecognized({ personId, camera: 'gate', track, atMs: at(iso), assurance: 'live', liveness: LIVE, thumbnail: face });
  live('emp-1', 1, '2026-01-12T07:58:00Z');
  s.stage.onRefused('gate', 1, 'frozen');
  assert.equal(s.reviews.list().length, 1);
  // The person really there, a minute later: checked in by the camera, nothing left to review.
  assert.deepEqual(live('emp-1', 2, '2026-01-12T07:59:00Z').map((d) => d.kind), ['check_in']);
  assert.equal(s.reviews.list({ status: 'all' }).length, 0);

  // A tablet replaying emp-2, live on a blink and refused twice: one arrival, the later withdrawal's.
  live('emp-2', 3, '2026-01-12T08:10:00Z');
  s.stage.onRefused('gate', 3, 'held_picture');
  live('emp-2', 4, '2026-01-12T08:12:00Z');
  s.stage.onRefused('gate', 4, 'held_picture');
  const queued = s.reviews.list();
  assert.deepEqual(queued.map((a) => [a.person_id, a.at]), [['emp-2', '2026-01-12T09:12:00+01:00']]);
  const checkIns = s.events().filter((e) => e.type === 'check_in' && e.person_id === 'emp-2');
  assert.equal(queued[0]!.retracts, checkIns[1]!.id);
  s.reviews.reject(queued[0]!.id, 'picture', OPERATOR, 'a tablet');
  assert.equal(s.store.day('emp-2', '2026-01-12')!.record.checkInMs, null, 'rejected: nobody checked in');
  // The same day again, another track: a rejection judged that track, not the person's day; the new
  // withdrawal waits for review beside it (the real emp-2 may have come this time).
  live('emp-2', 5, '2026-01-12T08:20:00Z');
  s.stage.onRefused('gate', 5, 'held_picture');
  assert.deepEqual(s.reviews.list({ status: 'all' }).map((a) => [a.at, a.status]), [['2026-01-12T09:20:00+01:00', 'pending'], ['2026-01-12T09:12:00+01:00', 'rejected']]);
  assert.equal(s.reviews.weekly(0)[0]!.false_accepts, 1, 'the picture counted against the camera');
});

test('a rejected arrival does not hold the day: the person, unproven again at 09:00, waits for review once more, and confirmed is checked in once, by the review', (t) => {
  const s = setup(t, 'stereo');
  const face = (n: number) => new Uint8Array(randomBytes(50 + n));
  const seen = (track: number, iso: string, assurance: 'recognised' | 'live') =>
    s.stage.onRecognized({ personId: 'emp-1', group: 'staff', camera: 'gate', track, atMs: at(iso), assurance, liveness: assurance === 'live' ? LIVE : NOT_LIVE, thumbnail: face(track) });
  // 08:10: someone named emp-1, not proven stereo; the reviewer says it was the wrong person.
  assert.deepEqual(seen(1, '2026-01-12T07:10:00Z', 'recognised'), []);
  const [first] = s.reviews.list();
  s.setClock('2026-01-12T07:12:00Z');
  s.reviews.reject(first!.id, 'wrong_person', OPERATOR, 'her brother');
  // The same track, live a moment later but still below stereo: the review stands for its track.
  assert.deepEqual(seen(1, '2026-01-12T07:10:00Z', 'live'), []);
  assert.deepEqual(s.reviews.list(), []);
  s.stage.onTrackEnded('gate', 1);

  // 09:00: the real emp-1, unproven again. Kept, and listed for review as every door lists it.
  s.setClock('2026-01-12T08:00:05Z');
  assert.deepEqual(seen(2, '2026-01-12T08:00:00Z', 'recognised'), []);
  assert.deepEqual(seen(2, '2026-01-12T08:00:00Z', 'live'), [], 'its live sighting adds its face to the same arrival');
  // A third track while that one waits adds nothing: at most one arrival of the day waits.
  seen(3, '2026-01-12T08:03:00Z', 'recognised');
  const queue = s.reviews.list();
  assert.deepEqual(queue.map((a) => [a.person_id, a.at, a.status, a.crops]), [['emp-1', '2026-01-12T09:00:00+01:00', 'pending', 2]]);
  assert.deepEqual(s.reviews.list({ status: 'all' }).map((a) => [a.at, a.status, a.reason]), [['2026-01-12T09:00:00+01:00', 'pending', null], ['2026-01-12T08:10:00+01:00', 'rejected', 'wrong_person']]);
  assert.equal(s.events().length, 0, 'nobody checked in yet');

  s.setClock('2026-01-12T08:30:00Z');
  const r = s.reviews.confirm(queue[0]!.id, OPERATOR, 'badge seen at the desk');
  assert.deepEqual(r.decisions, ['check_in']);
  const day = s.store.day('emp-1', '2026-01-12')!.record;
  assert.deepEqual([day.checkInMs, day.checkInAssurance, r.arrival.record_id], [at('2026-01-12T08:00:00Z'), 'reviewed', day.recordId]);
  const checkIns = s.events().filter((e) => e.type === 'check_in');
  assert.deepEqual(checkIns.map((e) => [e.time, e.assurance]), [['2026-01-12T09:00:00+01:00', 'reviewed']], 'one check-in, at the second arrival');
  // Checked in: nothing later that day waits for review, and the day's two reviews are both kept and counted.
  seen(4, '2026-01-12T09:00:00Z', 'recognised');
  assert.deepEqual(s.reviews.list(), []);
  assert.deepEqual(s.reviews.list({ status: 'all' }).map((a) => a.status), ['confirmed', 'rejected']);
  assert.deepEqual(s.reviews.weekly(0), [{ camera: 'gate', week: '2026-W03', false_accepts: 1, false_rejects: 1, other: 0 }]);
});

test('a track whose arrival was rejected as a picture checks nobody in when it turns live, so no check-in of it is withdrawn or kept again; another track is another sighting', (t) => {
  const s = setup(t);
  // Named at 08:58, not live: kept; the reviewer calls it a picture; the same track then passes a blink and is refused afterwards.
  s.stage.onRecognized({ personId: 'emp-1', camera: 'gate', track: 7, atMs: at('2026-01-12T07:58:00Z'), assurance: 'recognised', liveness: NOT_LIVE });
  s.reviews.reject(s.reviews.list()[0]!.id, 'picture', OPERATOR);
  assert.deepEqual(s.stage.onRecognized({ personId: 'emp-1', camera: 'gate', track: 7, atMs: at('2026-01-12T07:58:00Z'), assurance: 'live', liveness: LIVE }), []);
  assert.equal(s.stage.onRefused('gate', 7, 'held_picture'), 0);
  assert.deepEqual(s.reviews.list({ status: 'all' }).map((a) => a.status), ['rejected']);
  // Another track's withdrawal that day is another sighting: kept.
  s.stage.onRecognized({ personId: 'emp-1', camera: 'gate', track: 8, atMs: at('2026-01-12T08:05:00Z'), assurance: 'live', liveness: LIVE });
  assert.equal(s.stage.onRefused('gate', 8, 'held_picture'), 1);
  assert.deepEqual(s.reviews.list({ status: 'all' }).map((a) => [a.status, a.retracts !== null]), [['pending', true], ['rejected', false]]);
});

test('a rejection as the wrong person or a picture stands for its track: proven live or stereo afterwards it checks nobody in, counted and told with the reason; a rejection as other does not', (t) => {
  const s = setup(t, 'stereo');
  const seen = (person: string, track: number, iso: string, assurance: 'recognised' | 'live' | 'stereo') =>
    s.stage.onRecognized({ personId: person, camera: 'gate', track, atMs: at(iso), assurance, liveness: assurance === 'recognised' ? NOT_LIVE : LIVE, thumbnail: new Uint8Array([track]) });
  const rejectFirst = (person: string, reason: 'wrong_person' | 'picture' | 'other') => {
    const a = s.reviews.list().find((x) => x.person_id === person)!;
    s.reviews.reject(a.id, reason, OPERATOR);
    return a.id;
  };
  // emp-1 named, below stereo, rejected as someone else; the same track then proven by the door's pairs.
  seen('emp-1', 1, '2026-01-12T07:10:00Z', 'live');
  const wrong = rejectFirst('emp-1', 'wrong_person');
  assert.deepEqual(seen('emp-1', 1, '2026-01-12T07:10:00Z', 'stereo'), []);
  // emp-2 named, rejected as a picture; the same track proven live and then stereo.
  seen('emp-2', 2, '2026-01-12T07:20:00Z', 'recognised');
  const picture = rejectFirst('emp-2', 'picture');
  assert.deepEqual(seen('emp-2', 2, '2026-01-12T07:20:00Z', 'live'), [], 'below stereo: no arrival kept again');
  assert.deepEqual(seen('emp-2', 2, '2026-01-12T07:20:00Z', 'stereo'), []);
  assert.deepEqual(s.reviews.refusedCounts(), [{ camera: 'gate', reason: 'wrong_person', count: 1 }, { camera: 'gate', reason: 'picture', count: 1 }]);
  const audited = s.audit.recent(20).filter((e) => e.action === 'attendance.refused_by_review');
  assert.deepEqual(audited.map((e) => [e.actor, e.outcome, e.target, e.detail.reason, e.detail.at]).reverse(), [['attendance', 'refused', 'emp-1', 'wrong_person', '2026-01-12T08:10:00+01:00'], ['attendance', 'refused', 'emp-2', 'picture', '2026-01-12T08:20:00+01:00']]);
  assert.equal(s.store.day('emp-1', '2026-01-12'), undefined, 'no day record: nobody checked in');
  assert.equal(s.store.day('emp-2', '2026-01-12'), undefined);
  assert.deepEqual(s.events(), [], 'no event');
  assert.deepEqual(
    s.refusedByReview.map((r) => [r.personId, r.track, r.assurance, r.arrivalId, r.reason, r.reviewedBy]),
    [['emp-1', 1, 'stereo', wrong, 'wrong_person', 'web:olga'], ['emp-2', 2, 'stereo', picture, 'picture', 'web:olga']],
  );
  // Rejected as other (a duplicate, say): the camera's own proof afterwards still checks the person in.
  seen('emp-3', 3, '2026-01-12T07:30:00Z', 'recognised');
  rejectFirst('emp-3', 'other');
  assert.deepEqual(seen('emp-3', 3, '2026-01-12T07:30:00Z', 'stereo').map((d) => d.kind), ['check_in']);
  assert.equal(s.store.day('emp-3', '2026-01-12')!.record.checkInAssurance, 'stereo');
  assert.equal(s.refusedByReview.length, 2);
  // The track ended: a new track of emp-1 that day is another sighting, and proven, checks them in.
  s.stage.onTrackEnded('gate', 1);
  assert.deepEqual(seen('emp-1', 4, '2026-01-12T08:00:00Z', 'stereo').map((d) => d.kind), ['check_in']);
});

test('confirming an arrival of a day that has its check-in already is refused with a code, and changes nothing; rejected, it leaves the queue', (t) => {
  const s = setup(t);
  // 00:30 on Tuesday, unproven at a both-ways camera: on the day shift's rules an unscheduled Tuesday.
  s.setClock('2026-01-12T23:30:05Z');
  s.stage.onRecognized({ personId: 'emp-1', camera: 'lobby', track: 1, atMs: at('2026-01-12T23:30:00Z'), assurance: 'recognised', liveness: NOT_LIVE });
  const [a] = s.reviews.list();
  assert.equal(a!.date, '2026-01-13');
  // The site moves emp-1 to the night shift (attendance/shifts): 00:40 is now Monday's night, and
  // the person's live check-in then makes Monday's record, leaving Tuesday's arrival waiting.
  s.setRules({ ...s.rules(), personOverrides: { 'emp-1': { start: '22:00', end: '06:00' } } });
  s.setClock('2026-01-12T23:40:05Z');
  assert.deepEqual(s.stage.onRecognized({ personId: 'emp-1', camera: 'lobby', track: 2, atMs: at('2026-01-12T23:40:00Z'), assurance: 'live', liveness: LIVE }).map((d) => d.kind), ['check_in']);
  assert.deepEqual(s.reviews.list().map((x) => x.id), [a!.id]);
  const dayBefore = s.store.day('emp-1', '2026-01-12');
  assert.equal(dayBefore!.record.checkInAssurance, 'live');

  // Confirmed now, the arrival (at 00:30, Monday's night by the rules in force) would make no check-in: the first one stands.
  s.setClock('2026-01-13T07:00:00Z');
  assert.throws(
    () => s.reviews.confirm(a!.id, OPERATOR),
    (e: unknown) => isFacegateError(e) && e.code === 'FG_ERR_ARRIVAL_CHECKED_IN' && e.message.includes('already checked in on 2026-01-12 (at 2026-01-13T00:40:00+01:00, live)') && /reject the arrival/.test(e.hint ?? ''),
  );
  assert.deepEqual(s.store.day('emp-1', '2026-01-12'), dayBefore, 'the day as it was: no second check-in, no check-out candidate');
  assert.deepEqual(s.events().map((e) => e.type), ['check_in']);
  assert.equal(s.reviews.get(a!.id).status, 'pending');
  assert.deepEqual(s.audit.recent(10).filter((e) => e.action === 'arrival.confirm').map((e) => [e.outcome, e.detail.code]), [['failed', 'FG_ERR_ARRIVAL_CHECKED_IN']]);
  assert.deepEqual(s.reviews.outcomeCounts(), [], 'a refused confirmation measures nothing');
  // The reviewer's way out: a rejection, with why.
  s.reviews.reject(a!.id, 'other', OPERATOR, 'checked in at 00:40 already');
  assert.deepEqual(s.reviews.list(), []);
});

test('teaching from the timeline measures the camera: an unknown taught is a false reject, a recognition of someone else corrected a false accept; both counted per camera and week', (t) => {
  const s = setup(t);
  assert.deepEqual(measureOf({ camera: 'gate', kind: 'unknown', personId: null }, 'emp-1'), { camera: 'gate', outcome: 'taught' });
  assert.deepEqual(measureOf({ camera: 'lobby', kind: 'recognized', personId: 'emp-2' }, 'emp-1'), { camera: 'lobby', outcome: 'corrected' });
  assert.equal(measureOf({ camera: 'gate', kind: 'recognized', personId: 'emp-1' }, 'emp-1'), undefined, 'teaching the person it named says nothing against it');
  assert.equal(measureOf(undefined, 'emp-1'), undefined);
  s.setClock('2026-01-14T10:00:00Z');
  // As the enrolment writes them (enrolment.ts): the audit entry of the teach says what it measured.
  s.audit.append({ actor: 'web:olga', role: 'operator', action: 'person.teach', target: 'emp-1', detail: { templates: 1, sighting: 5, camera: 'gate', measure: 'taught' }, outcome: 'ok' });
  s.audit.append({ actor: 'web:olga', role: 'operator', action: 'person.teach', target: 'emp-1', detail: { templates: 1, sighting: 6, camera: 'lobby', measure: 'corrected' }, outcome: 'ok' });
  s.audit.append({ actor: 'web:olga', role: 'operator', action: 'person.teach', target: 'emp-1', detail: { templates: 1, sighting: 7 }, outcome: 'ok' });
  s.reviews.measured('gate', 'taught');
  assert.deepEqual(s.reviews.weekly(0), [
    { camera: 'gate', week: '2026-W03', false_accepts: 0, false_rejects: 1, other: 0 },
    { camera: 'lobby', week: '2026-W03', false_accepts: 1, false_rejects: 0, other: 0 },
  ]);
  assert.deepEqual(s.reviews.outcomeCounts(), [{ camera: 'gate', outcome: 'taught', count: 1 }]);
});

test('ISO weeks: the Thursday decides the year; a site\'s week starts at its own Monday midnight', () => {
  assert.equal(isoWeek(at('2026-01-01T12:00:00Z'), 'UTC'), '2026-W01');
  assert.equal(isoWeek(at('2027-01-01T12:00:00Z'), 'UTC'), '2026-W53');
  assert.equal(isoWeek(at('2024-12-30T12:00:00Z'), 'UTC'), '2025-W01');
  assert.equal(isoWeek(at('2026-11-26T12:00:00Z'), 'UTC'), '2026-W48');
  // Monday 30 November 2026, 07:00 in Tokyo, is still Sunday in UTC; 23:30 on Sunday in Los Angeles is Monday in UTC.
  assert.deepEqual([isoWeek(at('2026-11-29T22:00:00Z'), 'Asia/Tokyo'), isoWeek(at('2026-11-29T22:00:00Z'), 'UTC')], ['2026-W49', '2026-W48']);
  assert.deepEqual([isoWeek(at('2026-11-30T07:30:00Z'), 'America/Los_Angeles'), isoWeek(at('2026-11-30T07:30:00Z'), 'UTC')], ['2026-W48', '2026-W49']);
});
