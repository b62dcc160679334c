import type { Database } from 'better-sqlite3';
import type { Migration } from '../migrate.js';

/**
 * The last sighting admitted per person and camera, for the attendance cooldown: kept in memory
 * only, a restart let the same person at the same exit camera check out a second time seconds
 * after the first. One row per person and camera, written with the day record it admitted.
 */
export function createAttendanceCooldownTable(db: Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS attendance_cooldown (
      person_id TEXT    NOT NULL,
      camera    TEXT    NOT NULL,
      at_ms     INTEGER NOT NULL,
      PRIMARY KEY (person_id, camera)
    ) WITHOUT ROWID;
  `);
}

export const ATTENDANCE_COOLDOWN_MIGRATION: Migration = {
  version: 12,
  description: 'attendance: the last admitted sighting per person and camera, so the cooldown holds across restarts',
  up: createAttendanceCooldownTable,
};
