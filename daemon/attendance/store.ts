import type { Database, Statement } from 'better-sqlite3';
import type { DayRecord, LivenessShares } from './engine.js';
import type { ShiftDay } from './shift.js';
import type { Assurance } from '../../contract/assurance.js';

/** A row of attendance_days as SQLite gives it. */
export interface DayRow {
  person_id: string;
  date: string;
  record_id: string;
  group_name: string | null;
  day_json: string;
  check_in_ms: number | null;
  check_in_camera: string | null;
  /** The door of the check-in's camera; null for a camera in no door, and in rows from before doors. */
  check_in_door: string | null;
  /** As the column's CHECK holds it: one of contract/assurance.ts. */
  check_in_assurance: Assurance | null;
  /** The cues' shares behind it (LivenessShares as JSON); null where none were kept. */
  check_in_liveness: string | null;
  check_out_ms: number | null;
  check_out_camera: string | null;
  check_out_door: string | null;
  check_out_assurance: Assurance | null;
  check_out_liveness: string | null;
  last_seen_ms: number;
  last_seen_camera: string;
  last_seen_door: string | null;
  last_seen_assurance: Assurance;
  last_seen_liveness: string | null;
  check_out_settled: number;
  summarized: number;
}

export interface StoredDay {
  record: DayRecord;
  group: string | null;
}

/** Row mapping for attendance_days and friends; transactions belong to the caller. */
/** A decision withdrawn (see AttendanceStore.retract). */
export interface Retraction {
  recordId: string;
  personId: string;
  kind: 'check_in' | 'check_out';
  /** When the decision says the person came or left (the record's check_in_ms or check_out_ms). */
  atMs: number;
  camera: string;
  /** The camera's track whose refusal withdrew it. */
  track: number;
  /** The admitted sighting's time in the cooldown (the arrival, for a check-in). */
  sightingMs: number;
  reason: string;
  /** The signed event that says it. */
  eventId: string;
  retractedMs: number;
}

/** A check-in or check-out its track proved better after it was made (see AttendanceStore.upgrade). */
export interface Upgrade {
  recordId: string;
  kind: 'check_in' | 'check_out';
  /** When the decision says the person came or left (the record's check_in_ms or check_out_ms). */
  atMs: number;
  camera: string;
  track: number;
  from: Assurance;
  to: Assurance;
  /** The signed event of the decision raised. */
  upgrades: string;
  /** The signed `attendance/upgraded` event that says it. */
  eventId: string;
  upgradedMs: number;
}

export class AttendanceStore {
  private readonly getDay: Statement<[string, string], DayRow>;
  private readonly upsertDay: Statement;
  private readonly dueDays: Statement<[number, number], DayRow>;
  private readonly putProof: Statement;
  private readonly getProof: Statement<[string, string], { sealed: Buffer }>;
  private readonly hasAbsence: Statement<[string, string], { one: number }>;
  private readonly putAbsence: Statement<[string, string]>;
  private readonly getMeta: Statement<[string], { value: string }>;
  private readonly putMeta: Statement<[string, string]>;
  private readonly putSighting: Statement<[string, string, number]>;
  private readonly sightingsAfter: Statement<[number], { person_id: string; camera: string; at_ms: number }>;
  private readonly dropSightings: Statement<[number]>;
  private readonly forgetSighting: Statement<[string, string, number]>;
  private readonly clearCheckIn: Statement<[string, number]>;
  private readonly clearCheckOut: Statement<[string, number]>;
  private readonly putRetraction: Statement<[string, string, number, string, number, string, string, number]>;
  private readonly raiseCheckIn: Statement<[string, string | null, string, number, string]>;
  private readonly raiseCheckOut: Statement<[string, string | null, string, number, string]>;
  private readonly raiseLastSeen: Statement<[string, string | null, string, number, string, string]>;
  private readonly putUpgrade: Statement;

