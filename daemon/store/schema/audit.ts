import type { Database } from 'better-sqlite3';
import type { Migration } from '../migrate.js';

/** The hash every chain starts from: sha256 of nothing, so no row is needed to anchor an empty log. */
export const GENESIS_HASH = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/**
 * The audit trail of every mutating control call: each row carries the hash of the one before,
 * and `audit_anchor` holds where the chain starts (after a retention purge) and where it ends, so
 * that an edited row, a deleted row and a cut-off tail are each found by `facegate audit verify`.
 */
export function createAuditTables(db: Database): void {
  db.exec(`
    CREATE TABLE audit_log (
      seq       INTEGER PRIMARY KEY,
      at_ms     INTEGER NOT NULL,
      actor     TEXT    NOT NULL,
      role      TEXT    NOT NULL,
      action    TEXT    NOT NULL,
      target    TEXT,
      detail    TEXT    NOT NULL,
      outcome   TEXT    NOT NULL CHECK (outcome IN ('ok', 'failed', 'refused')),
      prev_hash TEXT    NOT NULL,
      hash      TEXT    NOT NULL
    );
    CREATE INDEX audit_log_by_time ON audit_log (at_ms);
    CREATE TABLE audit_anchor (
      id        INTEGER PRIMARY KEY CHECK (id = 1),
      base_seq  INTEGER NOT NULL,
      base_hash TEXT    NOT NULL,
      head_seq  INTEGER NOT NULL,
      head_hash TEXT    NOT NULL
    );
    INSERT INTO audit_anchor VALUES (1, 0, '${GENESIS_HASH}', 0, '${GENESIS_HASH}');
  `);
}

export const OPS_AUDIT_MIGRATION: Migration = {
  version: 4,
  description: 'ops: hash-chained audit log of mutating control calls',
  up: createAuditTables,
};
