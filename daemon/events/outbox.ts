import type { Database, Statement } from 'better-sqlite3';
import type { EventClass } from './topics.js';

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
 */
export class Outbox {
  private readonly insert: Statement;
  private readonly totals: Statement<[], { rows: number; bytes: number }>;
  private readonly oldestOf: Statement<[string, number], { seq: number; bytes: number }>;
  private readonly deleteSeq: Statement<[number]>;
  private readonly addDropped: Statement<[string, number]>;
  private readonly after: Statement<[number, number], { seq: number; event_id: string; topic: string; payload: Buffer }>;
  private readonly oldest: Statement<[], { created_ms: number } | undefined>;

  constructor(
    private readonly db: Database,
    private readonly limits: OutboxLimits,
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
    const payload = typeof event.payload === 'string' ? Buffer.from(event.payload) : event.payload;
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
    return this.after.all(seq, limit).map((r) => ({ seq: r.seq, eventId: r.event_id, topic: r.topic, payload: r.payload }));
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
