import type { Database, Statement } from 'better-sqlite3';
import type { SealedCellSource } from '../gallery/sealed-cells.js';
import { TamperError, type CellRef, type Sealer } from '../gallery/seal.js';
import type { Logger } from '../base/log.js';
import type { EventClass } from '../../contract/topics.js';
import { missingRanges, rangesOf, type SeqRange } from '../../contract/seq-ranges.js';

/** What seals payloads at rest: the gallery's sealer (XChaCha20-Poly1305 under its data key). */
export type OutboxSealer = Pick<Sealer, 'seal' | 'open'>;

/** The place a payload is bound to: its event id (a row's payload moved onto another no longer opens). */
export function outboxCell(eventId: string): CellRef {
  return { table: 'outbox', column: 'payload', rowId: eventId, personId: '' };
}

/** A delivered event kept for replay is bound to its own table and event id: it opens nowhere else. */
export function sentCell(eventId: string): CellRef {
  return { table: 'outbox_sent', column: 'payload', rowId: eventId, personId: '' };
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

/** The delivered events kept for replay: sealed like the outbox's, so verify and rotation cover them too. */
export const OUTBOX_SENT_SEALED_CELLS: SealedCellSource = {
  *cells(db) {
    const rows = db.prepare('SELECT event_id, payload FROM outbox_sent ORDER BY event_seq').iterate() as Iterable<{ event_id: string; payload: Buffer }>;
    for (const row of rows) yield { ref: sentCell(row.event_id), value: row.payload };
  },
  reseal(db, ref, plain, to) {
    db.prepare('UPDATE outbox_sent SET payload = ? WHERE event_id = ?').run(Buffer.from(to.seal(ref, plain)), ref.rowId);
  },
};

export interface OutboxLimits {
  maxEvents: number;
  maxBytes: number;
  /** How many delivered events are kept for replay, and for how long; DEFAULT_KEPT unless given. */
  kept?: KeptLimits;
}

/** Bounds on the delivered events kept for replay (config mqtt.replay). */
export interface KeptLimits {
  maxEvents: number;
  maxBytes: number;
  maxAgeMs: number;
}

/** mqtt.replay's defaults (daemon/events/config.ts). */
export const DEFAULT_KEPT: KeptLimits = { maxEvents: 50_000, maxBytes: 128 * 1024 * 1024, maxAgeMs: 168 * 3_600_000 };

export interface OutboxRow {
  seq: number;
  eventId: string;
  topic: string;
  payload: Buffer;
  /** The box's event sequence number signed into the payload; null for command answers, which have none. */
  eventSeq: number | null;
  eventClass: EventClass;
}

export interface NewOutboxEvent {
  eventId: string;
  topic: string;
  payload: string | Buffer;
  eventClass: EventClass;
  createdMs: number;
}

/** What a replay request found in [from, to] (docs/mqtt.md#replay). */
export interface ReplayResult {
  /** The range after it was cut at the last number given so far. */
  from: number;
  to: number;
  /** Delivered events put back into the outbox, to go out again unchanged. */
  replayed: number;
  /** Events still waiting in the outbox: they go out without being asked. */
  pending: number;
  /** Numbers this box no longer holds: evicted before delivery, or kept past the window. */
  gone: SeqRange[];
  /** The last number given: anything asked above it is not yet an event. */
  last: number;
  /**
   * The lowest number this box still holds, pending or kept; `last + 1` when it holds none.
   * Numbers only go up, so everything below it is gone for good: a receiver far behind learns
   * that in one answer instead of asking for it range by range.
   */
  first: number;
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
  private readonly after: Statement<[number, number], { seq: number; event_id: string; topic: string; payload: Buffer; event_seq: number | null; class: EventClass }>;
  private readonly oldest: Statement<[], { created_ms: number } | undefined>;
  private readonly nextSeq: Statement<[], { last_seq: number }>;
  private readonly keep: Statement<[number, string, string, Buffer, string, number]>;
  private readonly raiseDelivered: Statement<[number]>;
  private readonly expireKept: Statement<[number]>;
  private readonly keptTotals: Statement<[], { rows: number; bytes: number }>;
  private readonly keptOldest: Statement<[], { event_seq: number; bytes: number }>;
  private readonly dropKeptUpTo: Statement<[number]>;
  private readonly kept: KeptLimits;

  /** Rows whose payload did not authenticate: reported once each, skipped, kept (gallery verify names them). */
  private readonly unreadable = new Set<number>();

  constructor(
    private readonly db: Database,
    private readonly limits: OutboxLimits,
    private readonly sealer: OutboxSealer,
    private readonly logger?: Logger,
  ) {
    this.insert = db.prepare('INSERT INTO outbox (event_id, topic, payload, class, created_ms, event_seq) VALUES (?, ?, ?, ?, ?, ?)');
    this.totals = db.prepare('SELECT sum(rows) AS rows, sum(bytes) AS bytes FROM outbox_counts');
    this.oldestOf = db.prepare('SELECT seq, length(payload) AS bytes FROM outbox WHERE class = ? ORDER BY seq LIMIT ?');
    this.deleteSeq = db.prepare('DELETE FROM outbox WHERE seq = ?');
    this.addDropped = db.prepare('INSERT INTO outbox_dropped (class, count) VALUES (?, ?) ON CONFLICT (class) DO UPDATE SET count = count + excluded.count');
    this.after = db.prepare('SELECT seq, event_id, topic, payload, event_seq, class FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?');
    this.oldest = db.prepare('SELECT created_ms FROM outbox ORDER BY seq LIMIT 1');
    this.nextSeq = db.prepare('UPDATE event_sequence SET last_seq = last_seq + 1 WHERE id = 1 RETURNING last_seq');
    // A replayed event is acknowledged again: it stays kept from its first delivery. (Not REPLACE:
    // the delete it makes would pass by the trigger that keeps the counts.)
    this.keep = db.prepare('INSERT INTO outbox_sent (event_seq, event_id, topic, payload, class, delivered_ms) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (event_seq) DO NOTHING');
    this.raiseDelivered = db.prepare('UPDATE event_sequence SET delivered_seq = max(delivered_seq, ?) WHERE id = 1');
    this.expireKept = db.prepare('DELETE FROM outbox_sent WHERE delivered_ms < ?');
    this.keptTotals = db.prepare('SELECT rows, bytes FROM outbox_sent_counts WHERE id = 1');
    this.keptOldest = db.prepare('SELECT event_seq, length(payload) AS bytes FROM outbox_sent ORDER BY event_seq');
    this.dropKeptUpTo = db.prepare('DELETE FROM outbox_sent WHERE event_seq <= ?');
    this.kept = limits.kept ?? DEFAULT_KEPT;
  }

  /** A command answer, which has no sequence number. Must run inside the caller's transaction (better-sqlite3 nests it as a savepoint otherwise). */
  enqueue(event: NewOutboxEvent): Evicted {
    return this.db.transaction(() => this.insertSealed(event, null))();
  }

  /**
   * An event numbered in the box's sequence: `make` gets the next number to sign into the
   * payload, in the transaction that inserts it, so a rollback takes the number back with the event
   * and numbers stay without holes. Like `enqueue`, inside the caller's transaction.
   */
  enqueueNumbered(make: (seq: number) => NewOutboxEvent): Evicted {
    return this.db.transaction(() => {
      const seq = this.nextSeq.get()!.last_seq;
      return this.insertSealed(make(seq), seq);
    })();
  }

  private insertSealed(event: NewOutboxEvent, eventSeq: number | null): Evicted {
    const plain = typeof event.payload === 'string' ? Buffer.from(event.payload) : event.payload;
    const payload = Buffer.from(this.sealer.seal(outboxCell(event.eventId), plain));
    const evicted = this.makeRoom(1, payload.length);
    this.insert.run(event.eventId, event.topic, payload, event.eventClass, event.createdMs, eventSeq);
    return evicted;
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
        if (payload) rows.push({ seq: r.seq, eventId: r.event_id, topic: r.topic, payload, eventSeq: r.event_seq, eventClass: r.class });
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

  /**
   * Takes acknowledged events out of the outbox in one transaction (one fsync for a batch of
   * PUBACKs). Numbered ones are kept, sealed again for their new place, so that a receiver that
   * missed them can ask for them again; then the kept ones are cut to their limits.
   */
  acknowledge(rows: Iterable<OutboxRow>, nowMs: number = Date.now()): void {
    this.db.transaction(() => {
      let delivered = 0;
      for (const r of rows) {
        this.deleteSeq.run(r.seq);
        if (r.eventSeq === null) continue;
        this.keep.run(r.eventSeq, r.eventId, r.topic, Buffer.from(this.sealer.seal(sentCell(r.eventId), r.payload)), r.eventClass, nowMs);
        delivered = Math.max(delivered, r.eventSeq);
      }
      if (delivered > 0) this.raiseDelivered.run(delivered);
      this.pruneKept(nowMs);
    })();
  }

  /** Drops kept events past the age limit, then the oldest while over the count or bytes (the counts are trigger-kept: O(1) while within them). */
  private pruneKept(nowMs: number): void {
    this.expireKept.run(nowMs - this.kept.maxAgeMs);
    let { rows, bytes } = this.keptTotals.get()!;
    if (rows <= this.kept.maxEvents && bytes <= this.kept.maxBytes) return;
    let upTo = 0;
    for (const r of this.keptOldest.iterate()) {
      if (rows <= this.kept.maxEvents && bytes <= this.kept.maxBytes) break;
      upTo = r.event_seq;
      rows -= 1;
      bytes -= r.bytes;
    }
    this.dropKeptUpTo.run(upTo);
  }

  /** The last number given, and the highest one a broker acknowledged (what bridge/sequence announces). */
  sequence(): { last: number; delivered: number } {
    const r = this.db.prepare('SELECT last_seq, delivered_seq FROM event_sequence WHERE id = 1').get() as { last_seq: number; delivered_seq: number };
    return { last: r.last_seq, delivered: r.delivered_seq };
  }

  /**
   * Puts the kept events numbered in [from, to] back into the outbox, unchanged (same id, same
   * signature), and says which numbers are still pending and which this box no longer holds.
   * Must run inside the caller's transaction, as `enqueue`.
   */
  replay(from: number, to: number, nowMs: number): ReplayResult {
    return this.db.transaction(() => {
      const { last } = this.sequence();
      const upTo = Math.min(to, last);
      const pending = (this.db.prepare('SELECT event_seq FROM outbox WHERE event_seq BETWEEN ? AND ? ORDER BY event_seq').all(from, upTo) as { event_seq: number }[]).map((r) => r.event_seq);
      const waiting = new Set(pending);
      const kept = this.db.prepare('SELECT event_seq, event_id, topic, payload, class FROM outbox_sent WHERE event_seq BETWEEN ? AND ? ORDER BY event_seq').all(from, upTo) as { event_seq: number; event_id: string; topic: string; payload: Buffer; class: EventClass }[];
      let replayed = 0;
      for (const k of kept) {
        if (waiting.has(k.event_seq)) continue;
        const plain = this.openSent(k.event_id, k.payload);
        if (!plain) continue;
        this.insertSealed({ eventId: k.event_id, topic: k.topic, payload: plain, eventClass: k.class, createdMs: nowMs }, k.event_seq);
        replayed += 1;
      }
      const held = rangesOf([...new Set([...pending, ...kept.map((k) => k.event_seq)])].sort((a, b) => a - b));
      return { from, to: upTo, replayed, pending: pending.length, gone: from <= upTo ? missingRanges(from, upTo, held) : [], last, first: this.lowestHeld(last) };
    })();
  }

  /** The lowest number still pending or kept (both tables have it indexed), else the next to be given. */
  private lowestHeld(last: number): number {
    const r = this.db
      .prepare('SELECT min(s) AS low FROM (SELECT min(event_seq) AS s FROM outbox WHERE event_seq IS NOT NULL UNION ALL SELECT min(event_seq) FROM outbox_sent)')
      .get() as { low: number | null };
    return r.low ?? last + 1;
  }

  private openSent(eventId: string, sealed: Buffer): Buffer | undefined {
    try {
      return Buffer.from(this.sealer.open(sentCell(eventId), sealed));
    } catch (e) {
      if (!(e instanceof TamperError)) throw e;
      this.logger?.error({ stage: 'events', event: eventId }, 'kept event failed authentication: not replayed, kept for inspection (run facegate gallery verify)');
      return undefined;
    }
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

/** Retention: unknown-person alerts (they carry a face crop) queued, or delivered and kept for replay, before `beforeMs`. */
export function purgeUnknownAlertsBefore(db: Database, beforeMs: number): number {
  const queued = db.prepare("DELETE FROM outbox WHERE class = 'alert' AND topic LIKE '%/alerts/unknown' AND created_ms < ?").run(beforeMs).changes;
  return queued + db.prepare("DELETE FROM outbox_sent WHERE class = 'alert' AND topic LIKE '%/alerts/unknown' AND delivered_ms < ?").run(beforeMs).changes;
}
