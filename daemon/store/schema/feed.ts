import type { Database } from 'better-sqlite3';
import type { Migration } from '../migrate.js';

/**
 * The gallery feed on a box: how far it applied each site's feed, which persons came from the feed
 * (every other person is a local enrolment), and the latest signed entries it refused for what they
 * held, which its report names so that the central sees an erasure that did not take.
 */
export function createFeedTables(db: Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS feed_state (
      site       TEXT    PRIMARY KEY,
      applied    INTEGER NOT NULL CHECK (applied >= 0),
      updated_ms INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS feed_persons (
      person_id TEXT    PRIMARY KEY,
      site      TEXT    NOT NULL,
      seq       INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS feed_persons_by_site ON feed_persons (site);
    CREATE TABLE IF NOT EXISTS feed_refusals (
      site   TEXT    NOT NULL,
      seq    INTEGER NOT NULL,
      reason TEXT    NOT NULL,
      at_ms  INTEGER NOT NULL,
      PRIMARY KEY (site, seq)
    ) WITHOUT ROWID;
  `);
}

export const FEED_MIGRATION: Migration = {
  version: 23,
  description: 'gallery feed: entries applied per site, persons from the feed, refused entries',
  up: createFeedTables,
};

/**
 * The content keys of the feed this box could open (its site's key, and those of the groups of
 * boxes it is in), sealed at rest as the gallery's cells are; a key whose key entry wraps nothing
 * to this box is kept as NULL, so that its entries are passed over rather than waited for.
 */
export function createFeedKeysTable(db: Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS feed_keys (
      site   TEXT    NOT NULL,
      key_id TEXT    NOT NULL,
      sealed BLOB,
      seq    INTEGER NOT NULL,
      at_ms  INTEGER NOT NULL,
      PRIMARY KEY (site, key_id)
    ) WITHOUT ROWID;
  `);
}

export const FEED_KEYS_MIGRATION: Migration = {
  version: 26,
  description: 'gallery feed: the content keys this box opened, sealed',
  up: createFeedKeysTable,
};
