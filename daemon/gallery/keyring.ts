import type { Database } from 'better-sqlite3';
import { FacegateError } from '../base/errors.js';
import type { Kek } from './key-source.js';
import type { Sodium } from './sodium.js';

/** Argon2id cost for passphrases: 64 MiB, 3 passes (~0.2 s here); stored per wrapping so it can grow. */
export const PASSPHRASE_KDF = { opslimit: 3, memlimit: 64 * 1024 * 1024 } as const;

export interface WrapRow {
  id: number;
  dek_id: string;
  kek_kind: 'key' | 'passphrase';
  kdf_salt: Buffer | null;
  kdf_opslimit: number | null;
  kdf_memlimit: number | null;
  wrapped: Buffer;
}

export interface UnlockedKey {
  dataKey: Uint8Array;
  dekId: string;
  /** The gallery_keys row the KEK opened (rotation removes the others once the new key is in place). */
  wrapId: number;
}

const NONCE_BYTES = 24;

export function galleryId(db: Database): string | undefined {
  const row = db.prepare('SELECT gallery_id FROM gallery_meta WHERE id = 1').get() as { gallery_id: string } | undefined;
  return row?.gallery_id;
}

export function wrapRows(db: Database): WrapRow[] {
  return db.prepare('SELECT * FROM gallery_keys ORDER BY id').all() as WrapRow[];
}

/** The key that wraps: the key itself, or Argon2id of the passphrase with this wrapping's salt. */
function wrappingKey(sodium: Sodium, kek: Kek, kdf?: { salt: Uint8Array; opslimit: number; memlimit: number }): Uint8Array {
  if (kek.kind === 'key') return kek.key;
  if (!kdf) throw new Error('passphrase wrapping without KDF parameters');
  return sodium.crypto_pwhash(32, kek.passphrase, kdf.salt, kdf.opslimit, kdf.memlimit, sodium.crypto_pwhash_ALG_ARGON2ID13);
}

function wrapAd(gid: string, dekId: string): Uint8Array {
  return new TextEncoder().encode(`facegate/gallery/v1|dek|${gid}|${dekId}`);
}

/** Inserts a wrapping of `dataKey` under `kek`; returns its row id. Call inside the caller's transaction. */
/** Deletes the data key's wrappings, all of them or all but `keep` (a rotation's last step). */
export function deleteWraps(db: Database, keep?: number): void {
  if (keep === undefined) db.prepare('DELETE FROM gallery_keys').run();
  else db.prepare('DELETE FROM gallery_keys WHERE id != ?').run(keep);
}

export function insertWrap(db: Database, sodium: Sodium, kek: Kek, dataKey: Uint8Array, dekId: string, now: string): number {
  const gid = galleryId(db);
  if (!gid) throw new Error('gallery_meta missing');
  const kdf = kek.kind === 'passphrase' ? { salt: sodium.randombytes_buf(sodium.crypto_pwhash_SALTBYTES), ...PASSPHRASE_KDF } : undefined;
  const wk = wrappingKey(sodium, kek, kdf);
  const nonce = sodium.randombytes_buf(NONCE_BYTES);
  const ct = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(dataKey, wrapAd(gid, dekId), null, nonce, wk);
  if (kek.kind === 'passphrase') sodium.memzero(wk);
  const wrapped = Buffer.concat([nonce, ct]);
  const info = db
    .prepare(
      `INSERT INTO gallery_keys (dek_id, kek_kind, kdf_salt, kdf_opslimit, kdf_memlimit, wrapped, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(dekId, kek.kind, kdf ? Buffer.from(kdf.salt) : null, kdf?.opslimit ?? null, kdf?.memlimit ?? null, wrapped, now);
  return Number(info.lastInsertRowid);
}

/**
 * Opens the data key with `kek`, trying each wrapping of the same kind. Read-only: a wrong key
 * changes nothing in the file.
 */
export function unlockDataKey(db: Database, sodium: Sodium, kek: Kek, source: string): UnlockedKey {
  const gid = galleryId(db);
  const rows = wrapRows(db);
  if (!gid || rows.length === 0) {
    throw new FacegateError('FG_ERR_GALLERY_CORRUPT', `gallery ${source} has no wrapped data key`, 'restore the file from a backup or an export');
  }
  for (const row of rows.filter((r) => r.kek_kind === kek.kind)) {
    const kdf =
      row.kek_kind === 'passphrase' && row.kdf_salt && row.kdf_opslimit && row.kdf_memlimit
        ? { salt: new Uint8Array(row.kdf_salt), opslimit: row.kdf_opslimit, memlimit: row.kdf_memlimit }
        : undefined;
    if (row.kek_kind === 'passphrase' && !kdf) continue;
    const wk = wrappingKey(sodium, kek, kdf);
    try {
      const dataKey = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
        null,
        row.wrapped.subarray(NONCE_BYTES),
        wrapAd(gid, row.dek_id),
        row.wrapped.subarray(0, NONCE_BYTES),
        wk,
      );
      return { dataKey, dekId: row.dek_id, wrapId: row.id };
    } catch {
      // not this wrapping: try the next one
    } finally {
      if (kek.kind === 'passphrase') sodium.memzero(wk);
    }
  }
  const kinds = [...new Set(rows.map((r) => (r.kek_kind === 'key' ? 'a key file or credential' : 'a passphrase')))].join(' or ');
  throw new FacegateError(
    'FG_ERR_GALLERY_KEY_WRONG',
    `the ${kek.origin} does not open gallery ${source} (it is locked with ${kinds})`,
    'give the key this gallery was made with (--key-file, the systemd credential or the passphrase); nothing was changed',
  );
}

/** First open of an empty file: records the gallery id and a fresh data key wrapped under `kek`. */
export function initialiseKeys(db: Database, sodium: Sodium, kek: Kek, now: string): UnlockedKey {
  return db
    .transaction(() => {
      const hasData = (db.prepare('SELECT (SELECT COUNT(*) FROM persons) + (SELECT COUNT(*) FROM gallery_keys) AS n').get() as { n: number }).n;
      if (hasData > 0 || galleryId(db)) {
        throw new FacegateError('FG_ERR_GALLERY_CORRUPT', 'gallery has data but no usable key records; refusing to create a new key over it', 'restore the file from a backup or an export');
      }
      db.prepare('INSERT INTO gallery_meta (id, gallery_id, created_at) VALUES (1, ?, ?)').run(sodium.to_hex(sodium.randombytes_buf(16)), now);
      const dataKey = sodium.crypto_aead_xchacha20poly1305_ietf_keygen();
      const dekId = sodium.to_hex(sodium.randombytes_buf(8));
      const wrapId = insertWrap(db, sodium, kek, dataKey, dekId, now);
      return { dataKey, dekId, wrapId };
    })
    .immediate();
}
