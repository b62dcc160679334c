import type sodiumModule from 'libsodium-wrappers-sumo';
import type { FeedSealedV1 } from '../../contract/feed.js';

/**
 * The first format's sealing, as the central wrote it before site keys: a fresh key per entry,
 * sealed to each box. Kept for the tests that show boxes still read such entries and the central
 * writes them again under its site key.
 */
export function sealForBoxesV1(sodium: typeof sodiumModule, plain: Uint8Array, ad: Uint8Array, boxes: ReadonlyMap<string, Uint8Array>): FeedSealedV1 {
  const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
  const key = sodium.crypto_aead_xchacha20poly1305_ietf_keygen();
  const nonce = sodium.randombytes_buf(sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  const box = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plain, ad, null, nonce, key);
  const keys: Record<string, string> = {};
  for (const [device, publicKey] of boxes) keys[device] = b64(sodium.crypto_box_seal(key, publicKey));
  sodium.memzero(key);
  return { nonce: b64(nonce), box: b64(box), keys };
}
