import { randomBytes } from 'node:crypto';
import { FacegateError } from '../base/errors.js';
import type { Sodium } from './sodium.js';

/** Where a sealed value lives; all of it is bound into the ciphertext as associated data. */
export interface CellRef {
  /** The gallery's tables, unknown persons' clusters (daemon/track/unknown-store.ts), the events outbox and its delivered events kept for replay, the decision timeline (daemon/track/timeline.ts), and the gallery feed's content keys. */
  readonly table: 'persons' | 'templates' | 'thumbnails' | 'unknown_persons' | 'outbox' | 'outbox_sent' | 'timeline' | 'feed_keys';
  readonly column: string;
  readonly rowId: string | number;
  readonly personId: string;
  /**
   * Persons' name cells only: the row's format (see PERSON_ROW_FORMAT in sealed-cells.ts), bound
   * so that a row claiming an older format, whose NULLs were legitimate, cannot be made up.
   * Absent in rows written before formats existed.
   */
  readonly rowFormat?: number;
}

/**
 * How a row failed: a sealed cell that does not open (flipped bytes, or copied or swapped from
 * another row); a sealed cell that is NULL (absence is sealed too, so a NULL was erased); or a
 * clear-text lookup column (the keyed hash of the external id) that does not hash the sealed value
 * of its own row, so a lookup through it would act on another person; or a sealed cell that opens
 * but holds what no such cell can (a template that is not EMBEDDING_DIM finite numbers, which an
 * import once let in): authentic, yet unusable, so its person is quarantined the same way.
 */
export type TamperKind = 'unopened' | 'null' | 'lookup' | 'malformed';

/**
 * A row failed authentication, or opened malformed; `ref` names the cell (or lookup column), its
 * row and person, `detail` what is wrong with a malformed one.
 */
export class TamperError extends FacegateError {
  readonly ref: CellRef;
  readonly kind: TamperKind;
  readonly detail: string | undefined;
  override readonly name = 'TamperError';
  constructor(ref: CellRef, kind: TamperKind = 'unopened', detail?: string) {
    super(...tamperMessage(ref, kind, detail));
    this.ref = ref;
    this.kind = kind;
    this.detail = detail;
  }
}

function tamperMessage(ref: CellRef, kind: TamperKind, detail = ''): [code: `FG_ERR_${string}`, message: string, hint: string] {
  const where = `gallery row ${ref.table}.${ref.column} id ${ref.rowId} (person ${ref.personId})`;
  if (kind === 'malformed') {
    return [
      'FG_ERR_GALLERY_MALFORMED',
      `${where} opens, but does not hold what such a cell must: ${detail}`,
      "run 'facegate gallery verify' for the full list; remove or re-enrol the person, or restore a backup",
    ];
  }
  if (kind === 'lookup') {
    return [
      'FG_ERR_GALLERY_LOOKUP',
      `${where} does not match the sealed external id of its row: the lookup hash was swapped or copied from another row`,
      "nothing was changed; run 'facegate gallery verify' for the full list, then restore a backup or re-enrol the person",
    ];
  }
  return [
    'FG_ERR_GALLERY_TAMPER',
    `${where} failed authentication: ${kind === 'null' ? 'it is empty (NULL), its sealed value was erased' : 'it was modified, copied or swapped'}`,
    "run 'facegate gallery verify' for the full list; remove or re-enrol the person, or restore a backup",
  ];
}

const NONCE_BYTES = 24;
const TAG_BYTES = 16;
const AD_PREFIX = 'facegate/gallery/v1';

/**
 * Seals and opens gallery cells under one data key with XChaCha20-Poly1305 (random 192-bit nonces
 * are safe at any volume). The associated data names the table, column, row id and person id, so a
 * ciphertext moved onto another row, person or column no longer opens.
 * The data key is split with crypto_kdf so that the lookup hash key never doubles as a cipher key.
 */
export class Sealer {
  readonly #sodium: Sodium;
  readonly #sealKey: Uint8Array;
  readonly #hashKey: Uint8Array;

  constructor(sodium: Sodium, dataKey: Uint8Array) {
    this.#sodium = sodium;
    this.#sealKey = sodium.crypto_kdf_derive_from_key(32, 1, 'fg-seal_', dataKey);
    this.#hashKey = sodium.crypto_kdf_derive_from_key(32, 2, 'fg-extid', dataKey);
  }

  seal(ref: CellRef, plaintext: Uint8Array): Uint8Array {
    const sodium = this.#sodium;
    // Node's CSPRNG rather than libsodium's randombytes_buf, which costs ~0.2 ms a call through its
    // JavaScript glue (measured), ten times the encryption itself: every outbox event is sealed.
    const nonce = new Uint8Array(randomBytes(NONCE_BYTES));
    const ct = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, associatedData(ref), null, nonce, this.#sealKey);
    const out = new Uint8Array(NONCE_BYTES + ct.length);
    out.set(nonce, 0);
    out.set(ct, NONCE_BYTES);
    return out;
  }

  /** Throws TamperError when the cell is NULL or does not authenticate for exactly this place. */
  open(ref: CellRef, sealed: Uint8Array | null): Uint8Array {
    if (sealed === null) throw new TamperError(ref, 'null');
    if (sealed.length < NONCE_BYTES + TAG_BYTES) throw new TamperError(ref);
    try {
      return this.#sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
        null,
        sealed.subarray(NONCE_BYTES),
        associatedData(ref),
        sealed.subarray(0, NONCE_BYTES),
        this.#sealKey,
      );
    } catch {
      throw new TamperError(ref);
    }
  }

  sealText(ref: CellRef, text: string): Uint8Array {
    return this.seal(ref, new TextEncoder().encode(text));
  }

  openText(ref: CellRef, sealed: Uint8Array | null): string {
    return new TextDecoder().decode(this.open(ref, sealed));
  }

  /** Keyed BLAKE2b of an external id: equality lookups without storing the id, useless without the key. */
  hashExternalId(externalId: string): Uint8Array {
    return this.#sodium.crypto_generichash(32, new TextEncoder().encode(externalId.normalize('NFC')), this.#hashKey);
  }

  /** Zeroes the key material; the sealer is unusable afterwards. */
  dispose(): void {
    this.#sodium.memzero(this.#sealKey);
    this.#sodium.memzero(this.#hashKey);
  }
}

function associatedData(ref: CellRef): Uint8Array {
  const format = ref.rowFormat === undefined ? '' : `|row-format=${ref.rowFormat}`;
  return new TextEncoder().encode(`${AD_PREFIX}|${ref.table}|${ref.column}|${ref.rowId}|${ref.personId}${format}`);
}

/** Float32Array ⇄ little-endian bytes, without copying through any file. */
export function embeddingToBytes(v: Float32Array): Uint8Array {
  const out = new Uint8Array(v.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < v.length; i++) view.setFloat32(i * 4, v[i]!, true);
  return out;
}

export function bytesToEmbedding(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.length >>> 2);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}
