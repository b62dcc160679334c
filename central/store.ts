import { openDatabase, type Database } from '../daemon/store/database.js';
import type { Migration } from '../daemon/store/migrate.js';
import type { OutboxTopic } from '../contract/topics.js';
import { pinnedKeyFromJwk, type PinnedKey } from '../contract/signature.js';
import { missingRanges, sizeOf, type SeqRange } from '../contract/seq-ranges.js';
import { ASSURANCES, type Assurance } from '../contract/assurance.js';
import { assuranceStrengthSql, DOOR_MAX, sharesFromJson, sharesJson, strongestOf, type AttendanceMark, type Shares, type BoxGaps, type BoxReplayStatus, type CentralStorage, type TimesheetFilter, type TimesheetRow } from './storage.js';

export type { AttendanceMark, BoxGaps, BoxReplayStatus, TimesheetFilter, TimesheetRow } from './storage.js';

/**
 * The central consumer's own SQLite file (not a box's state file, whose schema is daemon/store/migrations.ts):
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
  {
    version: 2,
    description: "central: each event's box sequence number, boxes' high-water marks, ranges a box reported gone, what was asked for again",
    up(db) {
      // Not unique: a box put back on an older state file numbers again from an older point, with
      // new ids; the id stays what tells events apart.
      db.exec(`
        ALTER TABLE central_events ADD COLUMN seq INTEGER;
        CREATE INDEX central_events_seq ON central_events (base, seq) WHERE seq IS NOT NULL;
        CREATE TABLE central_sequence (
          base TEXT PRIMARY KEY,
          device TEXT NOT NULL,
          high_seq INTEGER NOT NULL,
          updated_at TEXT NOT NULL
        ) STRICT;
        CREATE TABLE central_gone (
          base TEXT NOT NULL,
          from_seq INTEGER NOT NULL,
          to_seq INTEGER NOT NULL,
          reported_at TEXT NOT NULL,
          PRIMARY KEY (base, from_seq, to_seq)
        ) STRICT;
        CREATE TABLE central_replay_asked (
          base TEXT PRIMARY KEY,
          requests INTEGER NOT NULL,
          numbers INTEGER NOT NULL,
          last_from INTEGER NOT NULL,
          last_to INTEGER NOT NULL,
          last_at TEXT NOT NULL
        ) STRICT;
      `);
    },
  },
  {
    version: 3,
    description: 'central: a check-in or check-out withdrawn by its box (attendance/retracted) leaves the timesheet',
    up(db) {
      // The index lets a check-in find a withdrawal that came before it without reading every event.
      db.exec(`
        ALTER TABLE central_attendance ADD COLUMN retracted_by TEXT;
        CREATE INDEX central_events_retracts ON central_events (base, json_extract(body, '$.retracts')) WHERE topic = 'attendanceRetracted';
      `);
    },
  },
  {
    version: 4,
    description: 'central: what proved each check-in and check-out (its assurance), for the timesheet and its filter',
    up(db) {
      // Marks stored before this step came from boxes whose one rule was a live recognition (a box
      // sent no assurance before it had another rule), so each of them was proven live.
      db.exec(`
        ALTER TABLE central_attendance ADD COLUMN assurance TEXT NOT NULL DEFAULT 'live' CHECK (assurance IN (${ASSURANCES.map((a) => `'${a}'`).join(', ')}));
      `);
    },
  },
  {
    version: 5,
    description: 'central: the replay request each box has out, by its token id and until when it holds, for every consumer sharing the store',
    up(db) {
      // Rows of before carry no lease: their box may be asked at once, as before a restart.
      db.exec(`
        ALTER TABLE central_replay_asked ADD COLUMN jti TEXT;
        ALTER TABLE central_replay_asked ADD COLUMN lease_until TEXT;
      `);
    },
  },
  {
    version: 6,
    description: 'central: a check-in or check-out its box proved better afterwards (attendance/upgraded) takes the higher assurance',
    up(db) {
      // The index lets a check-in find the upgrades that came before it without reading every event.
      db.exec(`
        CREATE INDEX central_events_upgrades ON central_events (base, json_extract(body, '$.upgrades')) WHERE topic = 'attendanceUpgraded';
      `);
    },
  },
  {
    version: 7,
    description: "central: the door each check-in and check-out was made at (the event's door), for the timesheet and its filter",
    up(db) {
      // Marks stored before this step keep the door their event named, where it named one: boxes
      // sent it before the consumer kept it. Events from boxes before doors, and of cameras in no
      // door, have none (NULL).
      db.exec(`
        ALTER TABLE central_attendance ADD COLUMN door TEXT;
        UPDATE central_attendance SET door = (
          SELECT json_extract(e.body, '$.door') FROM central_events e
           WHERE e.id = central_attendance.event_id AND json_type(e.body, '$.door') = 'text' AND length(json_extract(e.body, '$.door')) BETWEEN 1 AND ${DOOR_MAX}
        );
      `);
    },
  },
  {
    version: 8,
    description: "central: the cues' shares behind each check-in and check-out (the event's liveness), for the timesheet",
    up(db) {
      // Marks stored before this step take the shares their event carried, where their assurance
      // is still the event's own: an upgrade before this step brought no shares, and a mark it
      // raised keeps none rather than shares that proved something else. Boxes before the shares
      // sent none (NULL).
      db.exec(`
        ALTER TABLE central_attendance ADD COLUMN liveness TEXT;
        UPDATE central_attendance SET liveness = (
          SELECT json_extract(e.body, '$.liveness') FROM central_events e
           WHERE e.id = central_attendance.event_id AND json_type(e.body, '$.liveness') = 'object'
             AND coalesce(json_extract(e.body, '$.assurance'), 'live') = central_attendance.assurance
        );
      `);
    },
  },
];

/** The central store in one SQLite file: the embedded default, for consumers on one machine. */
export class CentralStore implements CentralStorage {
  /** Per box, a number up to which every number is stored or gone (see gaps). */
  private readonly wholeUpTo = new Map<string, number>();

