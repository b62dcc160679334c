import type { Database } from 'better-sqlite3';
import { FacegateError } from '../base/errors.js';
import { formatLocalIso, isoWeek } from '../base/zoned-time.js';
import { REJECT_REASONS, type Arrival, type ArrivalStatus, type ArrivalStore, type RejectReason } from '../attendance/arrivals.js';
import type { AttendanceDecision } from '../attendance/engine.js';
import type { AttendanceStage, RefusedByReview, StandingRejection } from '../attendance/stage.js';
import { auditingFailure, type Actor, type AuditLog } from './audit.js';

/**
 * What a person's judgement says of a camera: the label of `facegate_review_outcomes_total` and of
 * the System page's counts. A review's (`confirmed`, or a rejection's reason), or teaching from a
 * timeline decision (teaching.ts, `measureOf`): `taught` an unknown who was enrolled, `corrected` a
 * recognition of someone else.
 */
export type ReviewOutcome = 'confirmed' | RejectReason | 'taught' | 'corrected';
export const REVIEW_OUTCOMES: readonly ReviewOutcome[] = ['confirmed', ...REJECT_REASONS, 'taught', 'corrected'];

/**
 * How an outcome measures the site's recognition: a confirmed arrival is a real person the
 * camera's cues did not prove, and a taught unknown an enrolled person it did not name (false
 * rejects); an arrival rejected as the wrong person or as a picture or screen, and a corrected
 * recognition, were named by the camera all the same (false accepts); `other` is neither.
 */
export function outcomeKind(outcome: ReviewOutcome): 'false_reject' | 'false_accept' | 'other' {
  if (outcome === 'confirmed' || outcome === 'taught') return 'false_reject';
  return outcome === 'other' ? 'other' : 'false_accept';
}

/** The longest note a reviewer may give: a sentence or two of why, not a document. */
export const NOTE_MAX = 500;

/** The attendance parts a review needs; undefined while attendance is off. */
export interface ReviewedAttendance {
  stage: Pick<AttendanceStage, 'confirmArrival'>;
  arrivals: ArrivalStore;
}

export interface ArrivalReviewOptions {
  db: Database;
  attendance: () => ReviewedAttendance | undefined;
  /** Where each decision is written; teaching's measures are read back from it for the weekly counts. */
  audit: Pick<AuditLog, 'append' | 'since'>;
  /** The site's zone: the answers' times are its wall clock. */
  timeZone: () => string;
  now: () => number;
}

/** An arrival as every door answers it (the console, the control socket and the CLI's --json, a remote command). */
export interface ArrivalAnswer {
  id: string;
  person_id: string;
  group: string | null;
  date: string;
  camera: string;
  at: string;
  assurance: string;
  required: string;
  missing: string[];
  liveness: Record<string, number>;
  refused: string | null;
  /** The signed check-in event withdrawn that left this arrival (its track refused afterwards); null for an arrival below the requirement. */
  retracts: string | null;
  status: ArrivalStatus;
  reason: RejectReason | null;
  note: string | null;
  reviewed_by: string | null;
  reviewed_at: string | null;
  record_id: string | null;
  crops: number;
}

export interface ReviewResult {
  arrival: ArrivalAnswer;
  /** What the confirmation made: a check-in (or a check-out at an exit camera); empty for a rejection (a confirmation that would make nothing is refused). */
  decisions: string[];
}

const round3 = (n: number) => Number(n.toFixed(3));

/**
 * The review of unverified arrivals (a recognised person whose sighting did not reach the
 * camera's requirement, or whose check-in was withdrawn when its track was refused afterwards): operators and admins confirm one, which checks the person in at their
 * arrival through the attendance stage's own write with assurance `reviewed`, or reject it with a
 * reason; the arrival keeps what was decided, by whom and why, and each decision is one audit entry
 * in the change's own transaction. Viewers may not. One implementation for every door.
 */
export class ArrivalReviews {
  private readonly counts = new Map<string, { camera: string; outcome: ReviewOutcome; count: number }>();
  private readonly refusals = new Map<string, { camera: string; reason: StandingRejection; count: number }>();

  constructor(private readonly o: ArrivalReviewOptions) {}

  /** Newest first: pending ones by default (the queue), or those of a status, or all. */
  list(f: { status?: ArrivalStatus | 'all'; before?: number; limit?: number } = {}): ArrivalAnswer[] {
    const limit = Math.min(Math.max(Math.trunc(f.limit ?? 50), 1), 200);
    const status = f.status === 'all' ? undefined : (f.status ?? 'pending');
    return this.parts()
      .arrivals.list({ limit, ...(status ? { status } : {}), ...(f.before !== undefined ? { beforeMs: f.before } : {}) })
      .map((a) => this.answer(a));
  }

  get(id: string): ArrivalAnswer {
    return this.answer(this.find(this.parts(), id));
  }

