import '../support/fast-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Value } from '@sinclair/typebox/value';
import { ShiftSchema, type Shift, type ShiftRules } from '../../daemon/attendance/config.js';
import { resolveShift, shiftDayAt } from '../../daemon/attendance/shift.js';
import { applySighting, settle, type DayRecord, type Sighting } from '../../daemon/attendance/engine.js';
import type { Assurance } from '../../contract/assurance.js';

const rules: ShiftRules = {
  timeZone: 'Europe/Berlin',
  shifts: { default: { ...(Value.Default(ShiftSchema, {}) as Shift), start: '09:00', end: '17:00', checkout_window_min: 120 } },
  personOverrides: {},
  holidays: new Set(),
};
let n = 0;
const newId = () => `rec-${++n}`;

/** Sightings of p1, proven live and at a camera in no door unless they say otherwise. */
function feed(sightings: (Omit<Sighting, 'personId' | 'assurance' | 'door' | 'liveness'> & { assurance?: Assurance; door?: string | null; liveness?: Sighting['liveness'] })[], record?: DayRecord) {
  const decisions = [];
  for (const s of sightings) {
    const full = { personId: 'p1', assurance: 'live' as const, door: null, liveness: null, ...s };
    const day = shiftDayAt(rules, resolveShift(rules, 'p1', undefined), s.atMs);
    const t = applySighting(record, full, day, newId);
    record = t.record;
    decisions.push(...t.decisions);
  }
  return { record: record!, decisions };
}
const at = (iso: string) => Date.parse(iso);

test('first entry sighting checks in, later entries do not', () => {
  const { decisions, record } = feed([
    { camera: 'gate', role: 'entry', atMs: at('2026-01-12T08:10:00Z') }, // 09:10 CET, late by 10
    { camera: 'gate', role: 'entry', atMs: at('2026-01-12T10:00:00Z') },
  ]);
  assert.equal(decisions.length, 1);
  assert.deepEqual(decisions[0], { kind: 'check_in', atMs: at('2026-01-12T08:10:00Z'), camera: 'gate', door: null, assurance: 'live', liveness: null, status: 'late', late_minutes: 10 });
  assert.equal(record.checkOutSettled, true);
});

test('an exit sighting checks out at once, and a later exit replaces it', () => {
  const { decisions } = feed([
    { camera: 'gate', role: 'entry', atMs: at('2026-01-12T07:55:00Z') },
    { camera: 'out', role: 'exit', atMs: at('2026-01-12T15:00:00Z') }, // 16:00 local: early by 60
    { camera: 'out', role: 'exit', atMs: at('2026-01-12T17:00:00Z') }, // 18:00: 60 min overtime
  ]);
  assert.deepEqual(decisions.map((d) => [d.kind, 'status' in d ? d.status : '']), [['check_in', 'on_time'], ['check_out', 'early'], ['check_out', 'on_time']]);
  const last = decisions[2]!;
  assert.ok(last.kind === 'check_out' && last.overtime_minutes === 60 && last.source === 'exit');
});

test("on a 'both' camera the last sighting becomes the check-out once the window closes, then the summary", () => {
  const { record, decisions } = feed([
    { camera: 'lobby', role: 'both', atMs: at('2026-01-12T08:00:00Z') },
    { camera: 'lobby', role: 'both', atMs: at('2026-01-12T12:00:00Z') },
    { camera: 'lobby', role: 'both', atMs: at('2026-01-12T16:40:00Z') }, // 17:40 local
  ]);
  assert.equal(decisions.length, 1);
  assert.equal(record.checkOutSettled, false);
  // Window closes at 17:00 + 120 min local = 18:00Z.
  assert.deepEqual(settle(record, at('2026-01-12T17:59:59Z')).decisions, []);
  const done = settle(record, at('2026-01-12T18:00:00Z'));
  assert.deepEqual(done.decisions.map((d) => d.kind), ['check_out', 'summary']);
  const out = done.decisions[0]!;
  assert.ok(out.kind === 'check_out' && out.source === 'last_seen' && out.atMs === at('2026-01-12T16:40:00Z') && out.overtime_minutes === 40);
  const summary = done.decisions[1]!;
  assert.ok(summary.kind === 'summary' && summary.status === 'present' && summary.worked_minutes === 520);
  assert.deepEqual(settle(done.record, at('2026-01-13T00:00:00Z')).decisions, [], 'settles once');
});

test('a single sighting is a check-in with no check-out; the summary says present without worked minutes', () => {
  const { record } = feed([{ camera: 'lobby', role: 'both', atMs: at('2026-01-12T08:00:00Z') }]);
  const done = settle(record, at('2026-01-13T00:00:00Z'));
  assert.deepEqual(done.decisions, [{ kind: 'summary', checkInMs: at('2026-01-12T08:00:00Z'), checkOutMs: null, status: 'present', worked_minutes: null }]);
});

test('unscheduled days record check-in and check-out but get no summary', () => {
  const { record, decisions } = feed([
    { camera: 'lobby', role: 'both', atMs: at('2026-01-17T09:00:00Z') }, // Saturday
    { camera: 'lobby', role: 'both', atMs: at('2026-01-17T11:00:00Z') },
  ]);
  assert.equal(decisions[0]?.kind === 'check_in' && decisions[0].status, 'unscheduled');
  assert.equal(record.date, '2026-01-17');
  const done = settle(record, at('2026-01-18T00:00:00Z')); // local midnight is 23:00Z, closed
  assert.deepEqual(done.decisions.map((d) => d.kind), ['check_out']);
});