  private constructor(private readonly db: Database) {}

  static open(path: string): CentralStore {
    return new CentralStore(openDatabase(path, { migrations: CENTRAL_MIGRATIONS }));
  }

  pinOf(base: string): PinnedKey | undefined {
    const row = this.db.prepare('SELECT jwk FROM central_pins WHERE base = ?').get(base) as { jwk: string } | undefined;
    return row ? pinnedKeyFromJwk(JSON.parse(row.jwk)) : undefined;
  }

  /** A pinned base other than `except` whose last level (its box id, topics.ts boxIdOf) is `boxId`; the `device` column is not trusted for this, as pins made before it was checked hold what the payload claimed. */
  baseOfBox(boxId: string, except: string): string | undefined {
    const row = this.db.prepare("SELECT base FROM central_pins WHERE base <> @except AND (base = @id OR substr(base, -length(@id) - 1) = '/' || @id) ORDER BY base LIMIT 1").get({ id: boxId, except }) as { base: string } | undefined;
    return row?.base;
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
        .prepare('INSERT OR IGNORE INTO central_events (id, base, topic, type, time, received_at, body, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(signed.id, base, topic, String(signed.type), signed.time, nowIso, JSON.stringify(signed), Number.isSafeInteger(signed.seq) ? signed.seq : null).changes;
      if (inserted === 0) return 'duplicate';
      if (mark) {
        // A withdrawal can come first (replayed, or from another consumer's share of the stream).
        const withdrawn = this.db
          .prepare("SELECT id FROM central_events WHERE base = ? AND topic = 'attendanceRetracted' AND json_extract(body, '$.retracts') = ?")
          .get(base, signed.id) as { id: string } | undefined;
        // So can an upgrade: the mark takes the highest assurance said of it, with its shares.
        const upgrades = this.db
          .prepare("SELECT json_extract(body, '$.assurance') AS a, json_extract(body, '$.liveness') AS l FROM central_events WHERE base = ? AND topic = 'attendanceUpgraded' AND json_extract(body, '$.upgrades') = ?")
          .all(base, signed.id) as { a: unknown; l: unknown }[];
        const proven = strongestOf(mark, upgrades);
        this.db
          .prepare('INSERT INTO central_attendance (event_id, base, employee, type, day, at_ms, retracted_by, assurance, door, liveness) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
          .run(signed.id, base, mark.employee, mark.type, mark.day, mark.atMs, withdrawn?.id ?? null, proven.assurance, mark.door, sharesJson(proven.liveness));
      }
      return 'stored';
    }).immediate();
  }

  /**
   * A box withdrew one of its check-ins or check-outs (attendance/retracted): the mark stays, named
   * by the withdrawal, and leaves the timesheet. Only the box that made a decision withdraws it.
   * Returns the day whose timesheet changed, if the mark is here.
   */
  retract(base: string, withdrawalId: string, retracts: string): string | undefined {
    const row = this.db.prepare('SELECT day FROM central_attendance WHERE event_id = ? AND base = ?').get(retracts, base) as { day: string } | undefined;
    if (!row) return undefined;
    this.db.prepare('UPDATE central_attendance SET retracted_by = ? WHERE event_id = ? AND base = ? AND retracted_by IS NULL').run(withdrawalId, retracts, base);
    return row.day;
  }

