import type { Database, Statement } from 'better-sqlite3';
import type { SealedCellSource } from '../gallery/sealed-cells.js';
import type { TrackAssurance } from '../track/assurance.js';
import type { CellSealer } from './proof-sealer.js';
import type { Requirement } from './config.js';
import { isoWeek } from '../base/zoned-time.js';

/** At most this many face crops are kept of an arrival: the first ones of its track, enough to tell a person from a picture. */
export const ARRIVAL_CROPS = 3;

export type ArrivalStatus = 'pending' | 'confirmed' | 'rejected';
export const REJECT_REASONS = ['wrong_person', 'picture', 'other'] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** A recognised person's sighting that did not reach its camera's requirement, as kept for review. */
export interface Arrival {
  id: string;
  personId: string;
  group: string | null;
  /** The shift day it belongs to (the day record's date). */
  date: string;
  camera: string;
  track: number | null;
  /** When the person arrived (their track was first named). */
  atMs: number;
  /** What proved them there, below `required`. */
  assurance: TrackAssurance;
  required: Requirement;
  /** The liveness cues' shares when the track decided. */
  liveness: Record<string, number>;
  /** The requirement not met and the cues that did not speak for a live face. */
  missing: string[];
  /** Set when the tracker refused the track afterwards (a held picture, a screen, a frozen face). */
  refused: string | null;
  /**
   * The signed check-in event withdrawn when the track was refused after it checked the person in
   * (then `assurance` is what proved that check-in, and `refused` why it was withdrawn); null for an
   * arrival below the camera's requirement.
   */
  retracts: string | null;
  status: ArrivalStatus;
  reason: RejectReason | null;
  note: string | null;
  reviewedBy: string | null;
  reviewedMs: number | null;
  /** The day record a confirmation checked the person in on. */
  recordId: string | null;
  crops: number;
}

interface Row {
  id: string;
  person_id: string;
  group_name: string | null;
  date: string;
  camera: string;
  track: number | null;
  at_ms: number;
  assurance: TrackAssurance;
  required: Requirement;
  liveness: string;
  missing: string;
  refused: string | null;
  retracts: string | null;
  status: ArrivalStatus;
  reason: RejectReason | null;
  note: string | null;
  reviewed_by: string | null;
  reviewed_ms: number | null;
  record_id: string | null;
  crops: number;
}

export type NewArrival = Pick<Arrival, 'id' | 'personId' | 'group' | 'date' | 'camera' | 'track' | 'atMs' | 'assurance' | 'required' | 'liveness' | 'missing'> &
  Partial<Pick<Arrival, 'refused' | 'retracts'>>;

/** The place an arrival's crop is sealed for: a thumbnail of its row and person, its number in the column. */
export function arrivalCropCell(arrivalId: string, personId: string, n: number): { table: 'thumbnails'; column: string; rowId: string; personId: string } {
  return { table: 'thumbnails', column: `arrival_crop_${n}`, rowId: arrivalId, personId };
}

const SELECT = `SELECT a.*, (SELECT COUNT(*) FROM attendance_arrival_crops c WHERE c.arrival_id = a.id) AS crops FROM attendance_arrivals a`;

/**
 * The rows of attendance_arrivals and their sealed crops; transactions belong to the caller (the
 * attendance stage keeps arrivals, the review service decides them).
 */
export class ArrivalStore {
  private readonly insert: Statement;
  private readonly byId: Statement<[string], Row>;
  private readonly pendingByDay: Statement<[string, string], Row>;
  private readonly putCrop: Statement<[string, number, Buffer]>;
  private readonly getCrop: Statement<[string, number], { sealed: Buffer }>;
  private readonly dropPendingOf: Statement<[string, string]>;
  private readonly dropCropsOfPending: Statement<[string, string]>;
  private readonly markRefused: Statement<[string, string, number]>;
  private readonly review: Statement;

