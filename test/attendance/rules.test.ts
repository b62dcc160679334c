import '../support/fast-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Value } from '@sinclair/typebox/value';
import { ShiftSchema, type Shift, type ShiftRules } from '../../daemon/attendance/config.js';
import { formatLocalIso, localParts, zonedInstant, isValidTimeZone } from '../../daemon/base/zoned-time.js';
import { resolveShift, shiftDayAt, type ScheduledDay } from '../../daemon/attendance/shift.js';
import { classifyCheckIn, classifyCheckOut, summarizeDay } from '../../daemon/attendance/rules.js';
import { Cooldown } from '../../daemon/attendance/cooldown.js';

const shift = (over: Partial<Shift> = {}): Shift => ({ ...(Value.Default(ShiftSchema, {}) as Shift), ...over });
const rules = (timeZone: string, shifts: Record<string, Shift>, extra: Partial<ShiftRules> = {}): ShiftRules => ({
  timeZone,
  shifts,
  personOverrides: {},
  holidays: new Set(),
  ...extra,
});
const at = (iso: string) => Date.parse(iso);
const scheduled = (r: ShiftRules, iso: string, person = 'p1', group?: string): ScheduledDay => {
  const day = shiftDayAt(r, resolveShift(r, person, group), at(iso));
  assert.ok(day.scheduled, `expected ${iso} inside a shift, got ${JSON.stringify(day)}`);
  return day;
};

test('zonedInstant maps local clock times to instants across DST in Berlin and New York', () => {
  // Berlin: CET +01 until 2026-03-29 02:00, then CEST +02; back on 2026-10-25 03:00.
  assert.equal(zonedInstant('2026-03-28', 9 * 60, 'Europe/Berlin'), at('2026-03-28T08:00:00Z'));
  assert.equal(zonedInstant('2026-03-29', 9 * 60, 'Europe/Berlin'), at('2026-03-29T07:00:00Z'));
  // 02:30 does not exist on 2026-03-29: moved later by the jump, to 03:30 CEST.
  assert.equal(zonedInstant('2026-03-29', 2 * 60 + 30, 'Europe/Berlin'), at('2026-03-29T01:30:00Z'));
  // 02:30 happens twice on 2026-10-25: the first (CEST) is taken.
  assert.equal(zonedInstant('2026-10-25', 2 * 60 + 30, 'Europe/Berlin'), at('2026-10-25T00:30:00Z'));
  // Minutes past 1440 are the next day.
  assert.equal(zonedInstant('2026-03-28', 1440 + 6 * 60, 'Europe/Berlin'), at('2026-03-29T04:00:00Z'));
  assert.equal(zonedInstant('2026-11-01', 9 * 60, 'America/New_York'), at('2026-11-01T14:00:00Z'));
  assert.equal(zonedInstant('2026-10-31', 9 * 60, 'America/New_York'), at('2026-10-31T13:00:00Z'));
  assert.equal(zonedInstant('2026-06-01', 0, 'UTC'), at('2026-06-01T00:00:00Z'));
});

test('localParts and formatLocalIso read the local clock with its offset', () => {
  assert.deepEqual(localParts(at('2026-03-28T23:30:00Z'), 'Europe/Berlin'), { date: '2026-03-29', minutes: 30, weekday: 0 });
  assert.equal(formatLocalIso(at('2026-03-29T07:05:00Z'), 'Europe/Berlin'), '2026-03-29T09:05:00+02:00');
  assert.equal(formatLocalIso(at('2026-01-10T14:00:00Z'), 'America/New_York'), '2026-01-10T09:00:00-05:00');
  assert.equal(formatLocalIso(at('2026-01-10T14:00:00Z'), 'Asia/Kolkata'), '2026-01-10T19:30:00+05:30');
  assert.ok(isValidTimeZone('Europe/Berlin'));
  assert.ok(!isValidTimeZone('Mars/Olympus'));
});