  /**
   * A box proved one of its check-ins or check-outs better (attendance/upgraded): the mark takes the
   * higher assurance and the shares that raised it, never a lower one, whatever order the upgrades
   * come in. Only the box that made a decision raises it. Returns the day whose timesheet may have
   * changed, if the mark is here.
   */
  upgrade(base: string, upgrades: string, assurance: Assurance, liveness: Shares | null): string | undefined {
    const row = this.db.prepare('SELECT day FROM central_attendance WHERE event_id = ? AND base = ?').get(upgrades, base) as { day: string } | undefined;
    if (!row) return undefined;
    this.db
      .prepare(`UPDATE central_attendance SET assurance = @to, liveness = @liveness WHERE event_id = @id AND base = @base AND ${assuranceStrengthSql('assurance')} < ${assuranceStrengthSql('@to')}`)
      .run({ to: assurance, liveness: sharesJson(liveness), id: upgrades, base });
    return row.day;
  }

  /**
   * Every employee seen on `day`: the first check-in and the last check-out that stand, across
   * boxes, each with what proved it and the door it was made at. `filter.assurances` keeps only the
   * marks proven so (a site's HR may count only check-ins a camera proved live), `filter.doors`
   * only those made at these doors (a mark of a camera in no door is at none of them); every mark
   * counts without them.
   */
  timesheet(day: string, filter: TimesheetFilter = {}): TimesheetRow[] {
    const assurances = filter.assurances ?? ASSURANCES;
    if (assurances.length === 0 || filter.doors?.length === 0) return [];
    const atDoors = filter.doors ? ` AND door IN (${filter.doors.map(() => '?').join(', ')})` : '';
    const rows = this.db
      .prepare(
        `WITH marks AS (
           SELECT event_id, employee, type, at_ms, assurance, door, liveness FROM central_attendance
            WHERE day = ? AND retracted_by IS NULL AND assurance IN (${assurances.map(() => '?').join(', ')})${atDoors}
         ),
         firsts AS (SELECT employee, at_ms, assurance, door, liveness, row_number() OVER (PARTITION BY employee ORDER BY at_ms, assurance, coalesce(door, ''), event_id) AS n FROM marks WHERE type = 'check_in'),
         lasts AS (SELECT employee, at_ms, assurance, door, liveness, row_number() OVER (PARTITION BY employee ORDER BY at_ms DESC, assurance, coalesce(door, ''), event_id) AS n FROM marks WHERE type = 'check_out')
         SELECT e.employee, f.at_ms AS firstInMs, f.assurance AS firstInAssurance, f.door AS firstInDoor, f.liveness AS firstInLiveness,
                l.at_ms AS lastOutMs, l.assurance AS lastOutAssurance, l.door AS lastOutDoor, l.liveness AS lastOutLiveness
           FROM (SELECT DISTINCT employee FROM marks) e
           LEFT JOIN firsts f ON f.employee = e.employee AND f.n = 1
           LEFT JOIN lasts l ON l.employee = e.employee AND l.n = 1
          ORDER BY e.employee`,
      )
      .all(day, ...assurances, ...(filter.doors ?? [])) as Array<Omit<TimesheetRow, 'day' | 'firstInLiveness' | 'lastOutLiveness'> & { firstInLiveness: unknown; lastOutLiveness: unknown }>;
    return rows.map((r) => ({ ...r, day, firstInLiveness: sharesFromJson(r.firstInLiveness), lastOutLiveness: sharesFromJson(r.lastOutLiveness) }));
  }

  /** A box's signed high-water mark (bridge/sequence); never lowered by an older one arriving late. */
  raiseHigh(base: string, device: string, seq: number, nowIso: string): void {
    this.db
      .prepare('INSERT INTO central_sequence (base, device, high_seq, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (base) DO UPDATE SET device = excluded.device, high_seq = max(high_seq, excluded.high_seq), updated_at = excluded.updated_at')
      .run(base, device, seq, nowIso);
  }

  /**
   * Ranges the box said it no longer holds: never asked for again. Only their parts that were
   * neither stored nor known gone are kept, so the rows stay disjoint and add up to what was lost;
   * those parts are returned.
   */
  markGone(base: string, ranges: readonly SeqRange[], nowIso: string): SeqRange[] {
    const insert = this.db.prepare('INSERT OR IGNORE INTO central_gone (base, from_seq, to_seq, reported_at) VALUES (?, ?, ?, ?)');
    return this.db.transaction(() => {
      const held = this.held(base);
      const fresh: SeqRange[] = [];
      for (const [a, b] of ranges) {
        const lost = missingRanges(a, b, held);
        for (const r of lost) insert.run(base, r[0], r[1], nowIso);
        held.push(...lost);
        fresh.push(...lost);
      }
      return fresh;
    })();
  }