  constructor(readonly db: Database) {
    this.getDay = db.prepare('SELECT * FROM attendance_days WHERE person_id = ? AND date = ?');
    this.upsertDay = db.prepare(`
      INSERT INTO attendance_days (person_id, date, record_id, group_name, day_json, check_in_ms, check_in_camera, check_in_door, check_in_assurance, check_in_liveness, check_out_ms, check_out_camera,
                                   check_out_door, check_out_assurance, check_out_liveness, last_seen_ms, last_seen_camera, last_seen_door, last_seen_assurance, last_seen_liveness, check_out_settled, summarized, closes_ms)
      VALUES (@personId, @date, @recordId, @group, @dayJson, @checkInMs, @checkInCamera, @checkInDoor, @checkInAssurance, @checkInLiveness, @checkOutMs, @checkOutCamera,
              @checkOutDoor, @checkOutAssurance, @checkOutLiveness, @lastSeenMs, @lastSeenCamera, @lastSeenDoor, @lastSeenAssurance, @lastSeenLiveness, @checkOutSettled, @summarized, @closesMs)
      ON CONFLICT (person_id, date) DO UPDATE SET
        check_in_ms = excluded.check_in_ms, check_in_camera = excluded.check_in_camera, check_in_door = excluded.check_in_door, check_in_assurance = excluded.check_in_assurance, check_in_liveness = excluded.check_in_liveness,
        check_out_ms = excluded.check_out_ms, check_out_camera = excluded.check_out_camera, check_out_door = excluded.check_out_door, check_out_assurance = excluded.check_out_assurance, check_out_liveness = excluded.check_out_liveness,
        last_seen_ms = excluded.last_seen_ms, last_seen_camera = excluded.last_seen_camera, last_seen_door = excluded.last_seen_door, last_seen_assurance = excluded.last_seen_assurance, last_seen_liveness = excluded.last_seen_liveness,
        check_out_settled = excluded.check_out_settled, summarized = excluded.summarized`);
    this.dueDays = db.prepare('SELECT * FROM attendance_days WHERE closes_ms <= ? AND (summarized = 0 OR check_out_settled = 0) ORDER BY closes_ms LIMIT ?');
    this.putProof = db.prepare('INSERT OR REPLACE INTO attendance_proofs (record_id, kind, at_ms, sealed) VALUES (?, ?, ?, ?)');
    this.getProof = db.prepare('SELECT sealed FROM attendance_proofs WHERE record_id = ? AND kind = ?');
    this.hasAbsence = db.prepare('SELECT 1 AS one FROM attendance_absences WHERE person_id = ? AND date = ?');
    this.putAbsence = db.prepare('INSERT OR IGNORE INTO attendance_absences (person_id, date) VALUES (?, ?)');
    this.getMeta = db.prepare('SELECT value FROM attendance_meta WHERE key = ?');
    this.putMeta = db.prepare('INSERT OR REPLACE INTO attendance_meta (key, value) VALUES (?, ?)');
    this.putSighting = db.prepare('INSERT OR REPLACE INTO attendance_cooldown (person_id, camera, at_ms) VALUES (?, ?, ?)');
    this.sightingsAfter = db.prepare('SELECT person_id, camera, at_ms FROM attendance_cooldown WHERE at_ms > ? ORDER BY at_ms');
    this.dropSightings = db.prepare('DELETE FROM attendance_cooldown WHERE at_ms <= ?');
    this.forgetSighting = db.prepare('DELETE FROM attendance_cooldown WHERE person_id = ? AND camera = ? AND at_ms = ?');
    this.clearCheckIn = db.prepare('UPDATE attendance_days SET check_in_ms = NULL, check_in_camera = NULL, check_in_door = NULL, check_in_assurance = NULL, check_in_liveness = NULL WHERE record_id = ? AND check_in_ms = ?');
    this.clearCheckOut = db.prepare('UPDATE attendance_days SET check_out_ms = NULL, check_out_camera = NULL, check_out_door = NULL, check_out_assurance = NULL, check_out_liveness = NULL, check_out_settled = 1 WHERE record_id = ? AND check_out_ms = ?');
    this.putRetraction = db.prepare('INSERT OR IGNORE INTO attendance_retractions (record_id, kind, at_ms, camera, track, reason, event_id, retracted_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    this.raiseCheckIn = db.prepare('UPDATE attendance_days SET check_in_assurance = ?, check_in_liveness = ? WHERE record_id = ? AND check_in_ms = ? AND check_in_assurance = ?');
    this.raiseCheckOut = db.prepare('UPDATE attendance_days SET check_out_assurance = ?, check_out_liveness = ? WHERE record_id = ? AND check_out_ms = ? AND check_out_assurance = ?');
    this.raiseLastSeen = db.prepare('UPDATE attendance_days SET last_seen_assurance = ?, last_seen_liveness = ? WHERE record_id = ? AND last_seen_ms = ? AND last_seen_camera = ? AND last_seen_assurance = ?');
    this.putUpgrade = db.prepare(`INSERT OR IGNORE INTO attendance_upgrades (record_id, kind, at_ms, camera, track, from_assurance, to_assurance, upgrades, event_id, upgraded_ms)
                                  VALUES (@recordId, @kind, @atMs, @camera, @track, @from, @to, @upgrades, @eventId, @upgradedMs)`);
  }

  day(personId: string, date: string): StoredDay | undefined {
    const row = this.getDay.get(personId, date);
    return row && fromRow(row);
  }

  save(record: DayRecord, group: string | null): void {
    this.upsertDay.run({
      personId: record.personId,
      date: record.date,
      recordId: record.recordId,
      group,
      dayJson: JSON.stringify(record.day),
      checkInMs: record.checkInMs,
      checkInCamera: record.checkInCamera,
      checkInDoor: record.checkInDoor,
      checkInAssurance: record.checkInAssurance,
      checkInLiveness: sharesJson(record.checkInLiveness),
      checkOutMs: record.checkOutMs,
      checkOutCamera: record.checkOutCamera,
      checkOutDoor: record.checkOutDoor,
      checkOutAssurance: record.checkOutAssurance,
      checkOutLiveness: sharesJson(record.checkOutLiveness),
      lastSeenMs: record.lastSeenMs,
      lastSeenCamera: record.lastSeenCamera,
      lastSeenDoor: record.lastSeenDoor,
      lastSeenAssurance: record.lastSeenAssurance,
      lastSeenLiveness: sharesJson(record.lastSeenLiveness),
      checkOutSettled: record.checkOutSettled ? 1 : 0,
      summarized: record.summarized ? 1 : 0,
      closesMs: record.day.closesMs,
    });
  }

  /** Records whose window has closed and that still owe a check-out or a summary. */
  due(nowMs: number, limit = 500): StoredDay[] {
    return this.dueDays.all(nowMs, limit).map(fromRow);
  }

  /**
   * Withdraws a check-in or check-out from its day record, if the record still holds it (a later
   * sighting may have replaced a check-out), and keeps the withdrawal. The admitted sighting goes
   * from the cooldown, so that the person, really there, is admitted again at once. False when the
   * record no longer holds the decision: nothing changed.
   */
  retract(r: Retraction): boolean {
    const cleared = (r.kind === 'check_in' ? this.clearCheckIn : this.clearCheckOut).run(r.recordId, r.atMs).changes > 0;
    if (!cleared) return false;
    this.putRetraction.run(r.recordId, r.kind, r.atMs, r.camera, r.track, r.reason, r.eventId, r.retractedMs);
    this.forgetSighting.run(r.personId, r.camera, r.sightingMs);
    return true;
  }

  /**
   * Raises the assurance of a check-in or check-out, if the record still holds it as it was made
   * (proven by `from`), and keeps the change beside the decision, with the id of the event that
   * `announce` writes to say it (called only when the record rose, in the caller's transaction).
   * The record's last sighting, where it is the same sighting, rises with it, since a `both`
   * camera's check-out is made of it. Both take `liveness`, the cues' shares that proved it better,
   * so that a record's assurance and its shares say the same. False when the record no longer
   * holds the decision so proven: nothing changed.
   */
  upgrade(u: Omit<Upgrade, 'eventId'>, liveness: LivenessShares | null, announce: () => string): boolean {
    const shares = sharesJson(liveness);
    const raised = (u.kind === 'check_in' ? this.raiseCheckIn : this.raiseCheckOut).run(u.to, shares, u.recordId, u.atMs, u.from).changes > 0;
    if (!raised) return false;
    this.raiseLastSeen.run(u.to, shares, u.recordId, u.atMs, u.camera, u.from);
    this.putUpgrade.run({ ...u, eventId: announce() });
    return true;
  }

  saveProof(recordId: string, kind: 'check_in' | 'check_out', atMs: number, sealed: Uint8Array): void {
    this.putProof.run(recordId, kind, atMs, Buffer.from(sealed));
  }

  proof(recordId: string, kind: 'check_in' | 'check_out'): Uint8Array | undefined {
    return this.getProof.get(recordId, kind)?.sealed;
  }

  absenceSummarized(personId: string, date: string): boolean {
    return this.hasAbsence.get(personId, date) !== undefined;
  }

  markAbsenceSummarized(personId: string, date: string): void {
    this.putAbsence.run(personId, date);
  }

  meta(key: string): string | undefined {
    return this.getMeta.get(key)?.value;
  }

  setMeta(key: string, value: string): void {
    this.putMeta.run(key, value);
  }

  /** The cooldown's memory: the last sighting admitted for this person at this camera. */
  saveSighting(personId: string, camera: string, atMs: number): void {
    this.putSighting.run(personId, camera, atMs);
  }

  /** Sightings admitted after `afterMs`, oldest first: those whose cooldown may still run. */
  sightingsSince(afterMs: number): { personId: string; camera: string; atMs: number }[] {
    return this.sightingsAfter.all(afterMs).map((r) => ({ personId: r.person_id, camera: r.camera, atMs: r.at_ms }));
  }

  /** Sightings whose cooldown is over are of no more use. */
  pruneSightings(upToMs: number): number {
    return this.dropSightings.run(upToMs).changes;
  }
}

const sharesJson = (shares: LivenessShares | null): string | null => (shares === null ? null : JSON.stringify(shares));

/** The shares a column keeps, as this daemon wrote them (JSON of numbers). */
export function sharesFrom(json: string | null): LivenessShares | null {
  return json === null ? null : (JSON.parse(json) as LivenessShares);
}

function fromRow(r: DayRow): StoredDay {
  return {
    group: r.group_name,
    record: {
      recordId: r.record_id,
      personId: r.person_id,
      date: r.date,
      day: JSON.parse(r.day_json) as ShiftDay,
      checkInMs: r.check_in_ms,
      checkInCamera: r.check_in_camera,
      checkInDoor: r.check_in_door,
      checkInAssurance: r.check_in_assurance,
      checkInLiveness: sharesFrom(r.check_in_liveness),
      checkOutMs: r.check_out_ms,
      checkOutCamera: r.check_out_camera,
      checkOutDoor: r.check_out_door,
      checkOutAssurance: r.check_out_assurance,
      checkOutLiveness: sharesFrom(r.check_out_liveness),
      lastSeenMs: r.last_seen_ms,
      lastSeenCamera: r.last_seen_camera,
      lastSeenDoor: r.last_seen_door,
      lastSeenAssurance: r.last_seen_assurance,
      lastSeenLiveness: sharesFrom(r.last_seen_liveness),
      checkOutSettled: r.check_out_settled === 1,
      summarized: r.summarized === 1,
    },
  };
}

/**
 * Retention: day records whose last sighting is before `beforeMs`, with their sealed proof images
 * (and proofs older than that whose day is already gone), and absence marks of earlier dates, in one
 * transaction.
 */
export function purgeAttendanceBefore(db: Database, beforeMs: number): { attendanceDays: number; proofs: number } {
  return db
    .transaction(() => {
      const proofs = db.prepare('DELETE FROM attendance_proofs WHERE record_id IN (SELECT record_id FROM attendance_days WHERE last_seen_ms < ?)').run(beforeMs).changes;
      // What was withdrawn from or raised on a day goes with it, and whatever outlived its day.
      for (const table of ['attendance_retractions', 'attendance_upgrades']) {
        db.prepare(`DELETE FROM ${table} WHERE at_ms < ? OR record_id IN (SELECT record_id FROM attendance_days WHERE last_seen_ms < ?)`).run(beforeMs, beforeMs);
      }
      const orphanProofs = db.prepare('DELETE FROM attendance_proofs WHERE at_ms < ?').run(beforeMs).changes;
      const attendanceDays = db.prepare('DELETE FROM attendance_days WHERE last_seen_ms < ?').run(beforeMs).changes;
      db.prepare('DELETE FROM attendance_absences WHERE date < ?').run(new Date(beforeMs).toISOString().slice(0, 10));
      db.prepare('DELETE FROM attendance_cooldown WHERE at_ms < ?').run(beforeMs);
      return { attendanceDays, proofs: proofs + orphanProofs };
    })
    .immediate();
}

/** Erasure: every day record of a person, their sealed proof images and absence marks, in the caller's transaction. */
export function eraseAttendanceOf(db: Database, personId: string): { attendanceDays: number; proofs: number } {
  const proofs = db.prepare('DELETE FROM attendance_proofs WHERE record_id IN (SELECT record_id FROM attendance_days WHERE person_id = ?)').run(personId).changes;
  for (const table of ['attendance_retractions', 'attendance_upgrades']) db.prepare(`DELETE FROM ${table} WHERE record_id IN (SELECT record_id FROM attendance_days WHERE person_id = ?)`).run(personId);
  const attendanceDays = db.prepare('DELETE FROM attendance_days WHERE person_id = ?').run(personId).changes;
  db.prepare('DELETE FROM attendance_absences WHERE person_id = ?').run(personId);
  db.prepare('DELETE FROM attendance_cooldown WHERE person_id = ?').run(personId);
  return { attendanceDays, proofs };
}
