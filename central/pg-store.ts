import pg from 'pg';
import { FacegateError } from '../daemon/base/errors.js';
import type { OutboxTopic } from '../contract/topics.js';
import { pinnedKeyFromJwk, type PinnedKey } from '../contract/signature.js';
import { missingRanges, sizeOf, type SeqRange } from '../contract/seq-ranges.js';
import { ASSURANCES, type Assurance } from '../contract/assurance.js';
import { assuranceStrengthSql, sharesFromJson, sharesJson, strongestOf, type AttendanceMark, type Shares, type BoxGaps, type BoxReplayStatus, type CentralStorage, type TimesheetFilter, type TimesheetRow } from './storage.js';
import { PG_MIGRATIONS } from './pg-migrations.js';
import { maskedStoreUrl } from './store-url.js';

/**
 * The first key of every advisory lock this store takes (the second is a hash of a box's base, or
 * 0 for the migrations): one number of its own, so that no other application's locks on the same
 * server collide with them.
 */
const LOCK_CLASS = 0x46_47; // "FG"

/** int8 (bigint: seq, at_ms, count) as a number: every one this store keeps is a safe integer. */
const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === pg.types.builtins.INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format))) as typeof pg.types.getTypeParser,
};

/** SQLSTATE classes and codes of a server that is away for now, and the socket's own words for it. */
const AWAY_SQLSTATE = /^(08|57P0[123]|53300)/;
/** The longest a query may take before the store counts as away. */
const QUERY_TIMEOUT_MS = 30_000;
const AWAY_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

export interface PgStoreOptions {
  /** The connections one consumer may hold: its messages come one at a time, its replay check beside them. */
  poolMax?: number;
  /** How long a connection may take to open before the store counts as away. */
  connectTimeoutMs?: number;
  /** Make the tables in a database that has none (the consumer); false for the commands that only read it, which refuse such a database (FG_ERR_DB_MISSING) rather than hide a wrong URL. */
  create?: boolean;
}

/**
 * The central store on PostgreSQL, for consumers on several machines that share one database and
 * one subscription group (docs/mqtt.md#central-on-postgresql). The tables and migrations mean what
 * store.ts's mean; what differs is how several writers stay right:
 *
 * - an event is stored once by its id (the primary key, `ON CONFLICT DO NOTHING`), whichever
 *   consumer the broker hands it, how often, and in whichever order;
 * - each transaction that reads a box's rows to decide what to write (an event and its mark, a
 *   withdrawal, gone ranges) first takes that box's advisory lock (`pg_advisory_xact_lock`), so
 *   that a check-in and its withdrawal stored at once by two consumers still meet, and gone ranges
 *   stay disjoint; the lock is held to the commit and never across boxes, so boxes do not wait for
 *   each other;
 * - the replay request a box has out is a lease in `central_replay_asked`, taken by one
 *   conditional upsert (the row's lock decides which consumer wins) and ended by whichever
 *   consumer reads the answer.
 *
 * Only parameterised queries: nothing from a message is ever part of a statement's text.
 */
export class PgCentralStore implements CentralStorage {
  /** Per box, a number up to which every number is stored or gone (held numbers are never deleted, by any consumer). */
  private readonly wholeUpTo = new Map<string, number>();

  private constructor(
    private readonly pool: pg.Pool,
    readonly where: string,
  ) {}

  /**
   * Connects, checks the server answers, and brings the schema to the newest version (once, under
   * an advisory lock, however many consumers start at once). Throws FG_ERR_CENTRAL_STORE_UNREACHABLE
   * or FG_ERR_DB_TOO_NEW, never with the URL's password.
   */
  static async open(url: string, options: PgStoreOptions = {}): Promise<PgCentralStore> {
    const where = maskedStoreUrl(url);
    // A query that hangs (a server gone without closing the connection) ends in QUERY_TIMEOUT_MS,
    // and counts as the store away: the message waits and is tried again on a fresh connection.
    const pool = new pg.Pool({
      connectionString: url,
      max: options.poolMax ?? 4,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      query_timeout: QUERY_TIMEOUT_MS,
      keepAlive: true,
      types: TYPES,
      application_name: 'facegate-central',
    });
    // An idle connection the server dropped (a restart) is reported here; the next query opens another.
    pool.on('error', () => {});
    const store = new PgCentralStore(pool, where);
    try {
      await store.migrate(options.create ?? true);
    } catch (e) {
      await pool.end().catch(() => {});
      if (e instanceof FacegateError) throw e;
      throw new FacegateError('FG_ERR_CENTRAL_STORE_UNREACHABLE', `PostgreSQL at ${where} refused or did not answer: ${reason(e)}`, 'check that the server runs and listens there, the user, its password and the database name, and pg_hba.conf for this host');
    }
    return store;
  }

