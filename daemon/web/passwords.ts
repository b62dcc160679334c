import { FacegateError } from '../errors.js';
import type { Sodium } from '../gallery/sodium.js';

export const MIN_PASSWORD = 12;
export const MAX_PASSWORD = 256;

/**
 * Argon2id through libsodium's crypto_pwhash_str at its "interactive" cost (64 MiB, 2 passes,
 * ~0.17 s on the box): the salt and the cost are in the string, so they can be raised later.
 */
export class PasswordHasher {
  /** Verified against when no account has the name, so that an unknown name takes as long as a known one. */
  private readonly dummy: string;
  constructor(private readonly sodium: Sodium) {
    this.dummy = this.hash('facegate-dummy-password');
  }

  hash(password: string): string {
    return this.sodium.crypto_pwhash_str(password, this.sodium.crypto_pwhash_OPSLIMIT_INTERACTIVE, this.sodium.crypto_pwhash_MEMLIMIT_INTERACTIVE);
  }

  verify(hash: string | undefined, password: string): boolean {
    try {
      return this.sodium.crypto_pwhash_str_verify(hash ?? this.dummy, password) && hash !== undefined;
    } catch {
      return false;
    }
  }
}

/** A password a person chose: long enough to resist guessing, short enough to hash in bounded time. */
export function checkNewPassword(password: string): void {
  const n = [...password].length;
  if (n < MIN_PASSWORD || n > MAX_PASSWORD) {
    throw new FacegateError('FG_ERR_WEB_PASSWORD_WEAK', `a password must be ${MIN_PASSWORD} to ${MAX_PASSWORD} characters long (this one has ${n})`, 'choose a longer passphrase, e.g. four unrelated words');
  }
}
