import type { Database } from 'better-sqlite3';
import { uuidv7Generator } from '../../base/uuidv7.js';
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

/**
 * An account's identity is an id of its own (UUIDv7), not its name: access tokens carry the id, so
 * a token of a removed account never works for a later account given the same name. Refresh tokens
 * point at the id. Accounts already there get an id now; their logins go on.
 */
export const WEB_ACCOUNT_IDS_MIGRATION: Migration = {
  version: 10,
  description: 'web: an immutable id for each console account; refresh tokens by account id',
  up(db) {
    db.exec(`
      CREATE TABLE web_users_by_id (
        id              TEXT    PRIMARY KEY,
        name            TEXT    NOT NULL UNIQUE,
        role            TEXT    NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
        password_hash   TEXT    NOT NULL,
        token_version   INTEGER NOT NULL DEFAULT 1,
        failures        INTEGER NOT NULL DEFAULT 0,
        locked_until_ms INTEGER NOT NULL DEFAULT 0,
        created_ms      INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE web_refresh_tokens_by_id (
        token_hash TEXT    PRIMARY KEY,
        user_id    TEXT    NOT NULL REFERENCES web_users_by_id (id) ON DELETE CASCADE,
        family     TEXT    NOT NULL,
        expires_ms INTEGER NOT NULL,
        used       INTEGER NOT NULL DEFAULT 0
      ) WITHOUT ROWID;
    `);
    const newId = uuidv7Generator();
    const insert = db.prepare('INSERT INTO web_users_by_id (id, name, role, password_hash, token_version, failures, locked_until_ms, created_ms) SELECT ?, name, role, password_hash, token_version, failures, locked_until_ms, created_ms FROM web_users WHERE name = ?');
    for (const { name } of db.prepare('SELECT name FROM web_users ORDER BY created_ms, name').all() as { name: string }[]) insert.run(newId(), name);
    db.exec(`
      INSERT INTO web_refresh_tokens_by_id (token_hash, user_id, family, expires_ms, used)
        SELECT t.token_hash, u.id, t.family, t.expires_ms, t.used FROM web_refresh_tokens t JOIN web_users_by_id u ON u.name = t.user_name;
      DROP TABLE web_refresh_tokens;
      DROP TABLE web_users;
      ALTER TABLE web_users_by_id RENAME TO web_users;
      ALTER TABLE web_refresh_tokens_by_id RENAME TO web_refresh_tokens;
      CREATE INDEX web_refresh_tokens_by_family ON web_refresh_tokens (family);
      CREATE INDEX web_refresh_tokens_by_user ON web_refresh_tokens (user_id);
    `);
  },
};
