import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';

// The one check of a device's signature on an event (the other side of the box's signer,
// daemon/events/signing.ts), for whoever receives events: the demo's subscriber and the central
// consumer. Synchronous like the signer, with node:crypto; any JOSE library gives the same verdicts
// (the tests check the signer with jose). The key's form and its kid are the contract's too: a box
// publishes them, a receiver pins them.

/** A box's public key as `bridge/info` publishes it and `facegate keys export-public` prints it. */
export interface Ed25519PublicJwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  kid: string;
  alg: 'EdDSA';
  use: 'sig';
}

/** RFC 7638: sha256 over the required members in lexicographic order, base64url. A box's `kid`, in its JWK and in every JWS header. */
export function jwkThumbprint(x: string): string {
  return createHash('sha256').update(`{"crv":"Ed25519","kty":"OKP","x":"${x}"}`).digest('base64url');
}

/** A box's key as a receiver holds it: pinned from its bridge/info, or provisioned. */
export interface PinnedKey {
  readonly kid: string;
  readonly key: KeyObject;
  readonly jwk: Ed25519PublicJwk;
}

/** Why an event is not taken as the device's: each is a counter label and a log reason. */
export type SignatureProblem = 'unsigned' | 'malformed_jws' | 'wrong_key' | 'bad_signature' | 'altered' | 'image_altered';

export type SignatureVerdict = { readonly ok: true; readonly signed: Record<string, unknown> } | { readonly ok: false; readonly problem: SignatureProblem };

const B64URL = /^[A-Za-z0-9_-]*$/;
/** An Ed25519 public key is 32 bytes: 43 base64url characters without padding. */
const ED25519_X = /^[A-Za-z0-9_-]{43}$/;

/**
 * A public JWK as `bridge/info` publishes it or a central config provisions it: OKP/Ed25519 with
 * its `x`; `kid`, when given, must be the key's RFC 7638 thumbprint. Undefined for anything else.
 */
export function pinnedKeyFromJwk(value: unknown): PinnedKey | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const { kty, crv, x, kid } = value as Record<string, unknown>;
  if (kty !== 'OKP' || crv !== 'Ed25519' || typeof x !== 'string' || !ED25519_X.test(x)) return undefined;
  const thumbprint = jwkThumbprint(x);
  if (kid !== undefined && kid !== thumbprint) return undefined;
  let key: KeyObject;
  try {
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
  } catch {
    return undefined;
  }
  return { kid: thumbprint, key, jwk: { kty: 'OKP', crv: 'Ed25519', x, kid: thumbprint, alg: 'EdDSA', use: 'sig' } };
}

/**
 * Checks an event's `jws` against the device's pinned key and returns the signed payload, which the
 * receiver uses rather than the outer fields: those must equal it (every field but `jws` and
 * `image`), and an `image` must match the signed `image_sha256`.
 */
export function verifySignedEvent(body: Readonly<Record<string, unknown>>, pinned: PinnedKey): SignatureVerdict {
  const { jws, image, ...outer } = body;
  if (typeof jws !== 'string') return { ok: false, problem: 'unsigned' };
  const parts = jws.split('.');
  if (parts.length !== 3 || !parts.every((p) => B64URL.test(p))) return { ok: false, problem: 'malformed_jws' };
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = parseObject(Buffer.from(headerPart, 'base64url'));
  if (!header || header.alg !== 'EdDSA' || (header.kid !== undefined && typeof header.kid !== 'string')) return { ok: false, problem: 'malformed_jws' };
  if (header.kid !== undefined && header.kid !== pinned.kid) return { ok: false, problem: 'wrong_key' };
  const signature = Buffer.from(signaturePart, 'base64url');
  // Base64url's last character has spare bits that decoding drops: a second spelling of one
  // signature is refused, so that a signed event has one form only.
  if (signature.toString('base64url') !== signaturePart) return { ok: false, problem: 'malformed_jws' };
  if (signature.length !== 64 || !verify(null, Buffer.from(`${headerPart}.${payloadPart}`), pinned.key, signature)) return { ok: false, problem: 'bad_signature' };
  const signed = parseObject(Buffer.from(payloadPart, 'base64url'));
  if (!signed) return { ok: false, problem: 'malformed_jws' };
  if (!isDeepStrictEqual(outer, signed)) return { ok: false, problem: 'altered' };
  if (image !== undefined) {
    if (typeof image !== 'string' || createHash('sha256').update(Buffer.from(image, 'base64')).digest('hex') !== signed.image_sha256) return { ok: false, problem: 'image_altered' };
  }
  return { ok: true, signed };
}

function parseObject(bytes: Buffer): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(bytes.toString('utf8')) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
