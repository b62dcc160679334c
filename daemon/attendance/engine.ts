import type { CameraRole } from './config.js';
import { classifyCheckIn, classifyCheckOut, summarizeDay, type CheckInVerdict, type CheckOutVerdict, type DaySummary } from './rules.js';
import type { ShiftDay } from './shift.js';
import type { Assurance } from '../../contract/assurance.js';

/**
 * Each liveness cue's share of the fused score (log-odds: score, blink, structure, passive, surround,
 * screen, stereo, challenge) when the track behind a record decided: by how much, and through which
 * cues, its assurance was reached. Null where there is none to say: a check-in a person confirmed of
 * a track that never decided, and records from before shares were kept.
 */
export type LivenessShares = Readonly<Record<string, number>>;

/** A recognition that met its camera's requirement and passed the cooldown. */
export interface Sighting {
  personId: string;
  group?: string;
  camera: string;
  /** The door (doors:) the camera belongs to, or null for a camera in no door: the records name it. */
  door: string | null;
  role: CameraRole;
  atMs: number;
  /** What proved the person there: the check-in or check-out it makes carries it. */
  assurance: Assurance;
  /** The cues' shares behind that assurance, which the check-in or check-out carries with it. */
  liveness: LivenessShares | null;
}

/** One person's attendance for one day key, as stored; the engine only ever returns new copies. */
export interface DayRecord {
  recordId: string;
  personId: string;
  date: string;
  day: ShiftDay;
  checkInMs: number | null;
  checkInCamera: string | null;
  /** The check-in camera's door; null without a check-in, or for a camera in no door (and in records from before doors). */
  checkInDoor: string | null;
  /** What proved the check-in; null while there is none. */
  checkInAssurance: Assurance | null;
  checkInLiveness: LivenessShares | null;
  checkOutMs: number | null;
  checkOutCamera: string | null;
  checkOutDoor: string | null;
  checkOutAssurance: Assurance | null;
  checkOutLiveness: LivenessShares | null;
  lastSeenMs: number;
  lastSeenCamera: string;
  lastSeenDoor: string | null;
  /** What proved the last sighting, which a `both` camera's check-out is made of. */
  lastSeenAssurance: Assurance;
  lastSeenLiveness: LivenessShares | null;
  /** False while the last sighting after check-in is a check-out candidate not yet published. */
  checkOutSettled: boolean;
  summarized: boolean;
}

export type AttendanceDecision =
  | ({ kind: 'check_in'; atMs: number; camera: string; door: string | null; assurance: Assurance; liveness: LivenessShares | null } & CheckInVerdict)
  | ({ kind: 'check_out'; atMs: number; camera: string; door: string | null; assurance: Assurance; liveness: LivenessShares | null; source: 'exit' | 'last_seen' } & CheckOutVerdict)
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
        checkInDoor: null,
        checkInAssurance: null,
        checkInLiveness: null,
        checkOutMs: null,
        checkOutCamera: null,
        checkOutDoor: null,
        checkOutAssurance: null,
        checkOutLiveness: null,
        lastSeenMs: s.atMs,
        lastSeenCamera: s.camera,
        lastSeenDoor: s.door,
        lastSeenAssurance: s.assurance,
        lastSeenLiveness: s.liveness,
        checkOutSettled: true,
        summarized: false,
      };
  if (s.atMs >= r.lastSeenMs) {
    r.lastSeenMs = s.atMs;
    r.lastSeenCamera = s.camera;
    r.lastSeenDoor = s.door;
    r.lastSeenAssurance = s.assurance;
    r.lastSeenLiveness = s.liveness;
  }
  const decisions: AttendanceDecision[] = [];
  if (s.role === 'exit') {
    if (r.checkOutMs === null || s.atMs > r.checkOutMs) {
      r.checkOutMs = s.atMs;
      r.checkOutCamera = s.camera;
      r.checkOutDoor = s.door;
      r.checkOutAssurance = s.assurance;
      r.checkOutLiveness = s.liveness;
      r.checkOutSettled = true;
      decisions.push({ kind: 'check_out', atMs: s.atMs, camera: s.camera, door: s.door, assurance: s.assurance, liveness: s.liveness, source: 'exit', ...classifyCheckOut(day, s.atMs) });
    }
  } else if (r.checkInMs === null) {
    r.checkInMs = s.atMs;
    r.checkInCamera = s.camera;
    r.checkInDoor = s.door;
    r.checkInAssurance = s.assurance;
    r.checkInLiveness = s.liveness;
    decisions.push({ kind: 'check_in', atMs: s.atMs, camera: s.camera, door: s.door, assurance: s.assurance, liveness: s.liveness, ...classifyCheckIn(day, s.atMs) });
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
    next.checkOutDoor = next.lastSeenDoor;
    next.checkOutAssurance = next.lastSeenAssurance;
    next.checkOutLiveness = next.lastSeenLiveness;
    next.checkOutSettled = true;
    decisions.push({ kind: 'check_out', atMs: next.lastSeenMs, camera: next.lastSeenCamera, door: next.lastSeenDoor, assurance: next.lastSeenAssurance, liveness: next.lastSeenLiveness, source: 'last_seen', ...classifyCheckOut(next.day, next.lastSeenMs) });
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
