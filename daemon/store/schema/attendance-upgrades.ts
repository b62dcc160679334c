import type { Database } from 'better-sqlite3';
import type { Migration } from '../migrate.js';
import { ASSURANCES } from '../../../contract/assurance.js';

const ONE_OF = `(${ASSURANCES.map((a) => `'${a}'`).join(', ')})`;

/**
 * Check-ins and check-outs whose track proved the person better after it made them (named first,
 * live or stereo a moment later): the day record takes the higher assurance, and this row keeps
 * what it was before, what it became, when, and the signed events of both (the decision's, and the
 * `attendance/upgraded` that raised it).
 */
export function createAttendanceUpgradesTable(db: Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS attendance_upgrades (
      record_id     TEXT    NOT NULL,
      kind          TEXT    NOT NULL CHECK (kind IN ('check_in', 'check_out')),
      at_ms         INTEGER NOT NULL,
      camera        TEXT    NOT NULL,
      track         INTEGER NOT NULL,
      from_assurance TEXT   NOT NULL CHECK (from_assurance IN ${ONE_OF}),
      to_assurance  TEXT    NOT NULL CHECK (to_assurance IN ${ONE_OF}),
      upgrades      TEXT    NOT NULL,
      event_id      TEXT    NOT NULL,
      upgraded_ms   INTEGER NOT NULL,
      PRIMARY KEY (record_id, kind, at_ms, to_assurance)
    ) WITHOUT ROWID;
  `);
}

export const ATTENDANCE_UPGRADES_MIGRATION: Migration = {
  version: 21,
  description: 'attendance: check-ins and check-outs whose track proved the person better afterwards, with the assurance before and after',
  up: createAttendanceUpgradesTable,
};
