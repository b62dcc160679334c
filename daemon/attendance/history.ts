import type { Database } from 'better-sqlite3';
import { sharesFrom, type DayRow } from './store.js';
import type { LivenessShares } from './engine.js';
import type { ShiftDay } from './shift.js';
import { formatLocalIso } from '../base/zoned-time.js';
import { dayMinutes } from './payload.js';
import type { Assurance } from '../../contract/assurance.js';

export interface HistoryFilter {
  /** Inclusive ISO dates (YYYY-MM-DD). */
  from: string;
  to: string;
  personIds?: readonly string[];
  camera?: string;
  group?: string;
  limit: number;
  /** The site's IANA zone: every time in the answer is written in it, with its offset. */
  timeZone: string;
}

export interface HistoryDay {
  record_id: string;
  person_id: string;
  date: string;
  group: string | null;
  status: 'checked_out' | 'checked_in' | 'seen';
  check_in: string | null;
  check_in_camera: string | null;
  /** The door of the check-in's camera (doors:); null for a camera in no door. */
  check_in_door: string | null;
  /** What proved the check-in (contract/assurance.ts); null where there is none. */
  check_in_assurance: Assurance | null;
  /** The fused liveness and each cue's share of it behind the check-in; null where none was kept. */
  check_in_liveness: LivenessShares | null;
  check_out: string | null;
  check_out_camera: string | null;
  check_out_door: string | null;
  check_out_assurance: Assurance | null;
  check_out_liveness: LivenessShares | null;
  last_seen: string;
  last_seen_camera: string;
  /** Against the day's shift, as the end-of-day summary counts them; 0 on an unscheduled day. */
  late_minutes: number;
  early_minutes: number;
  overtime_minutes: number;
  proofs: ('check_in' | 'check_out')[];
  /**
   * The day's check-ins and check-outs withdrawn because their track was refused afterwards, oldest
   * first: the record no longer holds them (nor do the CSV and the events' receivers), but a
   * reader of the day still sees that they were made, and why they do not stand.
   */
  withdrawn: Withdrawn[];
}

/** A check-in or check-out withdrawn, as the history and the timeline say it. */
export interface Withdrawn {
  kind: 'check_in' | 'check_out';
  /** When the decision said the person came or left. */
  at: string;
  camera: string;
  /** The refusal's reason (contract/alerts.ts, SpoofAlertReason). */
  reason: string;
  /** When it was withdrawn. */
  withdrawn_at: string;
}

/** The day's columns a history shows, and the kinds of proof it has (comma-separated). */
type Row = Omit<DayRow, 'check_out_settled' | 'summarized' | 'last_seen_assurance' | 'last_seen_door' | 'last_seen_liveness'> & { proofs: string | null; withdrawn: string | null };

/** A row of attendance_retractions as the history reads it. */
interface WithdrawnRow {
  kind: 'check_in' | 'check_out';
  at_ms: number;
  camera: string;
  reason: string;
  retracted_ms: number;
}

const withdrawnOf = (r: WithdrawnRow, timeZone: string): Withdrawn => ({ kind: r.kind, at: formatLocalIso(r.at_ms, timeZone), camera: r.camera, reason: r.reason, withdrawn_at: formatLocalIso(r.retracted_ms, timeZone) });

/**
 * Attendance days for a history (the web console's), newest first, filtered in SQL with bound parameters,
 * times in the site's zone as MQTT writes them.
 * Says which proof images a day has, never the images: those are opened one by one on demand.
 */
