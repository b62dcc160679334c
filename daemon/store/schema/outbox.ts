import type { Database } from 'better-sqlite3';
import type { Migration } from '../migrate.js';

/**
 * Tables of the events stage: the outbox (with trigger-maintained counts, so that the bound is
 * checked in O(1) and stays right when a writer's transaction rolls back), drop counters, the
 * replay cache of remote-command token ids, and the command audit trail.
 */
export function createEventTables(db: Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS outbox (
      seq        INTEGER PRIMARY KEY AUTOINCREMENT,
      event_id   TEXT    NOT NULL,
      topic      TEXT    NOT NULL,
      payload    BLOB    NOT NULL,
      class      TEXT    NOT NULL CHECK (class IN ('attendance', 'alert', 'info')),
      created_ms INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS outbox_by_class ON outbox (class, seq);
    CREATE TABLE IF NOT EXISTS outbox_counts (
      class TEXT PRIMARY KEY,
      rows  INTEGER NOT NULL,
      bytes INTEGER NOT NULL
    );
    INSERT OR IGNORE INTO outbox_counts VALUES ('attendance', 0, 0), ('alert', 0, 0), ('info', 0, 0);
    CREATE TRIGGER IF NOT EXISTS outbox_count_insert AFTER INSERT ON outbox BEGIN
      UPDATE outbox_counts SET rows = rows + 1, bytes = bytes + length(NEW.payload) WHERE class = NEW.class;
    END;
    CREATE TRIGGER IF NOT EXISTS outbox_count_delete AFTER DELETE ON outbox BEGIN
      UPDATE outbox_counts SET rows = rows - 1, bytes = bytes - length(OLD.payload) WHERE class = OLD.class;
    END;
    CREATE TABLE IF NOT EXISTS outbox_dropped (
      class TEXT PRIMARY KEY,
      count INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS command_replay (
      jti    TEXT PRIMARY KEY,
      exp_ms INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS command_audit (
      id          INTEGER PRIMARY KEY AUTOINCREMENT,
      at_ms       INTEGER NOT NULL,
      command     TEXT    NOT NULL,
      outcome     TEXT    NOT NULL CHECK (outcome IN ('ok', 'failed', 'refused')),
      reason      TEXT,
      jti         TEXT,
      subject     TEXT,
      transaction_id TEXT
    );
  `);
}

export const EVENTS_MIGRATION_2: Migration = {
  version: 2,
  description: 'events: outbox, drop counters, command replay cache and audit',
  up: createEventTables,
};
