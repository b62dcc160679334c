import type { CameraRole } from './config.js';
import { classifyCheckIn, classifyCheckOut, summarizeDay, type CheckInVerdict, type CheckOutVerdict, type DaySummary } from './rules.js';
import type { ShiftDay } from './shift.js';

/** A live `recognized` decision that passed the cooldown. */
export interface Sighting {
  personId: string;
  group?: string;
  camera: string;
  role: CameraRole;
  atMs: number;
}

/** One person's attendance for one day key, as stored; the engine only ever returns new copies. */
export interface DayRecord {
  recordId: string;
  personId: string;
  date: string;
  day: ShiftDay;
  checkInMs: number | null;
  checkInCamera: string | null;
  checkOutMs: number | null;
  checkOutCamera: string | null;
  lastSeenMs: number;
  lastSeenCamera: string;
  /** False while the last sighting after check-in is a check-out candidate not yet published. */
  checkOutSettled: boolean;
  summarized: boolean;
}

export type AttendanceDecision =
  | ({ kind: 'check_in'; atMs: number; camera: string } & CheckInVerdict)
  | ({ kind: 'check_out'; atMs: number; camera: string; source: 'exit' | 'last_seen' } & CheckOutVerdict)
  | ({ kind: 'summary'; checkInMs: number | null; checkOutMs: number | null } & DaySummary);

export interface Transition {
  record: DayRecord;
  decisions: AttendanceDecision[];
}

/**
 * A sighting against the person's record for the day it falls in. Entry (or both) with no check-in
 * yet → check-in. Exit → check-out now (a later exit replaces it). Both after check-in → the
 * sighting becomes the check-out candidate, settled by `settle` once the day's window closes.
 */
export function applySighting(existing: DayRecord | undefined, s: Sighting, day: ShiftDay, newRecordId: () => string): Transition {
  const r: DayRecord = existing
    ? { ...existing }
    : {
        recordId: newRecordId(),
        personId: s.personId,
        date: day.date,
        day,
        checkInMs: null,
        checkInCamera: null,
        checkOutMs: null,
        checkOutCamera: null,
        lastSeenMs: s.atMs,
        lastSeenCamera: s.camera,
        checkOutSettled: true,
        summarized: false,
      };
  if (s.atMs >= r.lastSeenMs) {
    r.lastSeenMs = s.atMs;
    r.lastSeenCamera = s.camera;
  }
  const decisions: AttendanceDecision[] = [];
  if (s.role === 'exit') {
    if (r.checkOutMs === null || s.atMs > r.checkOutMs) {
      r.checkOutMs = s.atMs;
      r.checkOutCamera = s.camera;
      r.checkOutSettled = true;
      decisions.push({ kind: 'check_out', atMs: s.atMs, camera: s.camera, source: 'exit', ...classifyCheckOut(day, s.atMs) });
    }
  } else if (r.checkInMs === null) {
    r.checkInMs = s.atMs;
    r.checkInCamera = s.camera;
    decisions.push({ kind: 'check_in', atMs: s.atMs, camera: s.camera, ...classifyCheckIn(day, s.atMs) });
  } else if (s.role === 'both' && s.atMs > r.checkInMs && (r.checkOutMs === null || s.atMs > r.checkOutMs)) {
    r.checkOutSettled = false;
  }
  return { record: r, decisions };
}

/**
 * Once the day's window has closed: the pending last sighting becomes the check-out, then a
 * scheduled day gets its summary. Returns no decisions (and the same record) before that.
 */
export function settle(record: DayRecord, nowMs: number): Transition {
  if (nowMs < record.day.closesMs || (record.checkOutSettled && record.summarized)) return { record, decisions: [] };
  const next = { ...record };
  const decisions: AttendanceDecision[] = [];
  if (!next.checkOutSettled) {
    next.checkOutMs = next.lastSeenMs;
    next.checkOutCamera = next.lastSeenCamera;
    next.checkOutSettled = true;
    decisions.push({ kind: 'check_out', atMs: next.lastSeenMs, camera: next.lastSeenCamera, source: 'last_seen', ...classifyCheckOut(next.day, next.lastSeenMs) });
  }
  if (!next.summarized) {
    next.summarized = true;
    if (next.day.scheduled) decisions.push({ kind: 'summary', checkInMs: next.checkInMs, checkOutMs: next.checkOutMs, ...summarizeDay(next.day, next.checkInMs, next.checkOutMs) });
  }
  return { record: next, decisions };
}

/** The summary for a scheduled day on which the person was never seen. */
export function absentSummary(): AttendanceDecision {
  return { kind: 'summary', checkInMs: null, checkOutMs: null, status: 'absent', worked_minutes: 0 };
}