  /** An arrival's face crop n (1..3) as JPEG, opened for this one answer; each look audited. Undefined where it has none. */
  crop(id: string, n: number, by: Actor): Buffer | undefined {
    this.mayReview(by, 'arrival.crop.view', id);
    const parts = this.parts();
    const a = this.find(parts, id);
    const jpeg = parts.arrivals.crop(a, n);
    if (jpeg) this.o.audit.append({ ...by, action: 'arrival.crop.view', target: a.personId, detail: { arrival: id, n }, outcome: 'ok' });
    return jpeg;
  }

  /** The person was there: a check-in at their arrival, assurance `reviewed`, and the arrival confirmed, with the audit entry. */
  confirm(id: string, by: Actor, note?: string): ReviewResult {
    this.mayReview(by, 'arrival.confirm', id);
    const done = auditingFailure(this.o.audit, 'arrival.confirm', by, id, () => {
      const why = checkNote(note);
      const parts = this.parts();
      return this.o.db
        .transaction(() => {
          const a = this.pending(parts, id);
          const { decisions, recordId } = parts.stage.confirmArrival(a, parts.arrivals.crop(a, 1));
          parts.arrivals.decide({ id, status: 'confirmed', reason: null, note: why, by: by.actor, atMs: this.o.now(), recordId });
          this.o.audit.append({ ...by, action: 'arrival.confirm', target: a.personId, detail: { arrival: id, camera: a.camera, at: this.iso(a.atMs), record: recordId, made: kinds(decisions), note: why, ...(a.retracts ? { withdrawn: a.retracts } : {}) }, outcome: 'ok' });
          return { arrival: this.answer(this.find(parts, id)), decisions: kinds(decisions), camera: a.camera };
        })
        .immediate();
    });
    this.count(done.camera, 'confirmed');
    return { arrival: done.arrival, decisions: done.decisions };
  }

  /** Not the person, or not a person there: the arrival is kept as rejected with the reason, and nothing is checked in. */
  reject(id: string, reason: RejectReason, by: Actor, note?: string): ReviewResult {
    this.mayReview(by, 'arrival.reject', id);
    const done = auditingFailure(this.o.audit, 'arrival.reject', by, id, () => {
      if (!(REJECT_REASONS as readonly string[]).includes(reason)) {
        throw new FacegateError('FG_ERR_REVIEW_INVALID', `no rejection reason ${JSON.stringify(reason)}`, `give one of ${REJECT_REASONS.join(', ')}`);
      }
      const why = checkNote(note);
      const parts = this.parts();
      return this.o.db
        .transaction(() => {
          const a = this.pending(parts, id);
          parts.arrivals.decide({ id, status: 'rejected', reason, note: why, by: by.actor, atMs: this.o.now(), recordId: null });
          this.o.audit.append({ ...by, action: 'arrival.reject', target: a.personId, detail: { arrival: id, camera: a.camera, at: this.iso(a.atMs), reason, note: why }, outcome: 'ok' });
          return { arrival: this.answer(this.find(parts, id)), decisions: [], camera: a.camera };
        })
        .immediate();
    });
    this.count(done.camera, reason);
    return { arrival: done.arrival, decisions: done.decisions };
  }

  /**
   * The attendance stage refused a sighting that met its camera's requirement, because a review
   * rejected its track's arrival (as the wrong person, or a picture or screen): counted per camera
   * and reason, and audited as refused, naming the review it stood on. The daemon refused it on a
   * person's word, so the entry's actor is attendance.
   */
  sightingRefused(r: RefusedByReview): void {
    const key = `${r.camera}\u0000${r.reason}`;
    const c = this.refusals.get(key) ?? { camera: r.camera, reason: r.reason, count: 0 };
    c.count++;
    this.refusals.set(key, c);
    this.o.audit.append({
      actor: 'attendance',
      role: 'admin',
      action: 'attendance.refused_by_review',
      target: r.personId,
      detail: { camera: r.camera, track: r.track, at: this.iso(r.atMs), assurance: r.assurance, arrival: r.arrivalId, reason: r.reason, reviewed_by: r.reviewedBy },
      outcome: 'refused',
    });
  }

  /** Sightings refused by a review of their track since this daemon started, per camera and reason (`facegate_attendance_refused_by_review_total`). */
  refusedCounts(): { camera: string; reason: StandingRejection; count: number }[] {
    return [...this.refusals.values()].map((c) => ({ ...c }));
  }

  /** Reviews since this daemon started, per camera and outcome (`facegate_review_outcomes_total`). */
  outcomeCounts(): { camera: string; outcome: ReviewOutcome; count: number }[] {
    return [...this.counts.values()].map((c) => ({ ...c }));
  }

  /** A person was taught from a camera's decision that named nobody or someone else (teaching.ts): counted as the camera's. */
  measured(camera: string, outcome: 'taught' | 'corrected'): void {
    this.count(camera, outcome);
  }

