import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, openSync, writeSync, closeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { FacegateError } from '../base/errors.js';
import { readInputFile } from '../base/input-file.js';
import { jwkThumbprint, type Ed25519PublicJwk } from '../../contract/signature.js';

/** systemd's credential copy when the unit passes one (LoadCredential=facegate-device-key), else the configured file. */
export function deviceKeyFile(env: NodeJS.ProcessEnv, configured: string): string {
  const dir = env.CREDENTIALS_DIRECTORY;
  const credential = dir ? join(dir, 'facegate-device-key') : undefined;
  return credential && existsSync(credential) ? credential : configured;
}

/**
 * The device's Ed25519 signing key: it signs every published event (JWS) so that a central server
 * can tell the message came from this box unaltered. Separate from the gallery data key; kept as a
 * PKCS#8 PEM file, mode 0600, created once and never overwritten.
 */
export interface DeviceKey {
  privateKey: KeyObject;
  publicJwk: Ed25519PublicJwk;
  /** RFC 7638 thumbprint of the public JWK, sent as the JWS `kid`. */
  kid: string;
}

/** Loads the key at `path`, creating it first if there is none. Returns whether it was created. */
export function ensureDeviceKey(path: string): { key: DeviceKey; created: boolean } {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600); // 'x': an existing key is never replaced
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return { key: loadDeviceKey(path), created: false };
    throw new FacegateError('FG_ERR_DEVICE_KEY_WRITE', `cannot create device key ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'check that the key directory is writable by the facegate user');
  }
  try {
    writeSync(fd, pem);
  } finally {
    closeSync(fd);
  }
  return { key: fromPrivateKey(privateKey), created: true };
}

export function loadDeviceKey(path: string): DeviceKey {
  let text: string;
  try {
    text = readInputFile(path, 'key', 'device key', (st) => {
      const mode = st.mode & 0o777;
      if (mode & 0o077) {
        throw new FacegateError('FG_ERR_DEVICE_KEY_PERMISSIONS', `device key ${path} is readable by others (mode ${mode.toString(8)})`, `run: chmod 600 ${path}`);
      }
    }).toString('utf8');
  } catch (e) {
    if (e instanceof FacegateError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new FacegateError('FG_ERR_DEVICE_KEY_MISSING', `no device key at ${path}`, 'run `facegate keys init` first');
    throw new FacegateError('FG_ERR_DEVICE_KEY_UNREADABLE', `cannot read device key ${path}: ${code ?? (e as Error).message}`, 'check its owner and permissions');
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(text);
  } catch {
    throw new FacegateError('FG_ERR_DEVICE_KEY_INVALID', `device key ${path} is not a PEM private key`, 'restore it from backup; a new key means central servers must trust the new public key');
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new FacegateError('FG_ERR_DEVICE_KEY_INVALID', `device key ${path} is ${privateKey.asymmetricKeyType ?? 'unknown'}, not Ed25519`, 'restore the Ed25519 key made by `facegate keys init`');
  }
  return fromPrivateKey(privateKey);
}

function fromPrivateKey(privateKey: KeyObject): DeviceKey {
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' }) as { x: string };
  const kid = jwkThumbprint(jwk.x);
  return { privateKey, kid, publicJwk: { kty: 'OKP', crv: 'Ed25519', x: jwk.x, kid, alg: 'EdDSA', use: 'sig' } };
}
