import type { Database } from 'better-sqlite3';
import type { Migration } from '../migrate.js';
import { ASSURANCES } from '../../../contract/assurance.js';

const ONE_OF = `(${ASSURANCES.map((a) => `'${a}'`).join(', ')})`;

/**
 * What proved each check-in, check-out and last sighting of a day record (contract/assurance.ts):
 * the record says what it rests on, as its events do. Rows written before this step were made
 * under the one rule there was, a live recognition, so each check-in and check-out they hold, and
 * each last sighting, was proven live: they get `live`.
 */
export function addAttendanceAssurance(db: Database): void {
  db.exec(`
    ALTER TABLE attendance_days ADD COLUMN check_in_assurance TEXT CHECK (check_in_assurance IN ${ONE_OF});
    ALTER TABLE attendance_days ADD COLUMN check_out_assurance TEXT CHECK (check_out_assurance IN ${ONE_OF});
    ALTER TABLE attendance_days ADD COLUMN last_seen_assurance TEXT NOT NULL DEFAULT 'live' CHECK (last_seen_assurance IN ${ONE_OF});
    UPDATE attendance_days SET check_in_assurance = 'live' WHERE check_in_ms IS NOT NULL;
    UPDATE attendance_days SET check_out_assurance = 'live' WHERE check_out_ms IS NOT NULL;
  `);
}

export const ATTENDANCE_ASSURANCE_MIGRATION: Migration = {
  version: 16,
  description: 'attendance: what proved each check-in, check-out and last sighting (existing rows: live, the only rule they were made under)',
  up: addAttendanceAssurance,
};
