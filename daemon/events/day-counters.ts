import type { Database } from 'better-sqlite3';

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
    const counts = this.get(camera, day);
    counts[`${kind}_today`]++;
    counts.last_event = at;
    this.write.run(camera, day, counts.recognized_today, counts.unknown_today, counts.spoof_today, counts.last_event);
    return counts;
  }
}