test('grace boundary: exactly start + grace is on time, one second later is late', () => {
  const r = rules('Europe/Berlin', { default: shift({ start: '09:00', grace_min: 5 }) });
  const day = scheduled(r, '2026-01-12T08:00:00Z'); // Monday 09:00 CET
  assert.deepEqual(classifyCheckIn(day, at('2026-01-12T08:05:00Z')), { status: 'on_time', late_minutes: 0 });
  assert.deepEqual(classifyCheckIn(day, at('2026-01-12T08:05:01Z')), { status: 'late', late_minutes: 5 });
  assert.deepEqual(classifyCheckIn(day, at('2026-01-12T08:47:00Z')), { status: 'late', late_minutes: 47 });
  assert.deepEqual(classifyCheckIn(day, at('2026-01-12T07:40:00Z')), { status: 'on_time', late_minutes: 0 });
});

test('early leave and overtime thresholds', () => {
  const r = rules('UTC', { default: shift({ start: '09:00', end: '17:00', early_leave_min: 10, overtime_after_min: 30 }) });
  const day = scheduled(r, '2026-01-12T12:00:00Z');
  assert.deepEqual(classifyCheckOut(day, at('2026-01-12T16:49:59Z')), { status: 'early', early_minutes: 10, overtime_minutes: 0 });
  assert.deepEqual(classifyCheckOut(day, at('2026-01-12T16:50:00Z')), { status: 'on_time', early_minutes: 0, overtime_minutes: 0 });
  assert.deepEqual(classifyCheckOut(day, at('2026-01-12T17:29:00Z')), { status: 'on_time', early_minutes: 0, overtime_minutes: 0 });
  assert.deepEqual(classifyCheckOut(day, at('2026-01-12T17:30:00Z')), { status: 'on_time', early_minutes: 0, overtime_minutes: 30 });
  assert.deepEqual(classifyCheckOut(day, at('2026-01-12T19:15:00Z')), { status: 'on_time', early_minutes: 0, overtime_minutes: 135 });
});

test('check-in window: before it the sighting is unscheduled, inside it counts for the shift', () => {
  const r = rules('UTC', { default: shift({ start: '09:00', checkin_window_min: 60 }) });
  const early = shiftDayAt(r, resolveShift(r, 'p1', undefined), at('2026-01-12T07:59:00Z'));
  assert.equal(early.scheduled, false);
  assert.equal(early.scheduled === false && early.reason, 'outside_window');
  assert.equal(scheduled(r, '2026-01-12T08:00:00Z').date, '2026-01-12');
});

test('night shift across midnight belongs to the day it starts, and its overtime counts past midnight', () => {
  const r = rules('Europe/Berlin', { night: shift({ weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '22:00', end: '06:00' }) , default: shift() });
  // Friday 2026-01-16 22:00 CET → Saturday 06:00 CET; a Saturday 05:30 sighting is Friday's shift.
  const day = scheduled(r, '2026-01-17T04:30:00Z', 'n1', 'night');
  assert.equal(day.date, '2026-01-16');
  assert.equal(day.startMs, at('2026-01-16T21:00:00Z'));
  assert.equal(day.endMs, at('2026-01-17T05:00:00Z'));
  assert.deepEqual(classifyCheckIn(day, at('2026-01-16T21:30:00Z')), { status: 'late', late_minutes: 30 });
  assert.deepEqual(classifyCheckOut(day, at('2026-01-17T06:00:00Z')), { status: 'on_time', early_minutes: 0, overtime_minutes: 60 });
  assert.equal(summarizeDay(day, at('2026-01-16T20:58:00Z'), at('2026-01-17T05:01:00Z')).worked_minutes, 483);
});

test('a night shift spanning the DST change lasts 7 or 9 real hours, and worked minutes are real minutes', () => {
  const r = rules('Europe/Berlin', { default: shift({ weekdays: ['sat'], start: '22:00', end: '06:00' }) });
  const spring = scheduled(r, '2026-03-28T22:00:00Z'); // Sat 28 March 23:00 CET
  assert.equal(spring.date, '2026-03-28');
  assert.equal((spring.endMs - spring.startMs) / 3_600_000, 7);
  const autumn = scheduled(r, '2026-10-24T22:00:00Z'); // Sat 24 Oct 00:00 CEST
  assert.equal((autumn.endMs - autumn.startMs) / 3_600_000, 9);
  const s = summarizeDay(autumn, autumn.startMs, autumn.endMs);
  assert.deepEqual(s, { status: 'present', worked_minutes: 540 });
  // 06:00 local on the Sunday is 05:00Z after the change back.
  assert.equal(autumn.endMs, at('2026-10-25T05:00:00Z'));
});

