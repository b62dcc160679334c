import { sign } from 'node:crypto';
import type { DeviceKey } from './device-key.js';

/**
 * Compact JWS (RFC 7515, alg EdDSA) over a JSON payload, made with node:crypto because it is
 * synchronous: events are signed inside the SQLite transaction that writes them (jose has only an
 * async API). Any JOSE library verifies the result; the tests do so with jose.
 */
export interface Signer {
  readonly kid: string;
  signJson(payload: object): string;
}

export function createSigner(key: DeviceKey): Signer {
  const header = Buffer.from(JSON.stringify({ alg: 'EdDSA', kid: key.kid, typ: 'facegate-event+jws' })).toString('base64url');
  return {
    kid: key.kid,
    signJson(payload) {
      const input = `${header}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
      return `${input}.${sign(null, Buffer.from(input), key.privateKey).toString('base64url')}`;
    },
  };
}

/** Adds `jws` over every field except `image` (an unsigned attachment whose sha256 is signed). */
export function withSignature<T extends { image?: string }>(signer: Signer, body: T): T & { jws: string } {
  const { image, ...signed } = body;
  const jws = signer.signJson(signed);
  return image === undefined ? { ...(signed as T), jws } : { ...(signed as T), jws, image };
}
