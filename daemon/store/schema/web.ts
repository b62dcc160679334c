import type { Database } from 'better-sqlite3';
import type { Migration } from '../migrate.js';

/**
 * The web console's accounts and refresh tokens. A password is kept only as an Argon2id hash
 * string; a refresh token only as its sha256 (the token itself is a random 256-bit secret, so a
 * fast hash suffices), with its family (one login) so that a token used twice revokes the login.
 * A camera's match threshold and margin set from the console win over the config's until cleared.
 */
export function createWebUserTables(db: Database): void {
  db.exec(`
    CREATE TABLE web_users (
      name            TEXT    PRIMARY KEY,
      role            TEXT    NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
      password_hash   TEXT    NOT NULL,
      token_version   INTEGER NOT NULL DEFAULT 1,
      failures        INTEGER NOT NULL DEFAULT 0,
      locked_until_ms INTEGER NOT NULL DEFAULT 0,
      created_ms      INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE web_refresh_tokens (
      token_hash TEXT    PRIMARY KEY,
      user_name  TEXT    NOT NULL REFERENCES web_users (name) ON DELETE CASCADE,
      family     TEXT    NOT NULL,
      expires_ms INTEGER NOT NULL,
      used       INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
    CREATE INDEX web_refresh_tokens_by_family ON web_refresh_tokens (family);
    CREATE INDEX web_refresh_tokens_by_user ON web_refresh_tokens (user_name);
    CREATE TABLE camera_thresholds (
      camera     TEXT PRIMARY KEY,
      threshold  REAL NOT NULL,
      margin     REAL NOT NULL,
      updated_ms INTEGER NOT NULL,
      updated_by TEXT NOT NULL
    ) WITHOUT ROWID;
  `);
}

export const WEB_USERS_MIGRATION: Migration = {
  version: 7,
  description: 'web: console accounts (Argon2id hashes), rotating refresh tokens, per-camera match thresholds',
  up: createWebUserTables,
};
