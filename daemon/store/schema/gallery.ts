import type { Migration } from '../migrate.js';

/**
 * The gallery's tables. Every personal value is a sealed BLOB (nonce ‖ XChaCha20-Poly1305
 * ciphertext, see seal.ts); only ids, timestamps, quality scores and the keyed hash of the
 * external id are stored in the clear.
 */
export const GALLERY_MIGRATION_1: Migration = {
  version: 1,
  description: 'gallery: meta, wrapped data keys, persons, face templates, thumbnails',
  up(db) {
    db.exec(`
      CREATE TABLE gallery_meta (
        id          INTEGER PRIMARY KEY CHECK (id = 1),
        gallery_id  TEXT NOT NULL,           -- random; binds wrapped keys to this file
        created_at  TEXT NOT NULL
      ) STRICT;

      -- The data key, wrapped by one or more key-encryption keys (two only while a rotation runs).
      CREATE TABLE gallery_keys (
        id            INTEGER PRIMARY KEY,
        dek_id        TEXT NOT NULL,          -- random id of the wrapped data key
        kek_kind      TEXT NOT NULL CHECK (kek_kind IN ('key', 'passphrase')),
        kdf_salt      BLOB,                   -- Argon2id salt, passphrase only
        kdf_opslimit  INTEGER,
        kdf_memlimit  INTEGER,
        wrapped       BLOB NOT NULL,
        created_at    TEXT NOT NULL
      ) STRICT;

      CREATE TABLE persons (
        id                TEXT PRIMARY KEY,   -- uuid
        external_id_hash  BLOB UNIQUE,        -- keyed BLAKE2b of the external id, for lookups
        external_id       BLOB,               -- sealed
        name              BLOB NOT NULL,      -- sealed
        grp               BLOB,               -- sealed group
        created_at        TEXT NOT NULL,
        updated_at        TEXT NOT NULL
      ) STRICT;

      CREATE TABLE templates (
        id          INTEGER PRIMARY KEY,
        person_id   TEXT NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
        model       TEXT NOT NULL,            -- embedding model, so a model change can re-enrol
        embedding   BLOB NOT NULL,            -- sealed float32 little-endian
        quality     REAL NOT NULL,
        source      BLOB NOT NULL,            -- sealed (file names often carry names)
        created_at  TEXT NOT NULL
      ) STRICT;
      CREATE INDEX templates_person ON templates(person_id);

      CREATE TABLE thumbnails (
        id           INTEGER PRIMARY KEY,
        person_id    TEXT NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
        template_id  INTEGER REFERENCES templates(id) ON DELETE CASCADE,
        jpeg         BLOB NOT NULL,           -- sealed
        created_at   TEXT NOT NULL
      ) STRICT;
      CREATE INDEX thumbnails_person ON thumbnails(person_id);
    `);
  },
};
