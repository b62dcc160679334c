import type { Logger } from '../base/log.js';
import type { EventWriter } from '../events/writer.js';
import type { CameraRole, Requirement, ShiftRules } from './config.js';
import { Cooldown } from './cooldown.js';
import { absentSummary, applySighting, settle, type AttendanceDecision, type LivenessShares } from './engine.js';
import { attendanceBody, sharesField } from './payload.js';
import type { ProofSealer } from './proof-sealer.js';
import { resolveShift, scheduledDay, shiftDayAt } from './shift.js';
import type { AttendanceStore } from './store.js';
import { TrackArrivals, TrackDecisions, type TrackDecision } from './track-decisions.js';
import { meetsRequirement } from './requirement.js';
import { strongerThan } from '../../contract/assurance.js';
import type { TrackAssurance } from '../track/assurance.js';
import type { SpoofAlertReason } from '../../contract/alerts.js';
import { addDays, formatLocalIso, localParts } from '../base/zoned-time.js';
import type { Assurance } from '../../contract/assurance.js';
import type { Arrival, ArrivalStore, RejectReason } from './arrivals.js';
import { doorField } from '../../contract/fields.js';
import { FacegateError } from '../base/errors.js';
import type { DayRecord } from './engine.js';

/** A `recognized` decision of a camera's tracker, with what proved the person there; the camera's requirement decides whether it counts. */
export interface RecognizedDecision {
  personId: string;
  group?: string;
  camera: string;
  /** The camera's track that made it, so that a refusal of that track later withdraws what it made. */
  track?: number;
  atMs: number;
  /** What proved the person there when the track decided (track/assurance.ts). */
  assurance: TrackAssurance;
  /** JPEG face crop kept (sealed) as the proof of a check-in or check-out. */
  thumbnail?: Uint8Array;
  /** The liveness cues' shares of the fused score when the track decided: what an unverified arrival lacked. */
  liveness?: Readonly<Record<string, number>>;
}

export interface RosterPerson {
  personId: string;
  group?: string;
  /** The id the site's own systems know them by, if enrolment gave one. */
  externalId?: string;
}

export interface AttendanceStageOptions {
  store: AttendanceStore;
  writer: EventWriter;
  sealer: ProofSealer;
  /** Where a recognised person below the camera's requirement is kept for review (arrivals.ts); without it they are not kept. */
  arrivals?: ArrivalStore;
  /** Current rules (config, or as replaced by the `attendance/shifts` command). */
  rules: () => ShiftRules;
  roleOf: (camera: string) => CameraRole;
  /** What a sighting at this camera must be proven by to count (requirement.ts, requirementOf). */
  requireOf: (camera: string) => Requirement;
  /** The door (doors:) a camera belongs to, which its check-ins and check-outs name; undefined for a camera in no door (and where not given). */
  doorOf?: (camera: string) => string | undefined;
  cooldownMs: number;
  /** Everyone who should be summarised as absent when never seen on a scheduled day. */
  roster: () => readonly RosterPerson[];
  newId: () => string;
  now: () => number;
  logger: Logger;
  /** Told after each accepted sighting (Home Assistant presence). */
  onSighting?: (d: RecognizedDecision, decisions: readonly AttendanceDecision[]) => void;
  /** Told of each sighting that a review of its track's arrival refused: the review service counts and audits it. */
  onRefusedByReview?: (r: RefusedByReview) => void;
}

/** A sighting that met its camera's requirement and made nothing: a person had rejected its track's arrival. */
export interface RefusedByReview {
  personId: string;
  camera: string;
  track: number;
  atMs: number;
  assurance: TrackAssurance;
  arrivalId: string;
  reason: StandingRejection;
  reviewedBy: string | null;
}

/**
 * The rejections that stand for their track's later sightings, however well its cameras prove it
 * afterwards: a person said the face was not this person, or not a person there (a picture or a
 * screen); a cue's later `live` contradicts neither. `other` (a duplicate, a day already settled)
 * says nothing against the face, so the track's own proof still counts.
 */
export const STANDING_REJECTIONS = ['wrong_person', 'picture'] as const satisfies readonly RejectReason[];
export type StandingRejection = (typeof STANDING_REJECTIONS)[number];

