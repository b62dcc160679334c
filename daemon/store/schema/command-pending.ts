import type { Database } from 'better-sqlite3';
import type { Migration } from '../migrate.js';

/**
 * Remote commands taken from the broker and not yet answered. A request is written here (with its
 * token's jti claimed in the replay cache) before the broker gets its acknowledgement, and leaves
 * in the transaction that writes its answer: a command the broker will not send again is never
 * forgotten, and one that was cut off by a crash is answered at the next start.
 */
export function createCommandPendingTable(db: Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS command_pending (
      jti            TEXT    PRIMARY KEY,
      command        TEXT    NOT NULL,
      at_ms          INTEGER NOT NULL,
      subject        TEXT,
      transaction_id TEXT
    ) WITHOUT ROWID;
  `);
}

export const EVENTS_COMMAND_PENDING_MIGRATION: Migration = {
  version: 11,
  description: 'events: remote commands taken from the broker and not yet answered',
  up: createCommandPendingTable,
};
