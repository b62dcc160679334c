import type { Database } from 'better-sqlite3';
import type { Migration } from '../migrate.js';

/**
 * Door displays' tokens: each bound to one door or camera, with what its display shows of a person.
 * The token itself is a random 256-bit secret kept only as its sha256 (a fast hash suffices for a
 * secret nobody chose); a revoked token's row is deleted, and the audit log keeps that it was.
 */
export function createDisplayTokensTable(db: Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS display_tokens (
      id         TEXT    PRIMARY KEY,
      token_hash TEXT    NOT NULL UNIQUE,
      target     TEXT    NOT NULL,
      show       TEXT    NOT NULL CHECK (show IN ('first_name', 'full_name', 'none')),
      label      TEXT    NOT NULL DEFAULT '',
      created_ms INTEGER NOT NULL,
      created_by TEXT    NOT NULL
    ) WITHOUT ROWID;
  `);
}

export const DISPLAY_TOKENS_MIGRATION: Migration = {
  version: 17,
  description: 'display: door display tokens, each bound to one door or camera, kept as hashes',
  up: createDisplayTokensTable,
};