  constructor(
    readonly db: Database,
    private readonly sealer: CellSealer,
  ) {
    this.insert = db.prepare(`INSERT OR IGNORE INTO attendance_arrivals (id, person_id, group_name, date, camera, track, at_ms, assurance, required, liveness, missing, refused, retracts)
      VALUES (@id, @personId, @group, @date, @camera, @track, @atMs, @assurance, @required, @liveness, @missing, @refused, @retracts)`);
    this.byId = db.prepare(`${SELECT} WHERE a.id = ?`);
    this.pendingByDay = db.prepare(`${SELECT} WHERE a.person_id = ? AND a.date = ? AND a.status = 'pending'`);
    this.putCrop = db.prepare('INSERT OR IGNORE INTO attendance_arrival_crops (arrival_id, n, sealed) VALUES (?, ?, ?)');
    this.getCrop = db.prepare('SELECT sealed FROM attendance_arrival_crops WHERE arrival_id = ? AND n = ?');
    this.dropCropsOfPending = db.prepare(`DELETE FROM attendance_arrival_crops WHERE arrival_id IN (SELECT id FROM attendance_arrivals WHERE person_id = ? AND date = ? AND status = 'pending')`);
    this.dropPendingOf = db.prepare(`DELETE FROM attendance_arrivals WHERE person_id = ? AND date = ? AND status = 'pending'`);
    this.markRefused = db.prepare(`UPDATE attendance_arrivals SET refused = ? WHERE camera = ? AND track = ? AND status = 'pending' AND refused IS NULL`);
    this.review = db.prepare(`UPDATE attendance_arrivals SET status = @status, reason = @reason, note = @note, reviewed_by = @by, reviewed_ms = @atMs, record_id = @recordId
      WHERE id = @id AND status = 'pending'`);
  }

  /** The person's arrival of that shift day that waits for review; at most one does (reviewed ones may be beside it). */
  pendingOfDay(personId: string, date: string): Arrival | undefined {
    const row = this.pendingByDay.get(personId, date);
    return row && fromRow(row);
  }

  get(id: string): Arrival | undefined {
    const row = this.byId.get(id);
    return row && fromRow(row);
  }

  /** Keeps a new arrival; false when one of the person's that day waits for review already (the first is the arrival). */
  keep(a: NewArrival): boolean {
    return this.insert.run({ ...a, liveness: JSON.stringify(a.liveness), missing: JSON.stringify(a.missing), refused: a.refused ?? null, retracts: a.retracts ?? null }).changes > 0;
  }

  /** Seals and keeps a face crop as the arrival's next one, up to ARRIVAL_CROPS; false when it has them all. */
  addCrop(a: Pick<Arrival, 'id' | 'personId' | 'crops'>, jpeg: Uint8Array): boolean {
    const n = a.crops + 1;
    if (n > ARRIVAL_CROPS) return false;
    return this.putCrop.run(a.id, n, Buffer.from(this.sealer.seal(arrivalCropCell(a.id, a.personId, n), jpeg))).changes > 0;
  }

  /** An arrival's crop number n, opened; undefined where it has none. Throws where the sealed bytes do not authenticate. */
  crop(a: Pick<Arrival, 'id' | 'personId'>, n: number): Buffer | undefined {
    const row = Number.isSafeInteger(n) && n >= 1 && n <= ARRIVAL_CROPS ? this.getCrop.get(a.id, n) : undefined;
    return row && Buffer.from(this.sealer.open(arrivalCropCell(a.id, a.personId, n), row.sealed));
  }

  /** The person checked in that day on their own: a pending arrival has nothing left to review. */
  dropPending(personId: string, date: string): number {
    this.dropCropsOfPending.run(personId, date);
    return this.dropPendingOf.run(personId, date).changes;
  }

  /** The tracker refused the track afterwards: its pending arrival says so, for the reviewer. */
  refuse(camera: string, track: number, reason: string): number {
    return this.markRefused.run(reason, camera, track).changes;
  }

  /** Decides a pending arrival; false when it is not pending (any more). */
  decide(d: { id: string; status: 'confirmed' | 'rejected'; reason: RejectReason | null; note: string | null; by: string; atMs: number; recordId: string | null }): boolean {
    return this.review.run({ id: d.id, status: d.status, reason: d.reason, note: d.note, by: d.by, atMs: d.atMs, recordId: d.recordId }).changes > 0;
  }