  /**
   * One conditional upsert, atomic under SQLite's write lock: the request is counted and its
   * lease taken only where none holds (times are ISO strings in UTC, which order as text).
   */
  claimAsk(base: string, range: SeqRange, jti: string, nowIso: string, leaseUntilIso: string): boolean {
    return (
      this.db
        .prepare(
          `INSERT INTO central_replay_asked (base, requests, numbers, last_from, last_to, last_at, jti, lease_until) VALUES (?, 1, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (base) DO UPDATE SET requests = requests + 1, numbers = numbers + excluded.numbers, last_from = excluded.last_from, last_to = excluded.last_to, last_at = excluded.last_at, jti = excluded.jti, lease_until = excluded.lease_until
           WHERE central_replay_asked.lease_until IS NULL OR central_replay_asked.lease_until <= excluded.last_at`,
        )
        .run(base, sizeOf(range), range[0], range[1], nowIso, jti, leaseUntilIso).changes === 1
    );
  }

  releaseAsk(base: string, jti: string): void {
    this.db.prepare('UPDATE central_replay_asked SET lease_until = NULL WHERE base = ? AND jti = ?').run(base, jti);
  }

  /** SQLite is a file beside the consumer: an error writing it is no outage to wait out. */
  unavailable(): boolean {
    return false;
  }

  /** The numbers of a box above `after` stored or reported gone, as ranges (overlapping, unordered). */
  private held(base: string, after = 0): SeqRange[] {
    const stored = this.db.prepare(
      `SELECT min(seq) AS a, max(seq) AS b FROM (
         SELECT seq, seq - row_number() OVER (ORDER BY seq) AS island FROM (SELECT DISTINCT seq FROM central_events WHERE base = ? AND seq > ?)
       ) GROUP BY island`,
    );
    const gone = this.db.prepare('SELECT from_seq AS a, to_seq AS b FROM central_gone WHERE base = ? AND to_seq > ?');
    return [...(stored.all(base, after) as { a: number; b: number }[]), ...(gone.all(base, after) as { a: number; b: number }[])].map((r): SeqRange => [r.a, r.b]);
  }

  /**
   * Every box with a high-water mark and what it misses, from the database alone: consumers of one
   * shared group that share this file each store part of the events, so no one of them could tell
   * a gap from what it saw itself. Numbers above the highest event stored count up to the mark.
   */
  gaps(): BoxGaps[] {
    const boxes = this.db.prepare('SELECT base, device, high_seq FROM central_sequence ORDER BY base').all() as { base: string; device: string; high_seq: number }[];
    return boxes.map((box) => {
      const top = Math.max(box.high_seq, (this.db.prepare('SELECT coalesce(max(seq), 0) AS m FROM central_events WHERE base = ?').get(box.base) as { m: number }).m);
      // Numbers once held stay held (stored events and gone ranges are never deleted), so only what
      // lies above the last prefix found whole is read again: the check runs every few seconds.
      const whole = this.wholeUpTo.get(box.base) ?? 0;
      const missing = top > whole ? missingRanges(whole + 1, top, this.held(box.base, whole)) : [];
      this.wholeUpTo.set(box.base, missing.length ? missing[0]![0] - 1 : top);
      return { base: box.base, device: box.device, high: top, missing };
    });
  }

  /** Per box with a high-water mark, what replay asked for and what the box reported gone. */
  replayStatus(): BoxReplayStatus[] {
    const stored = this.db.prepare('SELECT count(DISTINCT seq) AS n FROM central_events WHERE base = ? AND seq IS NOT NULL');
    const asked = this.db.prepare('SELECT requests, numbers, last_from, last_to, last_at FROM central_replay_asked WHERE base = ?');
    const gone = this.db.prepare('SELECT coalesce(sum(to_seq - from_seq + 1), 0) AS numbers, count(*) AS ranges, max(reported_at) AS lastAt FROM central_gone WHERE base = ?');
    return this.gaps().map((box) => {
      const a = asked.get(box.base) as { requests: number; numbers: number; last_from: number; last_to: number; last_at: string } | undefined;
      return {
        base: box.base,
        device: box.device,
        high: box.high,
        stored: (stored.get(box.base) as { n: number }).n,
        missing: box.missing.reduce((n, r) => n + sizeOf(r), 0),
        asked: a ? { requests: a.requests, numbers: a.numbers, last: { from: a.last_from, to: a.last_to, at: a.last_at } } : { requests: 0, numbers: 0, last: null },
        gone: gone.get(box.base) as { numbers: number; ranges: number; lastAt: string | null },
      };
    });
  }

  /** How many events were accepted (for tests and status). */
  eventCount(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM central_events').get() as { n: number }).n;
  }

  pinCount(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM central_pins').get() as { n: number }).n;
  }

  close(): void {
    this.db.close();
  }
}
