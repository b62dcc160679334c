import type { Migration } from '../migrate.js';

/**
 * Unknown persons' clusters, so that a stranger keeps one anonymous id across daemon restarts.
 * `sum` (the running sum of the cluster's fused embeddings), `frames` (its best embeddings with
 * their quality) and `thumbnail` (a JPEG face crop) are sealed under the gallery's data key, bound
 * to the row; the times stay in clear for the retention purge.
 */
export const TRACK_UNKNOWNS_MIGRATION: Migration = {
  version: 5,
  description: 'track: unknown persons (anonymous id, first/last seen, sealed embeddings and thumbnail)',
  up(db) {
    db.exec(`
      CREATE TABLE unknown_persons (
        anon_id       TEXT    PRIMARY KEY,
        first_seen_ms INTEGER NOT NULL,
        last_seen_ms  INTEGER NOT NULL,
        sum           BLOB    NOT NULL,
        frames        BLOB    NOT NULL,
        thumbnail     BLOB
      );
      CREATE INDEX unknown_persons_by_last_seen ON unknown_persons (last_seen_ms);
    `);
  },
};

/**
 * Each unknown person's sightings (which camera, when), so that staff can see where a stranger
 * keeps turning up. Kept in clear beside the times already in clear: a JSON array of
 * `{"camera": string, "at_ms": number}`, oldest first, bounded by the registry.
 */
export const TRACK_UNKNOWN_SIGHTINGS_MIGRATION: Migration = {
  version: 8,
  description: 'track: unknown persons’ sightings (camera and time of each track)',
  up(db) {
    db.exec(`ALTER TABLE unknown_persons ADD COLUMN sightings TEXT NOT NULL DEFAULT '[]';`);
  },
};
