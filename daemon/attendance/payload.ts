import type { EventBody } from '../events/writer.js';
import type { AttendanceDecision, DayRecord, LivenessShares } from './engine.js';
import type { ShiftDay } from './shift.js';
import { formatLocalIso } from '../base/zoned-time.js';
import { doorField } from '../../contract/fields.js';

/** Who a record is about, as events name them. */
export interface EventPerson {
  group: string | null;
  externalId: string | null;
}

/** The `<base>/attendance` body for one decision (docs/mqtt.md#attendance). */
export function attendanceBody(decision: AttendanceDecision, record: Pick<DayRecord, 'recordId' | 'personId' | 'date' | 'day' | 'checkInMs' | 'checkOutMs'>, person: EventPerson, timeZone: string): EventBody<'attendance'> {
  const iso = (ms: number | null) => (ms === null ? null : formatLocalIso(ms, timeZone));
  const base = {
    record_id: record.recordId,
    person_id: record.personId,
    external_id: person.externalId,
    group: person.group,
    date: record.date,
    shift: shiftOf(record.day, timeZone),
    check_in: iso(record.checkInMs),
    check_out: iso(record.checkOutMs),
  };
  switch (decision.kind) {
    case 'check_in':
      return { ...base, type: 'check_in', camera: decision.camera, ...doorField(decision.door), status: decision.status, source: 'entry', assurance: decision.assurance, liveness: sharesField(decision.liveness), late_minutes: decision.late_minutes, early_minutes: 0, overtime_minutes: 0, worked_minutes: null };
    case 'check_out':
      return {
        ...base,
        type: 'check_out',
        camera: decision.camera,
        ...doorField(decision.door),
        status: decision.status,
        source: decision.source,
        assurance: decision.assurance,
        liveness: sharesField(decision.liveness),
        late_minutes: 0,
        early_minutes: decision.early_minutes,
        overtime_minutes: decision.overtime_minutes,
        worked_minutes: record.checkInMs !== null && record.checkOutMs !== null && record.checkOutMs > record.checkInMs ? Math.floor((record.checkOutMs - record.checkInMs) / 60_000) : null,
      };
    case 'summary':
      return {
        ...base,
        type: 'summary',
        camera: null,
        status: decision.status,
        source: 'end_of_day',
        // A summary repeats the day's check-in and check-out, whose own events said what proved them.
        assurance: null,
        liveness: null,
        ...dayMinutes(record.day, record.checkInMs, record.checkOutMs),
        worked_minutes: decision.worked_minutes,
      };
  }
}

/**
 * The shares as the event's schema holds them (contract/topics.ts): the fused score and each cue's
 * by name, a cue the track did not run as 0, and stereo and challenge only where the track had them
 * (as its own events say them); nothing else the record kept.
 */
export function sharesField(shares: LivenessShares | null): EventBody<'attendance'>['liveness'] {
  if (shares === null) return null;
  const cue = (name: string) => shares[name] ?? 0;
  return {
    score: cue('score'),
    blink: cue('blink'),
    structure: cue('structure'),
    passive: cue('passive'),
    surround: cue('surround'),
    screen: cue('screen'),
    ...(shares.stereo !== undefined ? { stereo: shares.stereo } : {}),
    ...(shares.challenge !== undefined ? { challenge: shares.challenge } : {}),
  };
}

/** A day's lateness, early leave and overtime against its shift, in whole minutes (0 unscheduled): the summary's figures, and the history's. */
export function dayMinutes(day: ShiftDay, checkInMs: number | null, checkOutMs: number | null): { late_minutes: number; early_minutes: number; overtime_minutes: number } {
  if (!day.scheduled) return { late_minutes: 0, early_minutes: 0, overtime_minutes: 0 };
  return {
    late_minutes: checkInMs !== null ? Math.max(0, lateBy(day, checkInMs)) : 0,
    early_minutes: checkOutMs !== null ? Math.max(0, Math.floor((day.endMs - checkOutMs) / 60_000)) : 0,
    overtime_minutes: checkOutMs !== null ? Math.max(0, Math.floor((checkOutMs - day.endMs) / 60_000)) : 0,
  };
}

function lateBy(day: Extract<ShiftDay, { scheduled: true }>, checkInMs: number): number {
  return checkInMs > day.startMs + day.shift.grace_min * 60_000 ? Math.floor((checkInMs - day.startMs) / 60_000) : 0;
}

function shiftOf(day: ShiftDay, timeZone: string): { name: string; start: string; end: string } | null {
  return day.scheduled ? { name: day.shiftName, start: formatLocalIso(day.startMs, timeZone), end: formatLocalIso(day.endMs, timeZone) } : null;
}
