import type { Migration } from '../migrate.js';

/**
 * Each camera's counts of the local day, in the state file: Home Assistant reads them as
 * `total_increasing` sensors, for which a count that falls is a new cycle. Kept only in memory, a
 * restart in the middle of the day would read as a meter reset and lose the morning's count.
 */
export const EVENTS_DAY_COUNTERS_MIGRATION: Migration = {
  version: 6,
  description: "events: each camera's recognised / unknown / spoof counts of the local day",
  up(db) {
    db.exec(`
      CREATE TABLE camera_day_counts (
        camera     TEXT    PRIMARY KEY,
        day        TEXT    NOT NULL,
        recognized INTEGER NOT NULL,
        unknown    INTEGER NOT NULL,
        spoof      INTEGER NOT NULL,
        last_event TEXT
      ) WITHOUT ROWID;
    `);
  },
};
