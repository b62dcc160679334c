// Tokens signed by the central key, checked for a remote command and for a control socket request
// alike; here in the service layer so that neither entry point imports the other.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { errors as joseErrors, jwtVerify } from 'jose';
import { FacegateError } from '../base/errors.js';
import { readInputFile } from '../base/input-file.js';
import { nestedDeeperThan } from '../base/nesting.js';

/**
 * A request that must not run; `reason` goes into the error response and the audit.
 * `authenticated`: whether the token's signature by the central key was verified before the
 * refusal. An unauthenticated one may come from anyone allowed to publish on the broker, so those
 * are counted and summarized rather than recorded one by one (see flood.ts).
 */
export class CommandRefused extends Error {
  /** What the answer carries besides the reason: a central server acts on the code, not on the words. */
  readonly code: `FG_ERR_${string}`;
  readonly reason: string;
  readonly authenticated: boolean;

  constructor(reason: string, authenticated = true, code?: `FG_ERR_${string}`) {
    super(reason);
    this.reason = reason;
    this.authenticated = authenticated;
    this.code = code ?? (authenticated ? 'FG_ERR_COMMAND_REFUSED' : 'FG_ERR_COMMAND_UNAUTHENTICATED');
  }
}

export interface CommandClaims {
  jti: string;
  iat: number;
  exp: number;
  sub?: string;
  cmd: string;
  data: Record<string, unknown>;
}

export interface TokenPolicy {
  key: KeyObject;
  deviceId: string;
  maxTokenAgeS: number;
  clockSkewS: number;
}

/**
 * Checks a command JWT: EdDSA signature by the central key, aud = this device, exp and iat present
 * and within the allowed lifetime, a jti, and `cmd` equal to the topic's command (so a token for
 * `status` cannot be replayed onto `person/remove`). Replay is checked by the caller afterwards.
 */
export async function verifyCommandToken(token: string, command: string, policy: TokenPolicy, nowMs: number): Promise<CommandClaims> {
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, policy.key, {
      algorithms: ['EdDSA'],
      audience: policy.deviceId,
      clockTolerance: policy.clockSkewS,
      currentDate: new Date(nowMs),
      requiredClaims: ['exp', 'iat', 'jti'],
    }));
  } catch (e) {
    throw new CommandRefused(joseReason(e), signatureVerified(e));
  }
  const { jti, iat, exp, cmd, data, sub } = payload as Record<string, unknown>;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > 128) throw new CommandRefused('token jti missing or malformed');
  if (typeof iat !== 'number' || typeof exp !== 'number') throw new CommandRefused('token iat/exp malformed');
  if (exp - iat > policy.maxTokenAgeS) throw new CommandRefused(`token lifetime ${exp - iat}s exceeds ${policy.maxTokenAgeS}s`);
  if (iat * 1000 > nowMs + policy.clockSkewS * 1000) throw new CommandRefused('token issued in the future');
  if (cmd !== command) throw new CommandRefused(`token is for command ${JSON.stringify(cmd)}, not ${JSON.stringify(command)}`);
  if (data !== undefined && (typeof data !== 'object' || data === null || Array.isArray(data))) throw new CommandRefused('token data must be an object');
  if (nestedDeeperThan(data, MAX_DATA_DEPTH)) throw new CommandRefused(`token data nested deeper than ${MAX_DATA_DEPTH} levels`);
  return { jti, iat, exp, cmd, data: (data ?? {}) as Record<string, unknown>, ...(typeof sub === 'string' ? { sub } : {}) };
}

/**
 * Deepest nesting of a token's `data`: every command's arguments are at most 4 levels deep, and
 * what runs after this check (clone, defaults, schema check) recurses, so a deeper document would
 * exhaust the stack instead of being refused.
 */
const MAX_DATA_DEPTH = 32;

/** jose checks the signature before the claims: a claim error means the central key signed it. */
function signatureVerified(e: unknown): boolean {
  return e instanceof joseErrors.JWTExpired || e instanceof joseErrors.JWTClaimValidationFailed || e instanceof joseErrors.JWTInvalid;
}

function joseReason(e: unknown): string {
  if (e instanceof joseErrors.JWTExpired) return 'token expired';
  if (e instanceof joseErrors.JWSSignatureVerificationFailed) return 'bad signature';
  if (e instanceof joseErrors.JWTClaimValidationFailed) return `token claim ${e.claim} invalid: ${e.reason}`;
  if (e instanceof joseErrors.JOSEAlgNotAllowed) return 'token algorithm not allowed (EdDSA only)';
  if (e instanceof joseErrors.JWSInvalid || e instanceof joseErrors.JWTInvalid) return 'malformed token';
  return 'token rejected';
}

/** The central server's Ed25519 public key, from a JWK (JSON) or PEM file. */
export function loadCentralKey(path: string): KeyObject {
  let text: string;
  try {
    text = readInputFile(path, 'key', 'mqtt.commands.central_public_key').toString('utf8');
  } catch (e) {
    if (e instanceof FacegateError) throw e;
    throw new FacegateError('FG_ERR_CENTRAL_KEY', `cannot read mqtt.commands.central_public_key ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'give the file with the central server\'s public key (JWK or PEM)');
  }
  let key: KeyObject;
  try {
    key = text.trimStart().startsWith('{') ? createPublicKey({ key: JSON.parse(text) as import('node:crypto').JsonWebKey, format: 'jwk' }) : createPublicKey(text);
  } catch {
    throw new FacegateError('FG_ERR_CENTRAL_KEY', `${path} is not a public key (JWK or PEM)`, 'export the central server\'s Ed25519 public key as a JWK or PEM');
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new FacegateError('FG_ERR_CENTRAL_KEY', `${path} is a ${key.asymmetricKeyType ?? 'unknown'} key; commands are signed with Ed25519 (EdDSA)`, 'give the central server\'s Ed25519 public key');
  }
  return key;
}
