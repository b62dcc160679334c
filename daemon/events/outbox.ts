import type { Database, Statement } from 'better-sqlite3';
import type { SealedCellSource } from '../gallery/sealed-cells.js';
import { TamperError, type CellRef, type Sealer } from '../gallery/seal.js';
import type { Logger } from '../base/log.js';
import type { EventClass } from './topics.js';

/** What seals payloads at rest: the gallery's sealer (XChaCha20-Poly1305 under its data key). */
export type OutboxSealer = Pick<Sealer, 'seal' | 'open'>;

/** The place a payload is bound to: its event id (a row's payload moved onto another no longer opens). */
export function outboxCell(eventId: string): CellRef {
  return { table: 'outbox', column: 'payload', rowId: eventId, personId: '' };
}

/** The sealed payloads, for gallery verify and key re-encryption (`keys rotate --reencrypt`). */
export const OUTBOX_SEALED_CELLS: SealedCellSource = {
  *cells(db) {
    const rows = db.prepare('SELECT event_id, payload FROM outbox ORDER BY seq').iterate() as Iterable<{ event_id: string; payload: Buffer }>;
    for (const row of rows) yield { ref: outboxCell(row.event_id), value: row.payload };
  },
  reseal(db, ref, plain, to) {
    // Same length sealed again, so the trigger-kept byte counts stay right.
    db.prepare('UPDATE outbox SET payload = ? WHERE event_id = ?').run(Buffer.from(to.seal(ref, plain)), ref.rowId);
  },
};

export interface OutboxLimits {
  maxEvents: number;
  maxBytes: number;
}

export interface OutboxRow {
  seq: number;
  eventId: string;
  topic: string;
  payload: Buffer;
}

export interface NewOutboxEvent {
  eventId: string;
  topic: string;
  payload: string | Buffer;
  eventClass: EventClass;
  createdMs: number;
}

/** What one enqueue had to evict to stay within the limits. */
export interface Evicted {
  info: number;
  alert: number;
}

/**
 * The durable queue between "something happened" and "the broker has it". Writers call `enqueue`
 * inside the same SQLite transaction as the record that caused the event, so either both exist or
 * neither; the publisher reads in `seq` order and deletes on PUBACK.
 *
 * Bounded (docs/mqtt.md#outbox): when an event would pass `maxEvents` or `maxBytes`, the oldest
 * 'info' events are evicted first, then the oldest 'alert' events (counted in outbox_dropped and
 * reported, never silently); 'attendance' events are never evicted: they are a few per person per
 * day, so past the limit the outbox grows and the overrun is reported instead.
 *
 * Payloads are sealed at rest under the gallery's data key: they carry external ids, groups and
 * face crops, which the gallery keeps sealed, and the state file and its WAL would otherwise hold
 * them in clear until the broker has them. A payload is sealed whole, after it was signed, and
 * opened when read for publishing, so the broker gets the very bytes that were signed.
 */
export class Outbox {
  private readonly insert: Statement;
  private readonly totals: Statement<[], { rows: number; bytes: number }>;
  private readonly oldestOf: Statement<[string, number], { seq: number; bytes: number }>;
  private readonly deleteSeq: Statement<[number]>;
  private readonly addDropped: Statement<[string, number]>;
  private readonly after: Statement<[number, number], { seq: number; event_id: string; topic: string; payload: Buffer }>;
  private readonly oldest: Statement<[], { created_ms: number } | undefined>;

  /** Rows whose payload did not authenticate: reported once each, skipped, kept (gallery verify names them). */
  private readonly unreadable = new Set<number>();

  constructor(
    private readonly db: Database,
    private readonly limits: OutboxLimits,
    private readonly sealer: OutboxSealer,
    private readonly logger?: Logger,
  ) {
    this.insert = db.prepare('INSERT INTO outbox (event_id, topic, payload, class, created_ms) VALUES (?, ?, ?, ?, ?)');
    this.totals = db.prepare('SELECT sum(rows) AS rows, sum(bytes) AS bytes FROM outbox_counts');
    this.oldestOf = db.prepare('SELECT seq, length(payload) AS bytes FROM outbox WHERE class = ? ORDER BY seq LIMIT ?');
    this.deleteSeq = db.prepare('DELETE FROM outbox WHERE seq = ?');
    this.addDropped = db.prepare('INSERT INTO outbox_dropped (class, count) VALUES (?, ?) ON CONFLICT (class) DO UPDATE SET count = count + excluded.count');
    this.after = db.prepare('SELECT seq, event_id, topic, payload FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?');
    this.oldest = db.prepare('SELECT created_ms FROM outbox ORDER BY seq LIMIT 1');
  }