test('each check-in and check-out carries what proved its own sighting; a last-seen check-out, the last sighting\'s', () => {
  const { record, decisions } = feed([
    { camera: 'lobby', role: 'both', atMs: at('2026-01-12T08:00:00Z'), assurance: 'recognised' },
    { camera: 'lobby', role: 'both', atMs: at('2026-01-12T12:00:00Z'), assurance: 'live' },
    { camera: 'lobby', role: 'both', atMs: at('2026-01-12T16:40:00Z'), assurance: 'stereo' },
  ]);
  assert.deepEqual(decisions.map((d) => [d.kind, 'assurance' in d ? d.assurance : null]), [['check_in', 'recognised']]);
  assert.deepEqual([record.checkInAssurance, record.checkOutAssurance, record.lastSeenAssurance], ['recognised', null, 'stereo']);
  const done = settle(record, at('2026-01-12T18:00:00Z'));
  assert.deepEqual(done.decisions.map((d) => [d.kind, 'assurance' in d ? d.assurance : null]), [['check_out', 'stereo'], ['summary', null]]);
  assert.equal(done.record.checkOutAssurance, 'stereo');
  const exit = feed([{ camera: 'out', role: 'exit', atMs: at('2026-01-12T16:00:00Z'), assurance: 'recognised' }], done.record);
  assert.equal(exit.record.checkOutAssurance, 'stereo', 'an earlier exit replaces no later check-out');
  const later = feed([{ camera: 'out', role: 'exit', atMs: at('2026-01-12T17:10:00Z'), assurance: 'recognised' }], done.record);
  assert.deepEqual([later.decisions[0]?.kind, later.record.checkOutAssurance], ['check_out', 'recognised'], 'a later exit replaces it, with its own');
});

test("each check-in and check-out carries the cues' shares behind its own sighting; a last-seen check-out, the last sighting's", () => {
  const [blinked, stereo, walked] = [
    { score: 4.6, blink: 2.3, structure: 2.3, passive: 0, surround: 0, screen: 0 },
    { score: 4.4, blink: 0, structure: 0, passive: 0, surround: 0, screen: 0, stereo: 4.4 },
    { score: 3.3, blink: 2.3, structure: 0, passive: -1, surround: 2, screen: 0 },
  ];
  const { record, decisions } = feed([
    { camera: 'lobby', role: 'both', atMs: at('2026-01-12T08:00:00Z'), liveness: blinked },
    { camera: 'lobby', role: 'both', atMs: at('2026-01-12T16:40:00Z'), assurance: 'stereo', liveness: stereo },
  ]);
  assert.deepEqual(decisions.map((d) => [d.kind, 'liveness' in d ? d.liveness : undefined]), [['check_in', blinked]]);
  assert.deepEqual([record.checkInLiveness, record.checkOutLiveness, record.lastSeenLiveness], [blinked, null, stereo]);
  const done = settle(record, at('2026-01-12T18:00:00Z'));
  assert.deepEqual(done.decisions.map((d) => [d.kind, 'liveness' in d ? d.liveness : undefined]), [['check_out', stereo], ['summary', undefined]]);
  const exit = feed([{ camera: 'out', role: 'exit', atMs: at('2026-01-12T18:10:00Z'), liveness: walked }], done.record);
  assert.deepEqual([exit.decisions[0]?.kind, exit.record.checkOutLiveness, exit.record.checkInLiveness], ['check_out', walked, blinked], 'a later exit replaces the check-out with its own');
  const none = feed([{ camera: 'gate', role: 'entry', atMs: at('2026-01-13T08:00:00Z'), assurance: 'reviewed' }]);
  assert.equal(none.record.checkInLiveness, null, 'a sighting with no shares keeps none');
});

test('each check-in and check-out names the door of its camera, and a last-seen check-out the door it was last seen at', () => {
  const { decisions, record } = feed([
    { camera: 'front-left', door: 'front-door', role: 'both', atMs: at('2026-01-12T07:55:00Z') },
    { camera: 'yard', role: 'both', atMs: at('2026-01-12T12:00:00Z') },
    { camera: 'front-right', door: 'front-door', role: 'both', atMs: at('2026-01-12T16:05:00Z') },
  ]);
  assert.deepEqual(decisions.map((d) => [d.kind, 'door' in d ? d.door : undefined]), [['check_in', 'front-door']]);
  assert.deepEqual([record.checkInDoor, record.checkOutDoor, record.lastSeenDoor], ['front-door', null, 'front-door']);
  const done = settle(record, at('2026-01-12T18:00:00Z'));
  assert.deepEqual(done.decisions.map((d) => [d.kind, 'door' in d ? d.door : undefined]), [['check_out', 'front-door'], ['summary', undefined]]);
  assert.equal(done.record.checkOutCamera, 'front-right');
  const exit = feed([{ camera: 'yard', role: 'exit', atMs: at('2026-01-12T18:30:00Z') }], done.record);
  assert.deepEqual([exit.decisions[0]?.kind, exit.record.checkOutDoor], ['check_out', null], 'a camera in no door names none');
});
