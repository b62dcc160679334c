import type { Database } from 'better-sqlite3';
import type { Migration } from '../migrate.js';

/**
 * The door (doors:) each check-in's, check-out's and last sighting's camera belonged to, kept with
 * the record as its camera is: a door is renamed or regrouped by a config change, and a record says
 * where the person was when it was made. Rows from before this step, and cameras in no door, have
 * none (NULL).
 */
export function addAttendanceDoors(db: Database): void {
  db.exec(`
    ALTER TABLE attendance_days ADD COLUMN check_in_door TEXT;
    ALTER TABLE attendance_days ADD COLUMN check_out_door TEXT;
    ALTER TABLE attendance_days ADD COLUMN last_seen_door TEXT;
  `);
}

export const ATTENDANCE_DOORS_MIGRATION: Migration = {
  version: 19,
  description: 'attendance: the door of each check-in, check-out and last sighting (existing rows: none)',
  up: addAttendanceDoors,
};