  /** Must run inside the caller's transaction (better-sqlite3 nests it as a savepoint otherwise). */
  enqueue(event: NewOutboxEvent): Evicted {
    const plain = typeof event.payload === 'string' ? Buffer.from(event.payload) : event.payload;
    const payload = Buffer.from(this.sealer.seal(outboxCell(event.eventId), plain));
    return this.db.transaction(() => {
      const evicted = this.makeRoom(1, payload.length);
      this.insert.run(event.eventId, event.topic, payload, event.eventClass, event.createdMs);
      return evicted;
    })();
  }

  private makeRoom(rows: number, bytes: number): Evicted {
    const evicted: Evicted = { info: 0, alert: 0 };
    let { rows: haveRows, bytes: haveBytes } = this.totals.get() ?? { rows: 0, bytes: 0 };
    const over = () => haveRows + rows > this.limits.maxEvents || haveBytes + bytes > this.limits.maxBytes;
    for (const cls of ['info', 'alert'] as const) {
      while (over()) {
        const victims = this.oldestOf.all(cls, 64);
        if (victims.length === 0) break;
        for (const v of victims) {
          if (!over()) break;
          this.deleteSeq.run(v.seq);
          haveRows -= 1;
          haveBytes -= v.bytes;
          evicted[cls] += 1;
        }
      }
      if (evicted[cls] > 0) this.addDropped.run(cls, evicted[cls]);
    }
    return evicted;
  }

  /** Up to `limit` events after `seq`, oldest first. */
  readAfter(seq: number, limit: number): OutboxRow[] {
    const rows: OutboxRow[] = [];
    for (let after = seq; rows.length < limit; ) {
      const batch = this.after.all(after, limit - rows.length);
      if (batch.length === 0) break;
      for (const r of batch) {
        after = r.seq;
        const payload = this.open(r.seq, r.event_id, r.payload);
        if (payload) rows.push({ seq: r.seq, eventId: r.event_id, topic: r.topic, payload });
      }
    }
    return rows;
  }

  private open(seq: number, eventId: string, sealed: Buffer): Buffer | undefined {
    try {
      return Buffer.from(this.sealer.open(outboxCell(eventId), sealed));
    } catch (e) {
      if (!(e instanceof TamperError)) throw e;
      if (!this.unreadable.has(seq)) {
        this.unreadable.add(seq);
        this.logger?.error({ stage: 'events', seq, event: eventId }, 'outbox event failed authentication: not published, kept for inspection (run facegate gallery verify)');
      }
      return undefined;
    }
  }

  /** Deletes acknowledged events in one transaction (one fsync for a batch of PUBACKs). */
  acknowledge(seqs: Iterable<number>): void {
    this.db.transaction((list: Iterable<number>) => {
      for (const s of list) this.deleteSeq.run(s);
    })(seqs);
  }

  stats(nowMs: number): { pending: number; bytes: number; oldestAgeS: number; dropped: Record<string, number> } {
    const t = this.totals.get() ?? { rows: 0, bytes: 0 };
    const oldest = this.oldest.get();
    const dropped = Object.fromEntries(
      (this.db.prepare('SELECT class, count FROM outbox_dropped').all() as { class: string; count: number }[]).map((r) => [r.class, r.count]),
    );
    return {
      pending: t.rows,
      bytes: t.bytes,
      oldestAgeS: oldest ? Math.max(0, Math.floor((nowMs - oldest.created_ms) / 1000)) : 0,
      dropped,
    };
  }

  isOverLimit(): boolean {
    const t = this.totals.get() ?? { rows: 0, bytes: 0 };
    return t.rows > this.limits.maxEvents || t.bytes > this.limits.maxBytes;
  }
}

/** Retention: undelivered unknown-person alerts (they carry a face crop) queued before `beforeMs`. */
export function purgeUnknownAlertsBefore(db: Database, beforeMs: number): number {
  return db.prepare("DELETE FROM outbox WHERE class = 'alert' AND topic LIKE '%/alerts/unknown' AND created_ms < ?").run(beforeMs).changes;
}
