import { randomBytes } from 'node:crypto';
import type sodiumModule from 'libsodium-wrappers-sumo';
import type { FeedKey, FeedSealed, FeedSealedV1 } from './feed.js';

type Sodium = typeof sodiumModule;

/**
 * How a feed entry's person is kept from all but the boxes it is meant for (neither the broker nor
 * another site's boxes read it): the person (name, external id, group, templates) is encrypted once
 * under a content key of the site, or of the group of its boxes the person is for
 * (XChaCha20-Poly1305, bound to the entry by associated data), and that key travels in a key entry
 * of the same log, sealed (crypto_box_seal) to each box's key. A person's entry is then the same
 * bytes for every box, whatever the number of boxes; a key entry is 80 bytes a box, once per key.
 *
 * Each box's key is its device key, the Ed25519 key whose public half the central already pins to
 * verify its events, converted to X25519 by libsodium (crypto_sign_ed25519_pk_to_curve25519), as
 * age does for ssh-ed25519 recipients: a site needs no second key per box to provision, rotate or
 * back up.
 */

/** The recipient's public X25519 key, from its Ed25519 JWK `x`. */
export function boxSealingKey(sodium: Sodium, ed25519X: string): Uint8Array {
  return sodium.crypto_sign_ed25519_pk_to_curve25519(Buffer.from(ed25519X, 'base64url'));
}

/** A box's X25519 key pair, from its Ed25519 private key's 32-byte seed (JWK `d`). */
export function boxOpeningKeys(sodium: Sodium, ed25519Seed: Uint8Array): { publicKey: Uint8Array; privateKey: Uint8Array } {
  const pair = sodium.crypto_sign_seed_keypair(ed25519Seed);
  try {
    return { publicKey: sodium.crypto_sign_ed25519_pk_to_curve25519(pair.publicKey), privateKey: sodium.crypto_sign_ed25519_sk_to_curve25519(pair.privateKey) };
  } finally {
    sodium.memzero(pair.privateKey);
  }
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

/** A fresh content key and its id. */
export function newContentKey(sodium: Sodium): { id: string; key: Uint8Array } {
  return { id: randomBytes(16).toString('base64url'), key: sodium.crypto_aead_xchacha20poly1305_ietf_keygen() };
}

/** A content key wrapped to the boxes named (device id → their X25519 public key). */
export function wrapKey(sodium: Sodium, id: string, key: Uint8Array, boxes: ReadonlyMap<string, Uint8Array>): FeedKey {
  const wraps: Record<string, string> = {};
  for (const [device, publicKey] of [...boxes].sort(([a], [b]) => (a < b ? -1 : 1))) wraps[device] = b64(sodium.crypto_box_seal(key, publicKey));
  return { id, wraps };
}

/** This box's copy of a content key: undefined when the key is not wrapped to it, 'unreadable' when its wrap does not open to a key. */
export function unwrapKey(sodium: Sodium, key: FeedKey, device: string, keys: { publicKey: Uint8Array; privateKey: Uint8Array }): Uint8Array | undefined | 'unreadable' {
  const wrapped = Object.hasOwn(key.wraps, device) ? key.wraps[device] : undefined;
  if (wrapped === undefined) return undefined;
  try {
    const plain = sodium.crypto_box_seal_open(Buffer.from(wrapped, 'base64'), keys.publicKey, keys.privateKey);
    if (plain.length === sodium.crypto_aead_xchacha20poly1305_ietf_KEYBYTES) return plain;
    plain.fill(0);
    return 'unreadable';
  } catch {
    return 'unreadable';
  }
}

/** A person's content encrypted once under the content key `id`. */
export function encryptContent(sodium: Sodium, id: string, key: Uint8Array, plain: Uint8Array, ad: Uint8Array): FeedSealed {
  const nonce = new Uint8Array(randomBytes(sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES));
  return { key: id, nonce: b64(nonce), box: b64(sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plain, ad, null, nonce, key)) };
}

/** The plaintext, or undefined when it does not open under this key and associated data. */
export function decryptContent(sodium: Sodium, sealed: FeedSealed, key: Uint8Array, ad: Uint8Array): Uint8Array | undefined {
  const nonce = Buffer.from(sealed.nonce, 'base64');
  if (nonce.length !== sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES) return undefined;
  try {
    return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, Buffer.from(sealed.box, 'base64'), ad, nonce, key);
  } catch {
    return undefined;
  }
}

/** A first-format entry's plaintext for this box, or why not: not sealed to it (`not_addressed`), or it does not open (`unreadable`). */
export function openForBoxV1(
  sodium: Sodium,
  sealed: FeedSealedV1,
  ad: Uint8Array,
  device: string,
  keys: { publicKey: Uint8Array; privateKey: Uint8Array },
): { ok: true; plain: Uint8Array } | { ok: false; why: 'not_addressed' | 'unreadable' } {
  const wrapped = Object.hasOwn(sealed.keys, device) ? sealed.keys[device] : undefined;
  if (wrapped === undefined) return { ok: false, why: 'not_addressed' };
  let key: Uint8Array | undefined;
  try {
    key = sodium.crypto_box_seal_open(Buffer.from(wrapped, 'base64'), keys.publicKey, keys.privateKey);
    if (key.length !== sodium.crypto_aead_xchacha20poly1305_ietf_KEYBYTES) return { ok: false, why: 'unreadable' };
    const nonce = Buffer.from(sealed.nonce, 'base64');
    if (nonce.length !== sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES) return { ok: false, why: 'unreadable' };
    return { ok: true, plain: sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, Buffer.from(sealed.box, 'base64'), ad, nonce, key) };
  } catch {
    return { ok: false, why: 'unreadable' };
  } finally {
    if (key) sodium.memzero(key);
  }
}
