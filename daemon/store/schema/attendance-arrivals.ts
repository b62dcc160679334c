import type { Database } from 'better-sqlite3';
import type { Migration } from '../migrate.js';

/**
 * Unverified arrivals: a person recognised at an entry camera whose sighting did not reach the
 * camera's `attendance.require`, kept for a person to review instead of being left out. One row per
 * person and shift day here (the first such sighting of the day is the arrival; step 25 keeps that
 * for pending rows only); its face crops are sealed like proofs, in a table of their own so that
 * they go with the row. A review keeps the row (confirmed with the day record it made, or rejected
 * with its reason), who made it and when.
 */
export function createAttendanceArrivalsTables(db: Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS attendance_arrivals (
      id           TEXT    PRIMARY KEY,
      person_id    TEXT    NOT NULL,
      group_name   TEXT,
      date         TEXT    NOT NULL,
      camera       TEXT    NOT NULL,
      track        INTEGER,
      at_ms        INTEGER NOT NULL,
      assurance    TEXT    NOT NULL CHECK (assurance IN ('stereo', 'live', 'recognised')),
      required     TEXT    NOT NULL CHECK (required IN ('stereo', 'live', 'recognised')),
      liveness     TEXT    NOT NULL,
      missing      TEXT    NOT NULL,
      refused      TEXT,
      status       TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'confirmed', 'rejected')),
      reason       TEXT    CHECK (reason IN ('wrong_person', 'picture', 'other')),
      note         TEXT,
      reviewed_by  TEXT,
      reviewed_ms  INTEGER,
      record_id    TEXT,
      UNIQUE (person_id, date)
    );
    CREATE INDEX IF NOT EXISTS attendance_arrivals_by_status ON attendance_arrivals (status, at_ms);
    CREATE INDEX IF NOT EXISTS attendance_arrivals_by_time ON attendance_arrivals (at_ms);
    CREATE TABLE IF NOT EXISTS attendance_arrival_crops (
      arrival_id TEXT    NOT NULL REFERENCES attendance_arrivals (id) ON DELETE CASCADE,
      n          INTEGER NOT NULL CHECK (n BETWEEN 1 AND 3),
      sealed     BLOB    NOT NULL,
      PRIMARY KEY (arrival_id, n)
    ) WITHOUT ROWID;
  `);
}

export const ATTENDANCE_ARRIVALS_MIGRATION: Migration = {
  version: 18,
  description: 'attendance: unverified arrivals (recognised below the camera requirement) with sealed face crops, for review',
  up: createAttendanceArrivalsTables,
};

/**
 * A check-in withdrawn because its track was refused afterwards leaves the person recognised but
 * checked in by nothing: they are kept as an arrival to review, which names the signed check-in
 * event withdrawn. Arrivals from before this step, and those below a camera's requirement, name
 * none.
 */
export function addArrivalRetracts(db: Database): void {
  db.exec('ALTER TABLE attendance_arrivals ADD COLUMN retracts TEXT');
}

export const ATTENDANCE_ARRIVAL_RETRACTS_MIGRATION: Migration = {
  version: 24,
  description: 'attendance: an arrival kept for review when its check-in was withdrawn names the check-in event withdrawn',
  up: addArrivalRetracts,
};

/**
 * At most one arrival per person and day waits for review, and a reviewed one no longer holds the
 * day: a person whose arrival was rejected (the wrong person named at 08:10) and who comes at 09:00
 * unproven is kept again. SQLite cannot drop a table's UNIQUE, so both tables are made again, the
 * day's uniqueness a partial index on pending rows, and every row and sealed crop copied across
 * (the crops are sealed for their arrival's id and person, which stay as they were). The crops go
 * into their new table before the old arrivals are dropped: with foreign keys on, dropping those
 * would cascade to them. Renaming the new arrivals table carries the crops' reference with it.
 */
export function pendingArrivalPerDay(db: Database): void {
  db.exec(`
    CREATE TABLE attendance_arrivals_pending (
      id           TEXT    PRIMARY KEY,
      person_id    TEXT    NOT NULL,
      group_name   TEXT,
      date         TEXT    NOT NULL,
      camera       TEXT    NOT NULL,
      track        INTEGER,
      at_ms        INTEGER NOT NULL,
      assurance    TEXT    NOT NULL CHECK (assurance IN ('stereo', 'live', 'recognised')),
      required     TEXT    NOT NULL CHECK (required IN ('stereo', 'live', 'recognised')),
      liveness     TEXT    NOT NULL,
      missing      TEXT    NOT NULL,
      refused      TEXT,
      status       TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'confirmed', 'rejected')),
      reason       TEXT    CHECK (reason IN ('wrong_person', 'picture', 'other')),
      note         TEXT,
      reviewed_by  TEXT,
      reviewed_ms  INTEGER,
      record_id    TEXT,
      retracts     TEXT
    );
    INSERT INTO attendance_arrivals_pending (id, person_id, group_name, date, camera, track, at_ms, assurance, required, liveness, missing, refused, status, reason, note, reviewed_by, reviewed_ms, record_id, retracts)
      SELECT id, person_id, group_name, date, camera, track, at_ms, assurance, required, liveness, missing, refused, status, reason, note, reviewed_by, reviewed_ms, record_id, retracts FROM attendance_arrivals;
    CREATE TABLE attendance_arrival_crops_pending (
      arrival_id TEXT    NOT NULL REFERENCES attendance_arrivals_pending (id) ON DELETE CASCADE,
      n          INTEGER NOT NULL CHECK (n BETWEEN 1 AND 3),
      sealed     BLOB    NOT NULL,
      PRIMARY KEY (arrival_id, n)
    ) WITHOUT ROWID;
    INSERT INTO attendance_arrival_crops_pending (arrival_id, n, sealed) SELECT arrival_id, n, sealed FROM attendance_arrival_crops;
    DROP TABLE attendance_arrival_crops;
    DROP TABLE attendance_arrivals;
    ALTER TABLE attendance_arrivals_pending RENAME TO attendance_arrivals;
    ALTER TABLE attendance_arrival_crops_pending RENAME TO attendance_arrival_crops;
    CREATE UNIQUE INDEX attendance_arrivals_pending_per_day ON attendance_arrivals (person_id, date) WHERE status = 'pending';
    CREATE INDEX attendance_arrivals_by_person ON attendance_arrivals (person_id, date);
    CREATE INDEX attendance_arrivals_by_status ON attendance_arrivals (status, at_ms);
    CREATE INDEX attendance_arrivals_by_time ON attendance_arrivals (at_ms);
  `);
}

export const ATTENDANCE_PENDING_ARRIVAL_MIGRATION: Migration = {
  version: 25,
  description: 'attendance: at most one pending arrival per person and day; a reviewed one no longer keeps the day from another',
  up: pendingArrivalPerDay,
};
