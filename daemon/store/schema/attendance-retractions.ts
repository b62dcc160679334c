import type { Database } from 'better-sqlite3';
import type { Migration } from '../migrate.js';

/**
 * Check-ins and check-outs withdrawn because the track that made them was refused afterwards (a held
 * picture, a screen, a frozen face): the day record forgets the decision so that a real sighting
 * can make it again, and this row keeps what was withdrawn, why and when, beside the signed event
 * that said it and the one it withdrew.
 */
export function createAttendanceRetractionsTable(db: Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS attendance_retractions (
      record_id    TEXT    NOT NULL,
      kind         TEXT    NOT NULL CHECK (kind IN ('check_in', 'check_out')),
      at_ms        INTEGER NOT NULL,
      camera       TEXT    NOT NULL,
      reason       TEXT    NOT NULL,
      event_id     TEXT    NOT NULL,
      retracted_ms INTEGER NOT NULL,
      PRIMARY KEY (record_id, kind, at_ms)
    ) WITHOUT ROWID;
  `);
}

export const ATTENDANCE_RETRACTIONS_MIGRATION: Migration = {
  version: 15,
  description: 'attendance: check-ins and check-outs withdrawn when their track was refused afterwards',
  up: createAttendanceRetractionsTable,
};

/**
 * The camera's track whose refusal withdrew each decision: the console strikes through that track's
 * recognitions in the timeline, not another track of the same person at the same camera. Rows
 * from before this step name none, and strike only the day's check-in or check-out.
 */
export function addAttendanceRetractionTrack(db: Database): void {
  db.exec('ALTER TABLE attendance_retractions ADD COLUMN track INTEGER');
}

export const ATTENDANCE_RETRACTION_TRACK_MIGRATION: Migration = {
  version: 20,
  description: "attendance: the track whose refusal withdrew a check-in or check-out, so that the console strikes through that track's recognitions",
  up: addAttendanceRetractionTrack,
};
