import type { Database } from 'better-sqlite3';
import type { Migration } from '../migrate.js';

/**
 * Each liveness cue's share of the fused score (JSON: score, blink, structure, passive, surround,
 * screen, stereo, challenge) when the track behind each check-in, check-out and last sighting
 * decided, kept with the record as its assurance is: the assurance says what proved the person
 * there, the shares say by how much and through which cues. Rows from before this step, and
 * check-ins a person confirmed of a track that never decided, have none (NULL).
 */
export function addAttendanceLiveness(db: Database): void {
  db.exec(`
    ALTER TABLE attendance_days ADD COLUMN check_in_liveness TEXT;
    ALTER TABLE attendance_days ADD COLUMN check_out_liveness TEXT;
    ALTER TABLE attendance_days ADD COLUMN last_seen_liveness TEXT;
  `);
}

export const ATTENDANCE_LIVENESS_MIGRATION: Migration = {
  version: 27,
  description: "attendance: each liveness cue's share behind each check-in, check-out and last sighting (existing rows: none)",
  up: addAttendanceLiveness,
};
