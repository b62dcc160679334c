import { Worker } from 'node:worker_threads';
import { FacegateError } from '../base/errors.js';

export const MIN_PASSWORD = 12;
export const MAX_PASSWORD = 256;

/**
 * The worker: libsodium's crypto_pwhash_str at its "interactive" cost (Argon2id, 64 MiB, 2 passes,
 * ~0.17 s on the box). Plain JavaScript run from a string, so it needs no TypeScript loader; it
 * imports libsodium by the URL the daemon resolved.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
import(workerData.sodium).then(async (m) => {
  const sodium = m.default ?? m;
  await sodium.ready;
  parentPort.on('message', ({ id, password, hash }) => {
    try {
      const result = hash === undefined
        ? sodium.crypto_pwhash_str(password, sodium.crypto_pwhash_OPSLIMIT_INTERACTIVE, sodium.crypto_pwhash_MEMLIMIT_INTERACTIVE)
        : sodium.crypto_pwhash_str_verify(hash, password);
      parentPort.postMessage({ id, result });
    } catch (e) {
      parentPort.postMessage({ id, error: String(e && e.message) });
    }
  });
});
`;

/**
 * Argon2id hashes of the console's passwords, computed on a thread of their own: a login costs the
 * main thread (which reads the cameras' pipes and serves MQTT) nothing. One check at a time; the
 * login rate limits bound how many wait. The salt and the cost are in the hash string, so they can
 * be raised later.
 */
export class PasswordHasher {
  private worker: Worker | undefined;
  private next = 0;
  private readonly waiting = new Map<number, { resolve: (v: string | boolean) => void; reject: (e: Error) => void }>();
  /** Verified against when no account has the name, so that an unknown name takes as long as a known one. */
  private dummy: Promise<string> | undefined;

  hash(password: string): Promise<string> {
    return this.call({ password }) as Promise<string>;
  }

  async verify(hash: string | undefined, password: string): Promise<boolean> {
    this.dummy ??= this.hash('facegate-dummy-password');
    try {
      return ((await this.call({ password, hash: hash ?? (await this.dummy) })) as boolean) && hash !== undefined;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    await w?.terminate();
  }

  private call(msg: { password: string; hash?: string }): Promise<string | boolean> {
    const w = (this.worker ??= this.spawn());
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      w.postMessage({ id, ...msg });
      w.ref();
    });
  }

  private spawn(): Worker {
    const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { sodium: import.meta.resolve('libsodium-wrappers-sumo') } });
    w.on('message', (m: { id: number; result?: string | boolean; error?: string }) => {
      const p = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (this.waiting.size === 0) w.unref();
      if (m.error !== undefined) p?.reject(new Error(m.error));
      else p?.resolve(m.result!);
    });
    w.on('error', (e) => {
      for (const p of this.waiting.values()) p.reject(e);
      this.waiting.clear();
      if (this.worker === w) this.worker = undefined;
    });
    // Idle, the thread does not keep the process alive (a CLI command ends when it is done).
    w.unref();
    return w;
  }
}

/** A password a person chose: long enough to resist guessing, short enough to hash in bounded time. */
export function checkNewPassword(password: string): void {
  const n = [...password].length;
  if (n < MIN_PASSWORD || n > MAX_PASSWORD) {
    throw new FacegateError('FG_ERR_WEB_PASSWORD_WEAK', `a password must be ${MIN_PASSWORD} to ${MAX_PASSWORD} characters long (this one has ${n})`, 'choose a longer passphrase, e.g. four unrelated words');
  }
}