const SUMMARIES_SINCE = 'summaries_since_ms';

/**
 * Turns recognitions into attendance: the camera's requirement, the cooldown, then the rules engine, then one SQLite
 * transaction that writes the day record, the sealed proof and the signed outbox events together.
 * `tick` (once a minute) settles days whose windows have closed and summarises absences.
 */
export class AttendanceStage {
  private readonly cooldown: Cooldown;
  private readonly log: Logger;
  /** What each running track made, until it ends, for its withdrawal. */
  private readonly made = new TrackDecisions();
  /** The arrival each running track was kept as, until it ends: a review of it stands for the track. */
  private readonly trackArrivals = new TrackArrivals();

  constructor(private readonly o: AttendanceStageOptions) {
    this.cooldown = new Cooldown(o.cooldownMs);
    // A restart (or a reload that rebuilds this stage) goes on with the cooldowns still running.
    for (const s of o.store.sightingsSince(o.now() - o.cooldownMs)) this.cooldown.remember(s.personId, s.camera, s.atMs);
    this.log = o.logger.child({ stage: 'attendance' });
  }

  /**
   * Returns the decisions made (empty for a sighting below its camera's requirement, or a repeat
   * within the cooldown). A sighting below the requirement at an entry camera is kept as the
   * person's unverified arrival of the day, for review, unless they checked in already. A track
   * that proves its person better than when it made a check-in or check-out raises it (upgrade).
   */
  onRecognized(d: RecognizedDecision): AttendanceDecision[] {
    // Below the requirement it is a recognition only (the timeline keeps it, with its assurance),
    // and it holds no cooldown: the same track, proven a moment later, still counts.
    const required = this.o.requireOf(d.camera);
    if (!meetsRequirement(d.assurance, required)) {
      this.keepArrival(d, required);
      return [];
    }
    if (d.track !== undefined && this.refusedByReview(d, d.track)) return [];
    // The same track's later recognition carries the same arrival time, so the cooldown always
    // holds it back: what it proves goes to the decisions the track made instead.
    if (d.track !== undefined) this.upgrade(d, d.track);
    // Admitted only once written: a sighting that failed to store is not swallowed by the cooldown.
    if (!this.cooldown.allows(d.personId, d.camera, d.atMs)) return [];
    const decisions = this.write(d, d.assurance);
    this.cooldown.admit(d.personId, d.camera, d.atMs);
    this.o.onSighting?.(d, decisions);
    return decisions;
  }

  /**
   * A person rejected this track's arrival as the wrong person or as a picture or screen: the
   * rejection stands for the track, and its sighting proven afterwards (live, stereo) makes no
   * check-in; it is logged and told (the review service counts and audits it). True where it was refused so.
   */
  private refusedByReview(d: RecognizedDecision, track: number): boolean {
    const id = this.trackArrivals.of(d.camera, track);
    const arrival = id === undefined ? undefined : this.o.arrivals?.get(id);
    if (!arrival || arrival.status !== 'rejected' || !isStanding(arrival.reason)) return false;
    const reason = arrival.reason;
    this.log.warn({ person: d.personId, camera: d.camera, track, assurance: d.assurance, arrival: arrival.id, reason, reviewed_by: arrival.reviewedBy }, 'sighting refused: a review rejected its track\'s arrival');
    this.o.onRefusedByReview?.({ personId: d.personId, camera: d.camera, track, atMs: d.atMs, assurance: d.assurance, arrivalId: arrival.id, reason, reviewedBy: arrival.reviewedBy });
    return true;
  }

  /**
   * A person confirmed an unverified arrival: the check-in (or check-out, at an exit camera) it makes
   * goes through the same rules and the same write as a camera's, with assurance `reviewed` and the
   * arrival's first crop as its proof. Runs in the caller's transaction when there is one (the
   * review service's, with its audit entry). Returns the decisions and the day record's id.
   * Where the engine's rule makes nothing of it (the day has its check-in already: the first one
   * stands), the confirmation is refused with FG_ERR_ARRIVAL_CHECKED_IN and nothing is written.
   */
  confirmArrival(a: Arrival, proof: Uint8Array | undefined): { decisions: AttendanceDecision[]; recordId: string } {
    // The shares its track had when it decided: what the person confirming it went beyond.
    const d: RecognizedDecision = { personId: a.personId, camera: a.camera, atMs: a.atMs, assurance: 'recognised', liveness: a.liveness, ...(a.group !== null ? { group: a.group } : {}), ...(proof ? { thumbnail: proof } : {}) };
    let recordId = '';
    const decisions = this.write(d, 'reviewed', { arrivalId: a.id, onRecord: (id) => (recordId = id) });
    return { decisions, recordId };
  }

