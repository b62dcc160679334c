import type { Database } from 'better-sqlite3';
import type { Migration } from '../migrate.js';

/**
 * What end-to-end replay needs on the box: the per-box event sequence (its last number given and
 * the highest one a broker acknowledged), each outbox row's number, and the events kept after
 * delivery so that a receiver that missed some can ask for them again. The counter is its own row,
 * not derived from the outbox, so that it never goes back when delivered or evicted rows leave.
 */
export function createEventReplayTables(db: Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS event_sequence (
      id            INTEGER PRIMARY KEY CHECK (id = 1),
      last_seq      INTEGER NOT NULL,
      delivered_seq INTEGER NOT NULL
    );
    INSERT OR IGNORE INTO event_sequence VALUES (1, 0, 0);
    CREATE TABLE IF NOT EXISTS outbox_sent (
      event_seq    INTEGER PRIMARY KEY,
      event_id     TEXT    NOT NULL,
      topic        TEXT    NOT NULL,
      payload      BLOB    NOT NULL,
      class        TEXT    NOT NULL CHECK (class IN ('attendance', 'alert', 'info')),
      delivered_ms INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS outbox_sent_by_time ON outbox_sent (delivered_ms);
  `);
  // ALTER TABLE has no IF NOT EXISTS; tests build these tables on files they reopen.
  const columns = db.prepare("SELECT name FROM pragma_table_info('outbox')").all() as { name: string }[];
  if (!columns.some((c) => c.name === 'event_seq')) db.exec('ALTER TABLE outbox ADD COLUMN event_seq INTEGER');
  db.exec('CREATE INDEX IF NOT EXISTS outbox_by_event_seq ON outbox (event_seq) WHERE event_seq IS NOT NULL');
}

export const EVENT_REPLAY_MIGRATION: Migration = {
  version: 14,
  description: 'events: per-box event sequence, and delivered events kept for replay',
  up: createEventReplayTables,
};
