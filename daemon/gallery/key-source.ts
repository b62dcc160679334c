import { closeSync, constants, fsyncSync, openSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { FacegateError } from '../base/errors.js';
import { describeOpenError, readInputFile } from '../base/input-file.js';
import { renameDurably } from '../base/private-files.js';
import type { GalleryConfig } from './config.js';
import type { Sodium } from './sodium.js';

/**
 * A key-encryption key, as found. A 256-bit key (key file or systemd credential) wraps the data
 * key directly; a passphrase is stretched with Argon2id per wrapping (salt stored beside it).
 */
export type Kek =
  | { readonly kind: 'key'; readonly key: Uint8Array; readonly origin: string; /** Set for key files (not credentials): rotation may replace it. */ readonly file?: string }
  | { readonly kind: 'passphrase'; readonly passphrase: string; readonly origin: string };

export type KeyKek = Extract<Kek, { kind: 'key' }>;

export interface KeySourceOptions {
  gallery: Pick<GalleryConfig, 'key_file' | 'credential' | 'passphrase_env'>;
  /** --key-file: use exactly this file, nothing else. */
  keyFileOverride?: string;
  env: NodeJS.ProcessEnv;
}

const KEY_FILE_PREFIX = 'facegate-kek-v1:';

/**
 * Finds the key-encryption key, in this order (documented in docs/gallery.md):
 *   1. --key-file FILE, when given (then nothing else is tried);
 *   2. the systemd credential $CREDENTIALS_DIRECTORY/<gallery.credential>;
 *   3. the key file <gallery.key_file>;
 *   4. a passphrase in $<gallery.passphrase_env>.
 * Returns undefined when none is there (a --key-file that does not exist included: no key was
 * found, and noKekError says what to do, which depends on whether the gallery exists yet);
 * `describeKeySources` says what was tried.
 */
export function findKek(options: KeySourceOptions): Kek | undefined {
  if (options.keyFileOverride) return missing(options.keyFileOverride) ? undefined : readKeyFile(options.keyFileOverride, 'key file');
  const credDir = options.env.CREDENTIALS_DIRECTORY;
  if (credDir) {
    const path = join(credDir, options.gallery.credential);
    if (exists(path)) return readKeyFile(path, 'systemd credential');
  }
  if (exists(options.gallery.key_file)) return readKeyFile(options.gallery.key_file, 'key file');
  const passphrase = options.env[options.gallery.passphrase_env];
  if (passphrase) return { kind: 'passphrase', passphrase, origin: `$${options.gallery.passphrase_env}` };
  return undefined;
}

export function describeKeySources(options: KeySourceOptions): string {
  if (options.keyFileOverride) return `key file ${options.keyFileOverride}`;
  const cred = options.env.CREDENTIALS_DIRECTORY
    ? `credential ${join(options.env.CREDENTIALS_DIRECTORY, options.gallery.credential)}`
    : `credential ${options.gallery.credential} ($CREDENTIALS_DIRECTORY not set)`;
  return `${cred}, key file ${options.gallery.key_file}, $${options.gallery.passphrase_env}`;
}

/**
 * FG_ERR_GALLERY_KEY_MISSING, when findKek found none: what was tried, and the next step. A new
 * gallery needs a key made ('facegate keys init'); one that exists needs the key it was made with,
 * which a new key would not open.
 */
export function noKekError(options: KeySourceOptions, gallery: { path: string; exists: boolean }): FacegateError {
  const override = options.keyFileOverride;
  const make = override
    ? `make it with 'facegate keys init --key-file ${override}', or check the path`
    : `make one with 'facegate keys init' (it writes ${options.gallery.key_file}, mode 0600), or set $${options.gallery.passphrase_env}`;
  return new FacegateError(
    'FG_ERR_GALLERY_KEY_MISSING',
    `no key for gallery ${gallery.path}: tried ${describeKeySources(options)}`,
    gallery.exists ? 'give the key this gallery was made with; nothing was changed' : make,
  );
}

/** Reads a key file or credential: "facegate-kek-v1:<base64 of 32 bytes>", or exactly 32 raw bytes. */
export function readKeyFile(path: string, what: string): KeyKek {
  let bytes: Buffer;
  try {
    bytes = readInputFile(path, 'key', what, (st) => {
      if (what === 'key file' && (st.mode & 0o077) !== 0) {
        throw new FacegateError(
          'FG_ERR_KEY_FILE_MODE',
          `key file ${path} is readable by other users (mode ${(st.mode & 0o777).toString(8)})`,
          `chmod 600 ${path}`,
        );
      }
    });
  } catch (e) {
    if (e instanceof FacegateError) throw e;
    throw new FacegateError('FG_ERR_KEY_UNREADABLE', `cannot read ${what} ${path}: ${describeOpenError(e)}`, 'check the path and that facegate may read it');
  }
  const text = bytes.toString('latin1').trim();
  let key: Uint8Array | undefined;
  if (text.startsWith(KEY_FILE_PREFIX)) {
    const decoded = Buffer.from(text.slice(KEY_FILE_PREFIX.length), 'base64');
    if (decoded.length === 32) key = new Uint8Array(decoded);
  } else if (bytes.length === 32) {
    key = new Uint8Array(bytes);
  }
  bytes.fill(0);
  if (!key) {
    throw new FacegateError('FG_ERR_KEY_FORMAT', `${what} ${path} does not hold a facegate key`, "make one with 'facegate keys init', or give a credential of exactly 32 bytes");
  }
  return { kind: 'key', key, origin: `${what} ${path}`, ...(what === 'key file' ? { file: path } : {}) };
}

/**
 * Makes a new 256-bit key file with mode 0600. O_EXCL: an existing file, whatever it holds, is never
 * overwritten (it may be the only key to a gallery). The bytes are synced before returning.
 */
export function createKeyFile(sodium: Sodium, path: string): KeyKek {
  const key = sodium.randombytes_buf(32);
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      throw new FacegateError('FG_ERR_KEY_EXISTS', `key file ${path} already exists; refusing to overwrite it`, 'it may be the only key to a gallery: keep it, or move it away yourself');
    }
    throw new FacegateError('FG_ERR_KEY_UNREADABLE', `cannot create key file ${path}: ${code ?? (e as Error).message}`, 'check that its folder exists and is writable');
  }
  try {
    writeSync(fd, `${KEY_FILE_PREFIX}${Buffer.from(key).toString('base64')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return { kind: 'key', key, origin: `key file ${path}`, file: path };
}

/**
 * The new key for rotating a key file in place: written to FILE.new first (or read back from it,
 * when an earlier rotation was interrupted after making it), renamed over FILE only by `install`,
 * once the gallery holds a wrapping for it. The one place a key file is ever replaced.
 */
export function replacementKeyFile(sodium: Sodium, path: string): { kek: KeyKek; install: () => void } {
  const next = `${path}.new`;
  const kek = exists(next) ? readKeyFile(next, 'key file') : createKeyFile(sodium, next);
  return {
    kek: { ...kek, origin: `key file ${path}`, file: path },
    install: () => renameDurably(next, path),
  };
}

/** Nothing at the path (a path that cannot be looked at, EACCES, is there: reading it says why it fails). */
function missing(path: string): boolean {
  try {
    statSync(path);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}