  private async migrate(create: boolean): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      if (!create && (await client.query<{ t: string | null }>("SELECT to_regclass('central_schema')::text AS t")).rows[0]!.t === null) {
        throw new FacegateError('FG_ERR_DB_MISSING', `the central database at ${this.where} has no central tables`, 'check the store URL in the central config; `facegate central` makes its tables at its first start');
      }
      await client.query('SELECT pg_advisory_xact_lock($1, 0)', [LOCK_CLASS]);
      await client.query('CREATE TABLE IF NOT EXISTS central_schema (version integer NOT NULL, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (version))');
      const from = (await client.query<{ v: number }>('SELECT coalesce(max(version), 0) AS v FROM central_schema')).rows[0]!.v;
      if (from > PG_MIGRATIONS.length) {
        throw new FacegateError('FG_ERR_DB_TOO_NEW', `the central database at ${this.where} has schema version ${from}, newer than this facegate knows (${PG_MIGRATIONS.length})`, 'run the facegate version that wrote it, or restore a backup made for this version');
      }
      for (const m of PG_MIGRATIONS.slice(from)) {
        await client.query(m.sql);
        await client.query('INSERT INTO central_schema (version, description) VALUES ($1, $2)', [m.version, m.description]);
      }
      await client.query('COMMIT');
      client.release();
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      client.release(true);
      throw e;
    }
  }

  /** `fn` in one transaction holding the advisory lock of `base`'s rows. */
  private async underBoxLock<T>(base: string, fn: (q: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_CLASS, base]);
      const result = await fn(client);
      await client.query('COMMIT');
      client.release();
      return result;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      // Not back to the pool: after a timeout or a lost server its state is unknown.
      client.release(true);
      throw e;
    }
  }

  async pinOf(base: string): Promise<PinnedKey | undefined> {
    const row = (await this.pool.query<{ jwk: string }>('SELECT jwk FROM central_pins WHERE base = $1', [base])).rows[0];
    return row ? pinnedKeyFromJwk(JSON.parse(row.jwk)) : undefined;
  }

  async baseOfBox(boxId: string, except: string): Promise<string | undefined> {
    const rows = await this.pool.query<{ base: string }>("SELECT base FROM central_pins WHERE base <> $2 AND (base = $1 OR right(base, length($1) + 1) = '/' || $1) ORDER BY base LIMIT 1", [boxId, except]);
    return rows.rows[0]?.base;
  }

  async pin(base: string, key: PinnedKey, device: string, nowIso: string): Promise<boolean> {
    const r = await this.pool.query('INSERT INTO central_pins (base, kid, jwk, device, pinned_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (base) DO NOTHING', [base, key.kid, JSON.stringify(key.jwk), device, nowIso]);
    return r.rowCount === 1;
  }

  record(base: string, topic: OutboxTopic, signed: Readonly<Record<string, unknown>>, mark: AttendanceMark | undefined, nowIso: string): Promise<'stored' | 'duplicate'> {
    return this.underBoxLock(base, async (q) => {
      const inserted = await q.query(
        'INSERT INTO central_events (id, base, topic, type, time, received_at, body, seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING',
        [signed.id, base, topic, String(signed.type), signed.time, nowIso, JSON.stringify(signed), Number.isSafeInteger(signed.seq) ? signed.seq : null],
      );
      if (inserted.rowCount === 0) return 'duplicate';
      if (mark) {
        // A withdrawal can come first (replayed, or through another consumer of the group).
        const withdrawn = (await q.query<{ id: string }>("SELECT id FROM central_events WHERE base = $1 AND topic = 'attendanceRetracted' AND (body::jsonb ->> 'retracts') = $2 LIMIT 1", [base, signed.id])).rows[0];
        // So can an upgrade: the mark takes the highest assurance said of it, with its shares.
        const upgrades = (await q.query<{ a: unknown; l: unknown }>("SELECT body::jsonb ->> 'assurance' AS a, body::jsonb ->> 'liveness' AS l FROM central_events WHERE base = $1 AND topic = 'attendanceUpgraded' AND (body::jsonb ->> 'upgrades') = $2", [base, signed.id])).rows;
        const proven = strongestOf(mark, upgrades);
        await q.query('INSERT INTO central_attendance (event_id, base, employee, type, day, at_ms, retracted_by, assurance, door, liveness) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)', [
          signed.id, base, mark.employee, mark.type, mark.day, mark.atMs, withdrawn?.id ?? null, proven.assurance, mark.door, sharesJson(proven.liveness),
        ]);
      }
      return 'stored';
    });
  }

  retract(base: string, withdrawalId: string, retracts: string): Promise<string | undefined> {
    return this.underBoxLock(base, async (q) => {
      const row = (await q.query<{ day: string }>('SELECT day FROM central_attendance WHERE event_id = $1 AND base = $2', [retracts, base])).rows[0];
      if (!row) return undefined;
      await q.query('UPDATE central_attendance SET retracted_by = $1 WHERE event_id = $2 AND base = $3 AND retracted_by IS NULL', [withdrawalId, retracts, base]);
      return row.day;
    });
  }

  upgrade(base: string, upgrades: string, assurance: Assurance, liveness: Shares | null): Promise<string | undefined> {
    return this.underBoxLock(base, async (q) => {
      const row = (await q.query<{ day: string }>('SELECT day FROM central_attendance WHERE event_id = $1 AND base = $2', [upgrades, base])).rows[0];
      if (!row) return undefined;
      await q.query(`UPDATE central_attendance SET assurance = $1, liveness = $4 WHERE event_id = $2 AND base = $3 AND ${assuranceStrengthSql('assurance')} < ${assuranceStrengthSql('$1::text')}`, [assurance, upgrades, base, sharesJson(liveness)]);
      return row.day;
    });
  }

  async timesheet(day: string, filter: TimesheetFilter = {}): Promise<TimesheetRow[]> {
    const assurances = filter.assurances ?? ASSURANCES;
    if (assurances.length === 0 || filter.doors?.length === 0) return [];
    // Without a door filter $3 is NULL and every mark counts, those of cameras in no door too.
    const rows = await this.pool.query<Omit<TimesheetRow, 'day' | 'firstInLiveness' | 'lastOutLiveness'> & { firstInLiveness: unknown; lastOutLiveness: unknown }>(
      `WITH marks AS (
         SELECT event_id, employee, type, at_ms, assurance, door, liveness FROM central_attendance
          WHERE day = $1 AND retracted_by IS NULL AND assurance = ANY($2::text[]) AND ($3::text[] IS NULL OR door = ANY($3::text[]))
       ),
       firsts AS (SELECT employee, at_ms, assurance, door, liveness, row_number() OVER (PARTITION BY employee ORDER BY at_ms, assurance COLLATE "C", coalesce(door, '') COLLATE "C", event_id COLLATE "C") AS n FROM marks WHERE type = 'check_in'),
       lasts AS (SELECT employee, at_ms, assurance, door, liveness, row_number() OVER (PARTITION BY employee ORDER BY at_ms DESC, assurance COLLATE "C", coalesce(door, '') COLLATE "C", event_id COLLATE "C") AS n FROM marks WHERE type = 'check_out')
       SELECT e.employee, f.at_ms AS "firstInMs", f.assurance AS "firstInAssurance", f.door AS "firstInDoor", f.liveness AS "firstInLiveness",
              l.at_ms AS "lastOutMs", l.assurance AS "lastOutAssurance", l.door AS "lastOutDoor", l.liveness AS "lastOutLiveness"
         FROM (SELECT DISTINCT employee FROM marks) e
         LEFT JOIN firsts f ON f.employee = e.employee AND f.n = 1
         LEFT JOIN lasts l ON l.employee = e.employee AND l.n = 1
        ORDER BY e.employee COLLATE "C"`,
      [day, [...assurances], filter.doors ? [...filter.doors] : null],
    );
    return rows.rows.map((r) => ({ ...r, day, firstInLiveness: sharesFromJson(r.firstInLiveness), lastOutLiveness: sharesFromJson(r.lastOutLiveness) }));
  }

  async raiseHigh(base: string, device: string, seq: number, nowIso: string): Promise<void> {
    await this.pool.query(
      'INSERT INTO central_sequence (base, device, high_seq, updated_at) VALUES ($1, $2, $3, $4) ON CONFLICT (base) DO UPDATE SET device = excluded.device, high_seq = greatest(central_sequence.high_seq, excluded.high_seq), updated_at = excluded.updated_at',
      [base, device, seq, nowIso],
    );
  }

  markGone(base: string, ranges: readonly SeqRange[], nowIso: string): Promise<SeqRange[]> {
    return this.underBoxLock(base, async (q) => {
      const held = await this.held(q, base);
      const fresh: SeqRange[] = [];
      for (const [a, b] of ranges) {
        const lost = missingRanges(a, b, held);
        for (const r of lost) await q.query('INSERT INTO central_gone (base, from_seq, to_seq, reported_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [base, r[0], r[1], nowIso]);
        held.push(...lost);
        fresh.push(...lost);
      }
      return fresh;
    });
  }

  async claimAsk(base: string, range: SeqRange, jti: string, nowIso: string, leaseUntilIso: string): Promise<boolean> {
    const r = await this.pool.query(
      `INSERT INTO central_replay_asked (base, requests, numbers, last_from, last_to, last_at, jti, lease_until) VALUES ($1, 1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (base) DO UPDATE SET requests = central_replay_asked.requests + 1, numbers = central_replay_asked.numbers + excluded.numbers, last_from = excluded.last_from, last_to = excluded.last_to, last_at = excluded.last_at, jti = excluded.jti, lease_until = excluded.lease_until
       WHERE central_replay_asked.lease_until IS NULL OR central_replay_asked.lease_until <= excluded.last_at`,
      [base, sizeOf(range), range[0], range[1], nowIso, jti, leaseUntilIso],
    );
    return r.rowCount === 1;
  }

  async releaseAsk(base: string, jti: string): Promise<void> {
    await this.pool.query('UPDATE central_replay_asked SET lease_until = NULL WHERE base = $1 AND jti = $2', [base, jti]);
  }

  private async held(q: pg.Pool | pg.PoolClient, base: string, after = 0): Promise<SeqRange[]> {
    const stored = await q.query<{ a: number; b: number }>(
      `SELECT min(seq) AS a, max(seq) AS b FROM (
         SELECT seq, seq - row_number() OVER (ORDER BY seq) AS island FROM (SELECT DISTINCT seq FROM central_events WHERE base = $1 AND seq > $2) d
       ) i GROUP BY island`,
      [base, after],
    );
    const gone = await q.query<{ a: number; b: number }>('SELECT from_seq AS a, to_seq AS b FROM central_gone WHERE base = $1 AND to_seq > $2', [base, after]);
    return [...stored.rows, ...gone.rows].map((r): SeqRange => [r.a, r.b]);
  }

  async gaps(): Promise<BoxGaps[]> {
    const boxes = (await this.pool.query<{ base: string; device: string; high_seq: number }>('SELECT base, device, high_seq FROM central_sequence ORDER BY base COLLATE "C"')).rows;
    const out: BoxGaps[] = [];
    for (const box of boxes) {
      const top = Math.max(box.high_seq, (await this.pool.query<{ m: number }>('SELECT coalesce(max(seq), 0) AS m FROM central_events WHERE base = $1', [box.base])).rows[0]!.m);
      const whole = this.wholeUpTo.get(box.base) ?? 0;
      const missing = top > whole ? missingRanges(whole + 1, top, await this.held(this.pool, box.base, whole)) : [];
      this.wholeUpTo.set(box.base, missing.length ? missing[0]![0] - 1 : top);
      out.push({ base: box.base, device: box.device, high: top, missing });
    }
    return out;
  }

  async replayStatus(): Promise<BoxReplayStatus[]> {
    const out: BoxReplayStatus[] = [];
    for (const box of await this.gaps()) {
      const stored = (await this.pool.query<{ n: number }>('SELECT count(DISTINCT seq) AS n FROM central_events WHERE base = $1 AND seq IS NOT NULL', [box.base])).rows[0]!.n;
      const a = (await this.pool.query<{ requests: number; numbers: number; last_from: number; last_to: number; last_at: string }>('SELECT requests, numbers, last_from, last_to, last_at FROM central_replay_asked WHERE base = $1', [box.base])).rows[0];
      const gone = (await this.pool.query<{ numbers: number; ranges: number; lastAt: string | null }>('SELECT coalesce(sum(to_seq - from_seq + 1), 0)::bigint AS numbers, count(*) AS ranges, max(reported_at) AS "lastAt" FROM central_gone WHERE base = $1', [box.base])).rows[0]!;
      out.push({
        base: box.base,
        device: box.device,
        high: box.high,
        stored,
        missing: box.missing.reduce((n, r) => n + sizeOf(r), 0),
        asked: a ? { requests: a.requests, numbers: a.numbers, last: { from: a.last_from, to: a.last_to, at: a.last_at } } : { requests: 0, numbers: 0, last: null },
        gone,
      });
    }
    return out;
  }

  async eventCount(): Promise<number> {
    return (await this.pool.query<{ n: number }>('SELECT count(*) AS n FROM central_events')).rows[0]!.n;
  }

  async pinCount(): Promise<number> {
    return (await this.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM central_pins')).rows[0]!.n;
  }

  unavailable(e: unknown): boolean {
    return isAway(e);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** Whether `e` is the server or the network being away, not a refusal of what was written. */
export function isAway(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && (AWAY_SQLSTATE.test(code) || AWAY_ERRNO.has(code))) return true;
  // node-postgres's own words for a connection that ended under a query, or never opened in time.
  return /Connection terminated|connection timeout|Query read timeout|Client has encountered a connection error|timeout exceeded when trying to connect/i.test(e.message);
}

/** An error's words, short, with no URL's user info in them. */
function reason(e: unknown): string {
  const err = e instanceof Error ? e : new Error(String(e));
  const code = (err as { code?: unknown }).code;
  const words = (err.message || (err as AggregateError).errors?.map((x: Error) => x.message).join('; ') || 'no answer').slice(0, 200);
  return `${words}${typeof code === 'string' ? ` (${code})` : ''}`;
}