  /**
   * The day record, its proofs and its signed events, in one transaction; a check-in leaves no
   * arrival of that day to review. A confirmation that the engine turns into no decision is refused
   * before anything is written: a review that changed nothing must not read as one that checked
   * the person in (nor, at a `both` camera, leave the arrival as the day's check-out candidate).
   */
  private write(d: RecognizedDecision, assurance: Assurance, confirming?: { arrivalId: string; onRecord: (recordId: string) => void }): AttendanceDecision[] {
    const rules = this.o.rules();
    const resolved = resolveShift(rules, d.personId, d.group);
    const dayNow = shiftDayAt(rules, resolved, d.atMs);
    const decisions = this.o.store.db.transaction(() => {
      const existing = this.o.store.day(d.personId, dayNow.date);
      // An existing record keeps the window it was opened with, even if the rules change meanwhile.
      const day = existing?.record.day ?? dayNow;
      const sighting = { personId: d.personId, camera: d.camera, door: this.o.doorOf?.(d.camera) ?? null, role: this.o.roleOf(d.camera), atMs: d.atMs, assurance, liveness: sharesOf(d.liveness), ...(d.group !== undefined ? { group: d.group } : {}) };
      const t = applySighting(existing?.record, sighting, day, this.o.newId);
      if (confirming && t.decisions.length === 0) throw this.confirmsNothing(confirming.arrivalId, t.record, sighting.role, rules.timeZone);
      const group = existing?.group ?? d.group ?? null;
      this.o.store.save(t.record, group);
      if (assurance !== 'reviewed') this.o.store.saveSighting(d.personId, d.camera, d.atMs);
      confirming?.onRecord(t.record.recordId);
      for (const decision of t.decisions) {
        if (d.thumbnail && decision.kind !== 'summary') {
          const ref = { recordId: t.record.recordId, personId: d.personId, kind: decision.kind };
          this.o.store.saveProof(t.record.recordId, decision.kind, d.atMs, this.o.sealer.seal(ref, d.thumbnail));
        }
        if (decision.kind === 'check_in' && assurance !== 'reviewed') this.o.arrivals?.dropPending(d.personId, t.record.date);
        const eventId = this.o.writer.write('attendance', attendanceBody(decision, t.record, { group, externalId: this.externalIdOf(d.personId) }, rules.timeZone), d.atMs);
        if (d.track !== undefined && decision.kind !== 'summary') {
          this.made.add(d.camera, d.track, { recordId: t.record.recordId, personId: d.personId, date: t.record.date, kind: decision.kind, atMs: decision.atMs, sightingMs: d.atMs, eventId, group, assurance, liveness: { ...(d.liveness ?? {}) } });
        }
      }
      return t.decisions;
    })();
    for (const decision of decisions) this.log.info({ person: d.personId, camera: d.camera, kind: decision.kind, status: 'status' in decision ? decision.status : undefined, assurance: 'assurance' in decision ? decision.assurance : undefined }, 'attendance');
    return decisions;
  }

  /** Why a confirmation makes nothing: the check-in (or, at an exit camera, the later check-out) the day holds. */
  private confirmsNothing(arrivalId: string, record: DayRecord, role: CameraRole, timeZone: string): FacegateError {
    const iso = (ms: number | null) => (ms === null ? 'an unknown time' : formatLocalIso(ms, timeZone));
    const message =
      role === 'exit'
        ? `${record.personId} is already checked out on ${record.date} (at ${iso(record.checkOutMs)}, ${record.checkOutAssurance ?? 'unproven'}), later than arrival ${arrivalId}: confirming it would make no check-out`
        : `${record.personId} is already checked in on ${record.date} (at ${iso(record.checkInMs)}, ${record.checkInAssurance ?? 'unproven'}): confirming arrival ${arrivalId} would make no check-in, since the day's first check-in stands`;
    return new FacegateError('FG_ERR_ARRIVAL_CHECKED_IN', message, 'leave the day as it is: reject the arrival (reason other, with a note) to take it off the queue');
  }