test('a day shift on the DST day starts at local 09:00 in the new offset', () => {
  const r = rules('America/New_York', { default: shift({ weekdays: ['sun'], start: '09:00', grace_min: 0 }) });
  const day = scheduled(r, '2026-03-08T13:00:00Z');
  assert.equal(day.startMs, at('2026-03-08T13:00:00Z')); // EDT -04
  assert.equal(classifyCheckIn(day, at('2026-03-08T13:00:00Z')).status, 'on_time');
  assert.equal(classifyCheckIn(day, at('2026-03-08T14:00:01Z')).late_minutes, 60);
});

test('holidays and days off are unscheduled with the reason', () => {
  const r = rules('UTC', { default: shift() }, { holidays: new Set(['2026-12-25']) });
  const resolved = resolveShift(r, 'p1', undefined);
  const xmas = shiftDayAt(r, resolved, at('2026-12-25T09:00:00Z'));
  assert.deepEqual([xmas.scheduled, !xmas.scheduled && xmas.reason], [false, 'holiday']);
  const saturday = shiftDayAt(r, resolved, at('2026-12-26T09:00:00Z'));
  assert.deepEqual([saturday.scheduled, !saturday.scheduled && saturday.reason], [false, 'day_off']);
  assert.equal(classifyCheckIn(xmas, at('2026-12-25T09:00:00Z')).status, 'unscheduled');
});

test('per-person overrides replace only the fields they name; unknown groups use default', () => {
  const r = rules('UTC', { default: shift(), late: shift({ start: '11:00', end: '19:00' }) }, { personOverrides: { ana: { grace_min: 15 } } });
  assert.equal(resolveShift(r, 'ana', 'late')?.shift.grace_min, 15);
  assert.equal(resolveShift(r, 'ana', 'late')?.shift.start, '11:00');
  assert.equal(resolveShift(r, 'bob', 'late')?.shift.grace_min, 5);
  assert.equal(resolveShift(r, 'bob', 'nope')?.name, 'default');
});

test('half-day and absent thresholds in the summary', () => {
  const r = rules('UTC', { default: shift({ half_day_below_min: 240, absent_below_min: 60 }) });
  const day = scheduled(r, '2026-01-12T09:00:00Z');
  const t0 = at('2026-01-12T09:00:00Z');
  assert.deepEqual(summarizeDay(day, t0, t0 + 59 * 60_000), { status: 'absent', worked_minutes: 59 });
  assert.deepEqual(summarizeDay(day, t0, t0 + 60 * 60_000), { status: 'half_day', worked_minutes: 60 });
  assert.deepEqual(summarizeDay(day, t0, t0 + 240 * 60_000), { status: 'present', worked_minutes: 240 });
  assert.deepEqual(summarizeDay(day, null, null), { status: 'absent', worked_minutes: 0 });
  assert.deepEqual(summarizeDay(day, t0, null), { status: 'present', worked_minutes: null });
});

test('cooldown suppresses repeats per person and camera, not across them', () => {
  const c = new Cooldown(300_000);
  assert.ok(c.admit('p1', 'gate', 0));
  assert.ok(!c.admit('p1', 'gate', 299_999));
  assert.ok(c.admit('p1', 'door', 1000));
  assert.ok(c.admit('p2', 'gate', 1000));
  assert.ok(c.admit('p1', 'gate', 300_000));
  assert.ok(!c.admit('p1', 'gate', 300_001));
});

test('cooldown stays bounded', () => {
  const c = new Cooldown(1000, 100);
  for (let i = 0; i < 1000; i++) c.admit(`p${i}`, 'gate', i * 10);
  assert.ok(c.size <= 101, `size ${c.size}`);
});
