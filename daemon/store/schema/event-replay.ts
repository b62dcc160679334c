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
    -- Kept by triggers, as outbox_counts is: the bound is checked at every acknowledgement, and a
    -- count over tens of thousands of kept rows there took ~100 ms of the event loop each time.
    CREATE TABLE IF NOT EXISTS outbox_sent_counts (
      id    INTEGER PRIMARY KEY CHECK (id = 1),
      rows  INTEGER NOT NULL,
      bytes INTEGER NOT NULL
    );
    INSERT OR IGNORE INTO outbox_sent_counts VALUES (1, 0, 0);
    CREATE TRIGGER IF NOT EXISTS outbox_sent_count_insert AFTER INSERT ON outbox_sent BEGIN
      UPDATE outbox_sent_counts SET rows = rows + 1, bytes = bytes + length(NEW.payload) WHERE id = 1;
    END;
    CREATE TRIGGER IF NOT EXISTS outbox_sent_count_delete AFTER DELETE ON outbox_sent BEGIN
      UPDATE outbox_sent_counts SET rows = rows - 1, bytes = bytes - length(OLD.payload) WHERE id = 1;
    END;
    CREATE TRIGGER IF NOT EXISTS outbox_sent_count_update AFTER UPDATE OF payload ON outbox_sent BEGIN
      UPDATE outbox_sent_counts SET bytes = bytes - length(OLD.payload) + length(NEW.payload) WHERE id = 1;
    END;
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