export function readHistory(db: Database, f: HistoryFilter): HistoryDay[] {
  const where = ['d.date BETWEEN ? AND ?'];
  const args: (string | number)[] = [f.from, f.to];
  if (f.personIds) {
    if (f.personIds.length === 0) return [];
    where.push(`d.person_id IN (${f.personIds.map(() => '?').join(',')})`);
    args.push(...f.personIds);
  }
  if (f.group !== undefined) {
    where.push('d.group_name = ?');
    args.push(f.group);
  }
  if (f.camera !== undefined) {
    where.push('(d.check_in_camera = ? OR d.check_out_camera = ? OR d.last_seen_camera = ?)');
    args.push(f.camera, f.camera, f.camera);
  }
  const iso = (ms: number | null) => (ms === null ? null : formatLocalIso(ms, f.timeZone));
  const rows = db
    .prepare(
      `SELECT d.record_id, d.person_id, d.date, d.group_name, d.day_json, d.check_in_ms, d.check_in_camera, d.check_in_door, d.check_in_assurance, d.check_in_liveness,
              d.check_out_ms, d.check_out_camera, d.check_out_door, d.check_out_assurance, d.check_out_liveness,
              d.last_seen_ms, d.last_seen_camera,
              (SELECT group_concat(p.kind) FROM attendance_proofs p WHERE p.record_id = d.record_id) AS proofs,
              (SELECT json_group_array(json_object('kind', w.kind, 'at_ms', w.at_ms, 'camera', w.camera, 'reason', w.reason, 'retracted_ms', w.retracted_ms))
                 FROM attendance_retractions w WHERE w.record_id = d.record_id) AS withdrawn
         FROM attendance_days d WHERE ${where.join(' AND ')}
        ORDER BY d.date DESC, d.last_seen_ms DESC LIMIT ?`,
    )
    .all(...args, f.limit) as Row[];
  return rows.map((r) => ({
    record_id: r.record_id,
    person_id: r.person_id,
    date: r.date,
    group: r.group_name,
    status: r.check_out_ms !== null ? 'checked_out' : r.check_in_ms !== null ? 'checked_in' : 'seen',
    check_in: iso(r.check_in_ms),
    check_in_camera: r.check_in_camera,
    check_in_door: r.check_in_door,
    check_in_assurance: r.check_in_assurance,
    check_in_liveness: sharesFrom(r.check_in_liveness),
    check_out: iso(r.check_out_ms),
    check_out_camera: r.check_out_camera,
    check_out_door: r.check_out_door,
    check_out_assurance: r.check_out_assurance,
    check_out_liveness: sharesFrom(r.check_out_liveness),
    last_seen: iso(r.last_seen_ms)!,
    last_seen_camera: r.last_seen_camera,
    ...dayMinutes(JSON.parse(r.day_json) as ShiftDay, r.check_in_ms, r.check_out_ms),
    proofs: (r.proofs?.split(',') ?? []).filter((k): k is 'check_in' | 'check_out' => k === 'check_in' || k === 'check_out').sort(),
    withdrawn: (JSON.parse(r.withdrawn ?? '[]') as WithdrawnRow[]).sort((a, b) => a.at_ms - b.at_ms || a.retracted_ms - b.retracted_ms).map((w) => withdrawnOf(w, f.timeZone)),
  }));
}

/** A recognition of the timeline, as far as telling whether its track's check-in was withdrawn needs. */
export interface TimelineRecognition {
  id: number;
  camera: string;
  personId: string;
  track: number;
  atMs: number;
}

/**
 * Which of these recognitions belong to a track whose check-in or check-out was withdrawn: the
 * same camera, track and person, seen between the decision's arrival and its withdrawal (track ids
 * start again when the daemon does, so the time tells a track from an earlier one of the same
 * number). By the entry's id; one read, bounded by the entries' own times.
 */
export function withdrawnTracks(db: Database, entries: readonly TimelineRecognition[], timeZone: string): Map<number, Withdrawn> {
  const found = new Map<number, Withdrawn>();
  if (entries.length === 0) return found;
  const fromMs = Math.min(...entries.map((e) => e.atMs));
  const toMs = Math.max(...entries.map((e) => e.atMs));
  const rows = db
    .prepare(
      `SELECT w.kind, w.at_ms, w.camera, w.track, w.reason, w.retracted_ms, d.person_id
         FROM attendance_retractions w JOIN attendance_days d ON d.record_id = w.record_id
        WHERE w.track IS NOT NULL AND w.at_ms <= ? AND w.retracted_ms >= ?`,
    )
    .all(toMs, fromMs) as (WithdrawnRow & { track: number; person_id: string })[];
  for (const e of entries) {
    const w = rows.find((r) => r.camera === e.camera && r.track === e.track && r.person_id === e.personId && r.at_ms <= e.atMs && e.atMs <= r.retracted_ms);
    if (w) found.set(e.id, withdrawnOf(w, timeZone));
  }
  return found;
}

/** A day's sealed proof image as stored, with the person it is bound to. */
export function sealedProof(db: Database, recordId: string, kind: 'check_in' | 'check_out'): { personId: string; sealed: Uint8Array } | undefined {
  return db
    .prepare('SELECT d.person_id AS personId, p.sealed AS sealed FROM attendance_proofs p JOIN attendance_days d ON d.record_id = p.record_id WHERE p.record_id = ? AND p.kind = ?')
    .get(recordId, kind) as { personId: string; sealed: Uint8Array } | undefined;
}
