import type { Database } from 'better-sqlite3';
import type { Migration } from '../migrate.js';

/**
 * What each camera decided about each face (recognised, unknown, spoof suspected, low quality, too
 * small), with the track's face crop sealed where it had one: what a technician opens first when
 * someone says "it didn't let me in". Kept `retention.timeline_days`; erased with the person.
 */
export function createTimelineTable(db: Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS timeline (
      id        INTEGER PRIMARY KEY AUTOINCREMENT,
      at_ms     INTEGER NOT NULL,
      camera    TEXT    NOT NULL,
      kind      TEXT    NOT NULL,
      person_id TEXT,
      anon_id   TEXT,
      score     REAL,
      detail    TEXT    NOT NULL,
      crop      BLOB
    );
    CREATE INDEX IF NOT EXISTS timeline_at ON timeline (at_ms);
    CREATE INDEX IF NOT EXISTS timeline_person ON timeline (person_id, at_ms);
  `);
}

export const TIMELINE_MIGRATION: Migration = {
  version: 13,
  description: 'timeline: every decision of every camera, with its sealed face crop',
  up: createTimelineTable,
};
