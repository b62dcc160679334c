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

/**
 * A display may show the person's photo (`show` = 'photo'): SQLite cannot change a CHECK, so the
 * table is made again with it and the tokens copied across.
 */
function allowPhoto(db: Database): void {
  db.exec(`
    CREATE TABLE display_tokens_photo (
      id         TEXT    PRIMARY KEY,
      token_hash TEXT    NOT NULL UNIQUE,
      target     TEXT    NOT NULL,
      show       TEXT    NOT NULL CHECK (show IN ('first_name', 'full_name', 'photo', 'none')),
      label      TEXT    NOT NULL DEFAULT '',
      created_ms INTEGER NOT NULL,
      created_by TEXT    NOT NULL
    ) WITHOUT ROWID;
    INSERT INTO display_tokens_photo (id, token_hash, target, show, label, created_ms, created_by)
      SELECT id, token_hash, target, show, label, created_ms, created_by FROM display_tokens;
    DROP TABLE display_tokens;
    ALTER TABLE display_tokens_photo RENAME TO display_tokens;
  `);
}

export const DISPLAY_TOKENS_MIGRATION: Migration = {
  version: 17,
  description: 'display: door display tokens, each bound to one door or camera, kept as hashes',
  up: createDisplayTokensTable,
};

export const DISPLAY_PHOTO_MIGRATION: Migration = {
  version: 22,
  description: "display: a display token may show the greeted person's photo",
  up: allowPhoto,
};
