import type { Database } from 'better-sqlite3';
import type { Migration } from '../store/migrate.js';

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

export type CountKind = 'recognized' | 'unknown' | 'spoof';

export interface DayCounts {
  recognized_today: number;
  unknown_today: number;
  spoof_today: number;
  last_event: string | null;
}

const ZERO: DayCounts = { recognized_today: 0, unknown_today: 0, spoof_today: 0, last_event: null };

interface Row {
  day: string;
  recognized: number;
  unknown: number;
  spoof: number;
  last_event: string | null;
}

/** One row per camera: the day it counts and its counts; another day's row reads as zero. */
export class DayCounters {
  private readonly read;
  private readonly write;

  constructor(db: Database) {
    this.read = db.prepare<[string], Row>('SELECT day, recognized, unknown, spoof, last_event FROM camera_day_counts WHERE camera = ?');
    this.write = db.prepare('INSERT OR REPLACE INTO camera_day_counts (camera, day, recognized, unknown, spoof, last_event) VALUES (?, ?, ?, ?, ?, ?)');
  }

  /** The camera's counts on `day` (zero when it has none yet that day). */
  get(camera: string, day: string): DayCounts {
    const row = this.read.get(camera);
    if (!row || row.day !== day) return { ...ZERO };
    return { recognized_today: row.recognized, unknown_today: row.unknown, spoof_today: row.spoof, last_event: row.last_event };
  }

  /** Counts one event of `kind` on `day`, at local time `at`; returns the counts after it. */
  count(camera: string, day: string, kind: CountKind, at: string): DayCounts {
    const c = this.get(camera, day);
    c[`${kind}_today`]++;
    c.last_event = at;
    this.write.run(camera, day, c.recognized_today, c.unknown_today, c.spoof_today, c.last_event);
    return c;
  }
}