  /**
   * A recognised person whose sighting did not reach the requirement is kept, not left out: while
   * none of their shift day waits for review, such a sighting at an entry camera is their arrival,
   * with the face crops of that track (up to ARRIVAL_CROPS) and the cues that did not speak for a
   * live face; one already waiting stays the arrival. A reviewed one does not hold the day (a
   * rejected wrong person at 08:10 leaves the real one at 09:00 kept), but holds its own track: the
   * track's later sightings are not kept again. Nothing is kept once the day has a check-in, nor at
   * an exit camera (a departure proves no arrival).
   */
  private keepArrival(d: RecognizedDecision, required: Requirement): void {
    const arrivals = this.o.arrivals;
    if (!arrivals || this.o.roleOf(d.camera) === 'exit') return;
    const assurance = d.assurance;
    const rules = this.o.rules();
    const date = shiftDayAt(rules, resolveShift(rules, d.personId, d.group), d.atMs).date;
    this.o.store.db.transaction(() => {
      if (this.o.store.day(d.personId, date)?.record.checkInMs != null) return;
      const ofTrack = d.track === undefined ? undefined : this.trackArrivals.of(d.camera, d.track);
      const trackArrival = ofTrack === undefined ? undefined : arrivals.get(ofTrack);
      if (trackArrival && trackArrival.status !== 'pending') return;
      let arrival = arrivals.pendingOfDay(d.personId, date);
      if (!arrival) {
        const liveness = { ...(d.liveness ?? {}) };
        const id = this.o.newId();
        arrivals.keep({ id, personId: d.personId, group: d.group ?? null, date, camera: d.camera, track: d.track ?? null, atMs: d.atMs, assurance, required, liveness, missing: silentCues(liveness) });
        arrival = arrivals.get(id);
        if (!arrival) return;
        if (d.track !== undefined) this.trackArrivals.set(d.camera, d.track, id);
        this.log.info({ person: d.personId, camera: d.camera, assurance, required }, 'unverified arrival kept for review');
      } else if (arrival.camera !== d.camera || arrival.track !== (d.track ?? null)) {
        return;
      }
      if (d.thumbnail) arrivals.addCrop(arrival, d.thumbnail);
    })();
  }

  /**
   * The track proved its person better than when it made a check-in or check-out (named at first,
   * live or stereo now): each such decision that its record still holds so proven rises to the new
   * assurance, never lower, in one transaction with a row that keeps both and a signed
   * `attendance/upgraded` event naming the decision's event. Returns how many rose.
   */
  private upgrade(d: RecognizedDecision, track: number): number {
    const shares = sharesOf(d.liveness);
    let raised = 0;
    for (const m of this.made.of(d.camera, track)) {
      if (m.personId !== d.personId || !strongerThan(d.assurance, m.assurance)) continue;
      const from = m.assurance;
      const raisedHere = this.o.store.db.transaction(() => {
        const nowMs = this.o.now();
        return this.o.store.upgrade({ recordId: m.recordId, kind: m.kind, atMs: m.atMs, camera: d.camera, track, from, to: d.assurance, upgrades: m.eventId, upgradedMs: nowMs }, shares, () => {
          const record = this.o.store.day(m.personId, m.date)?.record;
          const iso = (ms: number | null | undefined) => (ms == null ? null : formatLocalIso(ms, this.o.rules().timeZone));
          return this.o.writer.write(
            'attendanceUpgraded',
            { type: 'upgraded', kind: m.kind, upgrades: m.eventId, record_id: m.recordId, person_id: m.personId, external_id: this.externalIdOf(m.personId), group: m.group, camera: d.camera, assurance: d.assurance, previous_assurance: from, check_in: iso(record?.checkInMs), check_out: iso(record?.checkOutMs), liveness: sharesField(shares) },
            nowMs,
          );
        });
      })();
      if (!raisedHere) continue;
      m.assurance = d.assurance;
      m.liveness = { ...(d.liveness ?? {}) };
      raised++;
      this.log.info({ person: m.personId, camera: d.camera, kind: m.kind, from, to: d.assurance, upgrades: m.eventId }, 'attendance proven better by its track');
    }
    return raised;
  }