  /** Newest first, `limit` of them, optionally of one status and before an arrival time (paging). */
  list(f: { status?: ArrivalStatus; beforeMs?: number; limit: number }): Arrival[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (f.status) {
      where.push('a.status = ?');
      args.push(f.status);
    }
    if (f.beforeMs !== undefined) {
      where.push('a.at_ms < ?');
      args.push(f.beforeMs);
    }
    const sql = `${SELECT}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY a.at_ms DESC, a.id DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, f.limit) as Row[]).map(fromRow);
  }

  /**
   * Reviews per camera and week (the ISO week of the review on the site's wall clock) since
   * `sinceMs`, by outcome: the site's own measure of how its cameras and threshold serve it.
   */
  outcomes(sinceMs: number, timeZone: string): { camera: string; week: string; status: 'confirmed' | 'rejected'; reason: RejectReason | null; count: number }[] {
    const rows = this.db
      .prepare(`SELECT camera, reviewed_ms, status, reason FROM attendance_arrivals WHERE status != 'pending' AND reviewed_ms >= ?`)
      .all(sinceMs) as { camera: string; reviewed_ms: number; status: 'confirmed' | 'rejected'; reason: RejectReason | null }[];
    const counts = new Map<string, { camera: string; week: string; status: 'confirmed' | 'rejected'; reason: RejectReason | null; count: number }>();
    for (const r of rows) {
      const week = isoWeek(r.reviewed_ms, timeZone);
      const key = `${r.camera}\u0000${week}\u0000${r.status}\u0000${r.reason ?? ''}`;
      const c = counts.get(key) ?? { camera: r.camera, week, status: r.status, reason: r.reason, count: 0 };
      c.count++;
      counts.set(key, c);
    }
    return [...counts.values()].sort((a, b) => b.week.localeCompare(a.week) || a.camera.localeCompare(b.camera));
  }
}

function fromRow(r: Row): Arrival {
  return {
    id: r.id,
    personId: r.person_id,
    group: r.group_name,
    date: r.date,
    camera: r.camera,
    track: r.track,
    atMs: r.at_ms,
    assurance: r.assurance,
    required: r.required,
    liveness: JSON.parse(r.liveness) as Record<string, number>,
    missing: JSON.parse(r.missing) as string[],
    refused: r.refused,
    retracts: r.retracts,
    status: r.status,
    reason: r.reason,
    note: r.note,
    reviewedBy: r.reviewed_by,
    reviewedMs: r.reviewed_ms,
    recordId: r.record_id,
    crops: r.crops,
  };
}

/** Retention, as the timeline's: arrivals (and their crops) that arrived before `beforeMs`, in the caller's transaction. */
export function purgeArrivalsBefore(db: Database, beforeMs: number): number {
  db.prepare('DELETE FROM attendance_arrival_crops WHERE arrival_id IN (SELECT id FROM attendance_arrivals WHERE at_ms < ?)').run(beforeMs);
  return db.prepare('DELETE FROM attendance_arrivals WHERE at_ms < ?').run(beforeMs).changes;
}

/** Erasure: every arrival of a person and its crops, in the caller's transaction. */
export function eraseArrivalsOf(db: Database, personId: string): number {
  db.prepare('DELETE FROM attendance_arrival_crops WHERE arrival_id IN (SELECT id FROM attendance_arrivals WHERE person_id = ?)').run(personId);
  return db.prepare('DELETE FROM attendance_arrivals WHERE person_id = ?').run(personId).changes;
}

/** The sealed crops of arrivals, for gallery verify and key re-encryption. */
export const ARRIVAL_CROP_CELLS: SealedCellSource = {
  *cells(db) {
    const rows = db
      .prepare('SELECT c.arrival_id, c.n, c.sealed, a.person_id FROM attendance_arrival_crops c JOIN attendance_arrivals a ON a.id = c.arrival_id ORDER BY c.arrival_id, c.n')
      .iterate() as Iterable<{ arrival_id: string; n: number; sealed: Buffer; person_id: string }>;
    for (const row of rows) yield { ref: arrivalCropCell(row.arrival_id, row.person_id, row.n), value: row.sealed };
  },
  reseal(db, ref, plain, to) {
    const n = Number(ref.column.replace(/^arrival_crop_/, ''));
    db.prepare('UPDATE attendance_arrival_crops SET sealed = ? WHERE arrival_id = ? AND n = ?').run(Buffer.from(to.seal(ref, plain)), ref.rowId, n);
  },
};