  /**
   * Reviews kept (within retention) and teaching from the timeline (the audit's `person.teach`
   * entries that say what they measured), per camera and ISO week on the site's wall clock, as
   * false accepts, false rejects and others: the System page's table, newest week first.
   */
  weekly(sinceMs: number): { camera: string; week: string; false_accepts: number; false_rejects: number; other: number }[] {
    const rows = new Map<string, { camera: string; week: string; false_accepts: number; false_rejects: number; other: number }>();
    const add = (camera: string, week: string, outcome: ReviewOutcome, count: number) => {
      const key = `${week}\u0000${camera}`;
      const row = rows.get(key) ?? { camera, week, false_accepts: 0, false_rejects: 0, other: 0 };
      const kind = outcomeKind(outcome);
      if (kind === 'false_accept') row.false_accepts += count;
      else if (kind === 'false_reject') row.false_rejects += count;
      else row.other += count;
      rows.set(key, row);
    };
    const zone = this.o.timeZone();
    for (const r of this.o.attendance()?.arrivals.outcomes(sinceMs, zone) ?? []) add(r.camera, r.week, r.status === 'confirmed' ? 'confirmed' : (r.reason ?? 'other'), r.count);
    for (const e of this.o.audit.since('person.teach', sinceMs)) {
      const { camera, measure } = e.detail;
      if (e.outcome === 'ok' && typeof camera === 'string' && (measure === 'taught' || measure === 'corrected')) add(camera, isoWeek(e.atMs, zone), measure, 1);
    }
    return [...rows.values()].sort((a, b) => b.week.localeCompare(a.week) || a.camera.localeCompare(b.camera));
  }

  private count(camera: string, outcome: ReviewOutcome): void {
    const key = `${camera}\u0000${outcome}`;
    const c = this.counts.get(key) ?? { camera, outcome, count: 0 };
    c.count++;
    this.counts.set(key, c);
  }

  /** Viewers see attendance; only operators and admins decide what it holds. The refusal is audited. */
  private mayReview(by: Actor, action: string, id: string): void {
    if (by.role !== 'viewer') return;
    this.o.audit.append({ ...by, action, target: id, detail: { code: 'FG_ERR_REVIEW_ROLE' }, outcome: 'refused' });
    throw new FacegateError('FG_ERR_REVIEW_ROLE', 'a viewer may not review arrivals', 'ask an operator or an admin');
  }

  private parts(): ReviewedAttendance {
    const parts = this.o.attendance();
    if (!parts) throw new FacegateError('FG_ERR_ATTENDANCE_OFF', 'attendance is turned off on this device', 'set attendance.enabled: true in its config first');
    return parts;
  }

  private find(parts: ReviewedAttendance, id: string): Arrival {
    const a = typeof id === 'string' && id.length <= 64 ? parts.arrivals.get(id) : undefined;
    if (!a) throw new FacegateError('FG_ERR_ARRIVAL_NOT_FOUND', `no unverified arrival ${JSON.stringify(String(id).slice(0, 64))}`, 'list them with `facegate attendance review list` or on the console\'s Review page');
    return a;
  }

  private pending(parts: ReviewedAttendance, id: string): Arrival {
    const a = this.find(parts, id);
    if (a.status !== 'pending') {
      throw new FacegateError('FG_ERR_ARRIVAL_REVIEWED', `arrival ${id} was ${a.status} already, by ${a.reviewedBy ?? 'someone'}`, 'a review stands; see it with `facegate attendance review list --all`');
    }
    return a;
  }

  private iso(ms: number): string {
    return formatLocalIso(ms, this.o.timeZone());
  }

  private answer(a: Arrival): ArrivalAnswer {
    return {
      id: a.id,
      person_id: a.personId,
      group: a.group,
      date: a.date,
      camera: a.camera,
      at: this.iso(a.atMs),
      assurance: a.assurance,
      required: a.required,
      missing: a.missing,
      liveness: Object.fromEntries(Object.entries(a.liveness).map(([k, v]) => [k, round3(v)])),
      refused: a.refused,
      retracts: a.retracts,
      status: a.status,
      reason: a.reason,
      note: a.note,
      reviewed_by: a.reviewedBy,
      reviewed_at: a.reviewedMs === null ? null : this.iso(a.reviewedMs),
      record_id: a.recordId,
      crops: a.crops,
    };
  }
}

function kinds(decisions: readonly AttendanceDecision[]): string[] {
  return decisions.map((d) => d.kind);
}

/** A reviewer's why: optional, one line of printable text, bounded. */
function checkNote(note: string | undefined): string | null {
  if (note === undefined || note === '') return null;
  // eslint-disable-next-line no-control-regex
  if (typeof note !== 'string' || note.length > NOTE_MAX || /[\u0000-\u001f\u007f-\u009f]/.test(note)) {
    throw new FacegateError('FG_ERR_REVIEW_INVALID', `a review's note is one line of at most ${NOTE_MAX} characters, without control characters`, 'shorten the note');
  }
  return note;
}
