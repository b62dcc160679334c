import type { Database } from 'better-sqlite3';
import { FacegateError } from '../base/errors.js';
import type { Kek } from '../gallery/key-source.js';
import { deleteWraps, insertWrap, type UnlockedKey } from '../gallery/keyring.js';
import { checkpointWal } from '../store/database.js';
import { Sealer, TamperError } from '../gallery/seal.js';
import type { Sodium } from '../gallery/sodium.js';
import { SEALED_CELL_SOURCES } from './sealed-cells.js';

export interface RotateOptions {
  db: Database;
  sodium: Sodium;
  /** The key that opened the gallery, and what it opened. */
  oldKek: Kek;
  unlocked: UnlockedKey;
  newKek: Kek;
  /** Also replace the data key and re-seal every cell (else only the wrapping changes). */
  reencrypt: boolean;
  /**
   * Puts the new key where the key source will look (e.g. renames key.new over the key file).
   * Runs after the new wrapping is committed and before the old one is deleted, so that a crash at
   * any point leaves a gallery that the old or the new key opens.
   */
  install: () => void;
  now: () => Date;
}

export interface RotateResult {
  dekId: string;
  resealed: number;
}

/**
 * Key rotation in two short transactions around `install`:
 *   A: [re-seal every cell under a new data key, wrapped again under the old KEK] + wrap under the new KEK;
 *   install the new KEK;
 *   B: delete every wrapping but the new one.
 * Between A and B both keys open the gallery; before A only the old; after B only the new.
 */
export function rotateKeys(o: RotateOptions): RotateResult {
  const at = o.now().toISOString();
  let dataKey = o.unlocked.dataKey;
  let dekId = o.unlocked.dekId;
  let resealed = 0;
  const newWrapId = o.db
    .transaction(() => {
      if (o.reencrypt) {
        const oldSealer = new Sealer(o.sodium, o.unlocked.dataKey);
        dataKey = o.sodium.crypto_aead_xchacha20poly1305_ietf_keygen();
        dekId = o.sodium.to_hex(o.sodium.randombytes_buf(8));
        const newSealer = new Sealer(o.sodium, dataKey);
        try {
          resealed = resealAll(o.db, oldSealer, newSealer);
        } finally {
          oldSealer.dispose();
          newSealer.dispose();
        }
        deleteWraps(o.db);
        insertWrap(o.db, o.sodium, o.oldKek, dataKey, dekId, at);
      }
      return insertWrap(o.db, o.sodium, o.newKek, dataKey, dekId, at);
    })
    .immediate();
  o.install();
  deleteWraps(o.db, newWrapId);
  // Pages sealed under the old data key must not linger in the -wal file.
  checkpointWal(o.db);
  return { dekId, resealed };
}

function resealAll(db: Database, from: Sealer, to: Sealer): number {
  let n = 0;
  for (const source of SEALED_CELL_SOURCES) {
    // Read each source whole before writing to it: SQLite iterators and updates do not mix.
    const cells = [...source.cells(db)];
    for (const { ref, value } of cells) {
      let plain: Uint8Array;
      try {
        plain = from.open(ref, value);
      } catch (e) {
        if (!(e instanceof TamperError)) throw e;
        throw new FacegateError(
          'FG_ERR_ROTATE_DAMAGED',
          `cannot re-encrypt: ${e.message}`,
          "run 'facegate gallery verify', remove or re-enrol the damaged persons, then rotate again; nothing was changed",
        );
      }
      source.reseal(db, ref, plain, to);
      plain.fill(0);
      n++;
    }
  }
  return n;
}
