import { openDatabase, type Database } from '../store/database.js';
import type { Migration } from '../store/migrate.js';
import type { OutboxTopic } from '../events/topics.js';
import { pinnedKeyFromJwk, type PinnedKey } from '../events/verify.js';

/**
 * The central consumer's own SQLite file (not a box's state file, whose schema is store/migrations.ts):
 * the keys pinned on first use, every accepted event by id (which is how duplicates are dropped, across
 * restarts too), and the check-ins and check-outs the timesheet is made of.
 */
export const CENTRAL_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'central: pinned keys, accepted events, attendance log',
    up(db) {
      db.exec(`
        CREATE TABLE central_pins (
          base TEXT PRIMARY KEY,
          kid TEXT NOT NULL,
          jwk TEXT NOT NULL,
          device TEXT NOT NULL,
          pinned_at TEXT NOT NULL
        ) STRICT;
        CREATE TABLE central_events (
          id TEXT PRIMARY KEY,
          base TEXT NOT NULL,
          topic TEXT NOT NULL,
          type TEXT NOT NULL,
          time TEXT NOT NULL,
          received_at TEXT NOT NULL,
          body TEXT NOT NULL
        ) STRICT;
        CREATE TABLE central_attendance (
          event_id TEXT PRIMARY KEY REFERENCES central_events(id),
          base TEXT NOT NULL,
          employee TEXT NOT NULL,
          type TEXT NOT NULL CHECK (type IN ('check_in', 'check_out')),
          day TEXT NOT NULL,
          at_ms INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX central_attendance_day ON central_attendance (day, employee);
      `);
    },
  },
];

/** One employee's day as the timesheet shows it: instants in ms, null when there was none. */
export interface TimesheetRow {
  readonly employee: string;
  readonly day: string;
  readonly firstInMs: number | null;
  readonly lastOutMs: number | null;
}

/** An accepted check-in or check-out: `employee` is the external id, else the box's person id. */
export interface AttendanceMark {
  readonly employee: string;
  readonly type: 'check_in' | 'check_out';
  readonly day: string;
  readonly atMs: number;
}

export class CentralStore {
  private constructor(private readonly db: Database) {}

  static open(path: string): CentralStore {
    return new CentralStore(openDatabase(path, { migrations: CENTRAL_MIGRATIONS }));
  }

  pinOf(base: string): PinnedKey | undefined {
    const row = this.db.prepare('SELECT jwk FROM central_pins WHERE base = ?').get(base) as { jwk: string } | undefined;
    return row ? pinnedKeyFromJwk(JSON.parse(row.jwk)) : undefined;
  }

  /** Pins a box's key once; a later call for the same base changes nothing and says false. */
  pin(base: string, key: PinnedKey, device: string, nowIso: string): boolean {
    return this.db.prepare('INSERT OR IGNORE INTO central_pins (base, kid, jwk, device, pinned_at) VALUES (?, ?, ?, ?, ?)').run(base, key.kid, JSON.stringify(key.jwk), device, nowIso).changes === 1;
  }

  /**
   * Keeps a verified event and its attendance mark together, or says it was had already (its id
   * is known): the id is the only thing that tells a redelivery or a replay from a new event.
   */
  record(base: string, topic: OutboxTopic, signed: Readonly<Record<string, unknown>>, mark: AttendanceMark | undefined, nowIso: string): 'stored' | 'duplicate' {
    return this.db.transaction(() => {
      const inserted = this.db
        .prepare('INSERT OR IGNORE INTO central_events (id, base, topic, type, time, received_at, body) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(signed.id, base, topic, String(signed.type), signed.time, nowIso, JSON.stringify(signed)).changes;
      if (inserted === 0) return 'duplicate';
      if (mark) {
        this.db.prepare('INSERT INTO central_attendance (event_id, base, employee, type, day, at_ms) VALUES (?, ?, ?, ?, ?, ?)').run(signed.id, base, mark.employee, mark.type, mark.day, mark.atMs);
      }
      return 'stored';
    }).immediate();
  }

  /** Every employee seen on `day`: the first check-in and the last check-out, across boxes. */
  timesheet(day: string): TimesheetRow[] {
    return (
      this.db
        .prepare(
          `SELECT employee, day,
             MIN(CASE WHEN type = 'check_in' THEN at_ms END) AS firstInMs,
             MAX(CASE WHEN type = 'check_out' THEN at_ms END) AS lastOutMs
           FROM central_attendance WHERE day = ? GROUP BY employee ORDER BY employee`,
        )
        .all(day) as TimesheetRow[]
    ).map((r) => ({ employee: r.employee, day: r.day, firstInMs: r.firstInMs, lastOutMs: r.lastOutMs }));
  }

  /** How many events were accepted (for tests and status). */
  eventCount(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM central_events').get() as { n: number }).n;
  }

  close(): void {
    this.db.close();
  }
}
