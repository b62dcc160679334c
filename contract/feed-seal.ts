import type sodiumModule from 'libsodium-wrappers-sumo';
import type { FeedSealed } from './feed.js';

type Sodium = typeof sodiumModule;

/**
 * How a feed entry's person is sealed so that only the boxes it is meant for read it, and neither
 * the broker nor another site's boxes do: the person (name, external id, group, templates) is
 * encrypted once under a fresh content key (XChaCha20-Poly1305, bound to the entry by associated
 * data), and that key is sealed (crypto_box_seal) to each box's key.
 *
 * Each box's key is its device key, the Ed25519 key whose public half the central already pins to
 * verify its events, converted to X25519 by libsodium (crypto_sign_ed25519_pk_to_curve25519), as
 * age does for ssh-ed25519 recipients: a site needs no second key per box to provision, rotate or
 * back up. A fresh key per entry rather than a long-lived site key wrapped per box: a box taken
 * off a site reads nothing written after, without a site key to rotate on every other box, and the
 * cost is one 80-byte wrap per box per entry, beside a person's kilobytes of templates.
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

/** Seals `plain` for the boxes named (device id → their X25519 public key). */
export function sealForBoxes(sodium: Sodium, plain: Uint8Array, ad: Uint8Array, boxes: ReadonlyMap<string, Uint8Array>): FeedSealed {
  const key = sodium.crypto_aead_xchacha20poly1305_ietf_keygen();
  try {
    const nonce = sodium.randombytes_buf(sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
    const box = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plain, ad, null, nonce, key);
    const keys: Record<string, string> = {};
    for (const [device, publicKey] of boxes) keys[device] = b64(sodium.crypto_box_seal(key, publicKey));
    return { nonce: b64(nonce), box: b64(box), keys };
  } finally {
    sodium.memzero(key);
  }
}

/** The plaintext for this box, or undefined: not sealed to it (`not_addressed`), or it does not open (`unreadable`). */
export function openForBox(
  sodium: Sodium,
  sealed: FeedSealed,
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