  /**
   * The track was refused after it made a check-in or check-out (a held picture, a screen, a frozen
   * face): each decision it made that its record still holds is withdrawn, in one transaction with
   * a signed `attendance/retracted` event naming the event it withdraws. Returns how many.
   */
  onRefused(camera: string, track: number, reason: SpoofAlertReason): number {
    // Its unverified arrival stays for a person to judge, saying what the tracker found.
    this.o.arrivals?.refuse(camera, track, reason);
    let withdrawn = 0;
    for (const m of this.made.take(camera, track)) {
      const retracted = this.o.store.db.transaction(() => {
        const nowMs = this.o.now();
        const done = this.o.store.retract({ recordId: m.recordId, personId: m.personId, kind: m.kind, atMs: m.atMs, camera, track, sightingMs: m.sightingMs, reason, eventId: m.eventId, retractedMs: nowMs });
        if (!done) return false;
        const record = this.o.store.day(m.personId, m.date)?.record;
        const iso = (ms: number | null | undefined) => (ms == null ? null : formatLocalIso(ms, this.o.rules().timeZone));
        this.o.writer.write(
          'attendanceRetracted',
          { type: 'retracted', kind: m.kind, retracts: m.eventId, record_id: m.recordId, person_id: m.personId, external_id: this.externalIdOf(m.personId), group: m.group, camera, ...doorField(this.o.doorOf?.(camera)), reason, check_in: iso(record?.checkInMs), check_out: iso(record?.checkOutMs) },
          nowMs,
        );
        if (m.kind === 'check_in') this.keepWithdrawnArrival(m, camera, track, reason);
        return true;
      })();
      if (!retracted) continue;
      this.cooldown.forget(m.personId, camera, m.sightingMs);
      withdrawn++;
      this.log.warn({ person: m.personId, camera, kind: m.kind, reason, retracts: m.eventId }, 'attendance withdrawn: its track was refused afterwards');
    }
    return withdrawn;
  }

  /**
   * A check-in withdrawn leaves a person the camera recognised checked in by nothing: they are kept
   * as the day's arrival, for a person to confirm or reject, at the check-in's time, with what had
   * proved it, the cue that contradicted it (`refused`), the check-in event withdrawn, and its
   * proof (the track's best face crop then, sealed again as the arrival's first crop; the track's
   * later recognitions add theirs). Runs in the withdrawal's transaction. Nothing is kept where the
   * track's arrival was reviewed already (a review stands for its track), nor where another of the
   * day waits for review (it stays the arrival); a reviewed arrival of another track does not hold
   * the day.
   */
  private keepWithdrawnArrival(m: TrackDecision, camera: string, track: number, reason: SpoofAlertReason): void {
    const arrivals = this.o.arrivals;
    // A reviewed check-in has no track, so none is ever withdrawn; the guard keeps the type honest.
    if (!arrivals || m.assurance === 'reviewed') return;
    const ofTrack = this.trackArrivals.of(camera, track);
    const reviewed = ofTrack === undefined ? undefined : arrivals.get(ofTrack);
    if (reviewed && reviewed.status !== 'pending') {
      this.log.warn({ person: m.personId, camera, date: m.date, retracts: m.eventId, arrival: reviewed.id }, 'withdrawn check-in not kept for review: its track\'s arrival was reviewed already');
      return;
    }
    const id = this.o.newId();
    const arrival = { id, personId: m.personId, group: m.group, date: m.date, camera, track, atMs: m.atMs, assurance: m.assurance, required: this.o.requireOf(camera), liveness: { ...m.liveness }, missing: silentCues(m.liveness), refused: reason, retracts: m.eventId };
    if (!arrivals.keep(arrival)) {
      this.log.warn({ person: m.personId, camera, date: m.date, retracts: m.eventId }, 'withdrawn check-in not kept for review: an arrival of the day waits for review already');
      return;
    }
    this.trackArrivals.set(camera, track, id);
    const proof = this.o.store.proof(m.recordId, 'check_in');
    if (proof) {
      try {
        arrivals.addCrop({ id, personId: m.personId, crops: 0 }, this.o.sealer.open({ recordId: m.recordId, personId: m.personId, kind: 'check_in' }, proof));
      } catch (e) {
        // The arrival is what matters: a reviewer can still judge it by the time and the cues.
        this.log.warn({ person: m.personId, err: e instanceof Error ? e.message : String(e) }, 'withdrawn check-in kept for review without its face: its proof did not open');
      }
    }
    this.log.info({ person: m.personId, camera, reason, retracts: m.eventId }, 'withdrawn check-in kept for review');
  }

