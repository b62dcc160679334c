import type { Database } from 'better-sqlite3';
import type { Migration } from '../migrate.js';

/**
 * Attendance tables: one row per person and day key (the engine's DayRecord), the sealed proof
 * thumbnails of check-ins and check-outs, the absences already summarised, and shift rules set
 * remotely (which win over the config's until replaced).
 */
export function createAttendanceTables(db: Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS attendance_days (
      person_id         TEXT    NOT NULL,
      date              TEXT    NOT NULL,
      record_id         TEXT    NOT NULL UNIQUE,
      group_name        TEXT,
      day_json          TEXT    NOT NULL,
      check_in_ms       INTEGER,
      check_in_camera   TEXT,
      check_out_ms      INTEGER,
      check_out_camera  TEXT,
      last_seen_ms      INTEGER NOT NULL,
      last_seen_camera  TEXT    NOT NULL,
      check_out_settled INTEGER NOT NULL,
      summarized        INTEGER NOT NULL,
      closes_ms         INTEGER NOT NULL,
      PRIMARY KEY (person_id, date)
    );
    CREATE INDEX IF NOT EXISTS attendance_days_open ON attendance_days (closes_ms)
      WHERE summarized = 0 OR check_out_settled = 0;
    CREATE TABLE IF NOT EXISTS attendance_proofs (
      record_id TEXT    NOT NULL,
      kind      TEXT    NOT NULL CHECK (kind IN ('check_in', 'check_out')),
      at_ms     INTEGER NOT NULL,
      sealed    BLOB    NOT NULL,
      PRIMARY KEY (record_id, kind)
    );
    CREATE TABLE IF NOT EXISTS attendance_absences (
      person_id TEXT NOT NULL,
      date      TEXT NOT NULL,
      PRIMARY KEY (person_id, date)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS attendance_meta (
      key   TEXT PRIMARY KEY,
      value TEXT NOT NULL
    ) WITHOUT ROWID;
  `);
}

export const ATTENDANCE_MIGRATION_3: Migration = {
  version: 3,
  description: 'attendance: day records, sealed proof thumbnails, absence summaries',
  up: createAttendanceTables,
};
