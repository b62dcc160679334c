import type { Database } from 'better-sqlite3';
import { FeedRecords } from './feed-records.js';
import type { Logger } from '../base/log.js';
import type { PeriodicTasks } from '../base/periodic.js';
import type { RetentionConfig } from '../config/ops-sections.js';
import { eraseAttendanceOf, purgeAttendanceBefore } from '../attendance/store.js';
import { eraseArrivalsOf, purgeArrivalsBefore } from '../attendance/arrivals.js';
import { purgeUnknownAlertsBefore } from '../events/outbox.js';
import { purgeUnknownPersonsBefore } from '../track/unknown-store.js';
import { eraseTimelineOf, purgeTimelineBefore } from '../track/timeline.js';
import { AuditLog, type Actor } from './audit.js';
import { CommandAudit } from './command-records.js';

const DAY_MS = 86_400_000;

export interface PurgeResult {
  attendanceDays: number;
  proofs: number;
  unknownAlerts: number;
  unknownPersons: number;
  timelineEntries: number;
  /** Unverified arrivals (reviewed or not) with their sealed crops, kept as long as the timeline. */
  arrivals: number;
  auditEntries: number;
  commandAudit: number;
}

/** Who purges on the schedule: the daemon itself. */
const SCHEDULE: Actor = { actor: 'retention', role: 'admin' };

/**
 * Deletes what the retention settings say is too old, each table group through the purge of the
 * stage that owns it, all in one transaction with the purge's audit entry:
 * attendance day records with their sealed proof images (by the day's last sighting), undelivered
 * unknown-person alerts that carry a face crop, unknown persons' clusters (sealed embeddings and
 * face crop) by when they were last seen, the decision timeline with its sealed crops and the unverified arrivals with theirs, audit entries (the chain keeps a checkpoint), and the
 * remote command audit (plain rows, no chain). A purge someone asked for (`by`: the control
 * socket's caller) is audited always; the schedule's only when it deleted anything.
 */
export function purgeExpired(db: Database, r: RetentionConfig, nowMs: number, by?: Actor): PurgeResult {
  return db.transaction(() => {
    const { attendanceDays, proofs } = purgeAttendanceBefore(db, nowMs - r.attendance_days * DAY_MS);
    const unknownBefore = nowMs - r.unknown_thumbnail_days * DAY_MS;
    const unknownAlerts = purgeUnknownAlertsBefore(db, unknownBefore);
    const unknownPersons = purgeUnknownPersonsBefore(db, unknownBefore);
    const timelineEntries = purgeTimelineBefore(db, nowMs - r.timeline_days * DAY_MS);
    const arrivals = purgeArrivalsBefore(db, nowMs - r.timeline_days * DAY_MS);
    const audit = new AuditLog(db, () => nowMs);
    const auditEntries = audit.purge(nowMs - r.audit_days * DAY_MS);
    const commandAudit = new CommandAudit(db).purge(nowMs - r.command_audit_days * DAY_MS);
    const result = { attendanceDays, proofs, unknownAlerts, unknownPersons, timelineEntries, arrivals, auditEntries, commandAudit };
    if (by || Object.values(result).some((n) => n > 0)) {
      audit.append({ ...(by ?? SCHEDULE), action: 'retention.purge', detail: { ...result }, outcome: 'ok' });
    }
    return result;
  }).immediate();
}

export interface RetentionOptions {
  db: Database;
  config: RetentionConfig;
  /** Unknown persons kept in memory too: they expire with their rows. */
  unknowns: { expire(nowS: number): void };
  now: () => number;
  logger: Logger;
}

/** Retention as the daemon runs it: on a schedule, and when the control socket asks. */
export class RetentionService {
  private readonly log: Logger;

  constructor(private readonly o: RetentionOptions) {
    this.log = o.logger.child({ stage: 'daemon' });
  }

  /** Deletes what the retention settings say is too old, in the state file and in memory alike; `by` when someone asked. */
  purge(by?: Actor): PurgeResult {
    const nowMs = this.o.now();
    const result = purgeExpired(this.o.db, this.o.config, nowMs, by);
    this.o.unknowns.expire(nowMs / 1000);
    return result;
  }

  /**
   * Every check interval, and once right after start while `running` still says so (a stop under
   * way still purges; a daemon already stopped does not): what was deleted is logged.
   */
  schedule(tasks: PeriodicTasks, running: () => boolean): void {
    const purge = () => {
      const result = this.purge();
      if (Object.values(result).some((n) => n > 0)) this.log.info(result, 'retention purge');
    };
    tasks.every(this.o.config.check_interval_min * 60_000, 'retention', purge);
    tasks.soon('retention', () => {
      if (running()) purge();
    });
  }
}

export interface EraseResult {
  templates: number;
  thumbnails: number;
  attendanceDays: number;
  proofs: number;
}

/**
 * Removes a person everywhere the state file knows them: attendance day records and their sealed
 * proof images, absence marks, the timeline's entries and the unverified arrivals naming them, and the gallery rows (`removeGalleryRows`: templates and enrolment
 * thumbnails cascade), all in one transaction, or in the caller's when it runs inside one (a remote
 * command's answer is written with it). secure_delete is on for the state file, so the freed pages
 * are zeroed; the caller checkpoints the WAL once the transaction committed.
 */
export function erasePersonRecords(db: Database, personId: string, removeGalleryRows: (id: string) => { templates: number; thumbnails: number }): EraseResult {
  return db.transaction(() => {
    const { attendanceDays, proofs } = eraseAttendanceOf(db, personId);
    eraseTimelineOf(db, personId);
    eraseArrivalsOf(db, personId);
    new FeedRecords(db).forget(personId);
    const { templates, thumbnails } = removeGalleryRows(personId);
    return { templates, thumbnails, attendanceDays, proofs };
  })();
}