  /** The track ended: what it made stands, and its arrival holds no later track. */
  onTrackEnded(camera: string, track: number): void {
    this.made.take(camera, track);
    this.trackArrivals.forget(camera, track);
  }

  /** Settles closed days (last-sighting check-outs, summaries) and summarises absences. */
  tick(nowMs: number = this.o.now()): number {
    this.o.store.pruneSightings(nowMs - this.o.cooldownMs);
    let written = 0;
    const rules = this.o.rules();
    for (const { record, group } of this.o.store.due(nowMs)) {
      written += this.o.store.db.transaction(() => {
        const t = settle(record, nowMs);
        this.o.store.save(t.record, group);
        const externalId = this.externalIdOf(record.personId);
        for (const decision of t.decisions) this.o.writer.write('attendance', attendanceBody(decision, t.record, { group, externalId }, rules.timeZone), nowMs);
        return t.decisions.length;
      })();
    }
    return written + this.summariseAbsences(rules, nowMs);
  }

  /** Events carry it so that the site's systems know the person by their own id (roster: cached, refreshed on changes). */
  private externalIdOf(personId: string): string | null {
    return this.o.roster().find((p) => p.personId === personId)?.externalId ?? null;
  }

  /**
   * Scheduled days of the last two days that closed with no sighting at all. Only days that closed
   * after attendance first ran count, so a new install does not report everyone absent for the past.
   */
  private summariseAbsences(rules: ShiftRules, nowMs: number): number {
    const store = this.o.store;
    let since = Number(store.meta(SUMMARIES_SINCE));
    if (!Number.isFinite(since) || since <= 0) {
      since = nowMs;
      store.setMeta(SUMMARIES_SINCE, String(nowMs));
    }
    const today = localParts(nowMs, rules.timeZone).date;
    let written = 0;
    for (const person of this.o.roster()) {
      const resolved = resolveShift(rules, person.personId, person.group);
      for (const date of [addDays(today, -2), addDays(today, -1), today]) {
        const day = scheduledDay(rules, resolved, date);
        if (typeof day === 'string' || day.closesMs > nowMs || day.closesMs <= since) continue;
        if (store.day(person.personId, date) || store.absenceSummarized(person.personId, date)) continue;
        store.db.transaction(() => {
          // No record is kept of a day never seen: the summary's event alone says it.
          const record = { recordId: this.o.newId(), personId: person.personId, date, day, checkInMs: null, checkOutMs: null };
          store.markAbsenceSummarized(person.personId, date);
          this.o.writer.write('attendance', attendanceBody(absentSummary(), record, { group: person.group ?? null, externalId: person.externalId ?? null }, rules.timeZone), nowMs);
        })();
        written++;
      }
    }
    return written;
  }
}

function isStanding(reason: RejectReason | null): reason is StandingRejection {
  return (STANDING_REJECTIONS as readonly (RejectReason | null)[]).includes(reason);
}

/** The cues' shares a record keeps: none where the track never decided (its arrival kept an empty set). */
function sharesOf(liveness: Readonly<Record<string, number>> | undefined): LivenessShares | null {
  return liveness && Object.keys(liveness).length > 0 ? { ...liveness } : null;
}

/** The cues that did not speak for a live face (a share of zero or below), sorted: what a reviewer is shown was missing. */
function silentCues(liveness: Readonly<Record<string, number>>): string[] {
  return Object.entries(liveness)
    .filter(([cue, share]) => cue !== 'score' && !(share > 0))
    .map(([cue]) => cue)
    .sort();
}
