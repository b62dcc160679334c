import { LockFile, probeLockFile } from '../store/lock-file.js';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { FacegateError } from '../base/errors.js';
import { ensurePrivateFile, writePrivateFile } from '../base/private-files.js';

/**
 * Held while this object is referenced: the lock file's handle is closed by the garbage collector
 * once nothing refers to it, and the lock goes with it (LockFile). Keep it until release().
 */
export interface DaemonLock {
  release(): void;
}

interface Owner {
  pid: number;
  started: string;
}

/**
 * One daemon per state file. The lock is a LockFile on `<state>.lock`, held for the daemon's life:
 * the kernel drops it when the process dies, so a killed daemon never leaves a stale lock behind
 * (a pid file alone would).
 * The CLI does not take it: it asks `daemonHolding` and goes through the daemon's control socket.
 */
export function acquireDaemonLock(statePath: string, now: () => Date = () => new Date()): DaemonLock {
  const lockPath = `${statePath}.lock`;
  const ownerPath = `${lockPath}.owner`;
  let file: LockFile;
  try {
    // Whoever can write the lock file can hold the lock and keep the daemon from starting.
    ensurePrivateFile(lockPath);
    file = LockFile.open(lockPath);
  } catch (e) {
    throw new FacegateError('FG_ERR_LOCK_OPEN', `cannot create the lock file ${lockPath}: ${(e as Error).message}`, "check that the state folder exists and belongs to the daemon's user");
  }
  if (!file.take()) {
    const owner = readOwner(ownerPath);
    throw new FacegateError(
      'FG_ERR_ALREADY_RUNNING',
      `another facegate daemon${owner ? ` (pid ${owner.pid}, started ${owner.started})` : ''} already uses ${statePath}`,
      'stop it first (systemctl stop facegate), or give this one its own gallery.path',
    );
  }
  const owner: Owner = { pid: process.pid, started: now().toISOString() };
  writePrivateFile(ownerPath, JSON.stringify(owner) + '\n', { mode: 0o640 });
  return {
    release() {
      if (!file.open) return;
      rmSync(ownerPath, { force: true });
      file.release();
    },
  };
}

/**
 * Whether a daemon holds the lock of this state file now, and which one. The lock file is opened
 * read-only (nothing is created or taken); a read of it fails busy while a daemon holds it. Where
 * this user may not read the lock file, the owner file (removed at a clean stop) decides.
 */
export function daemonHolding(statePath: string): { pid?: number } | undefined {
  const lockPath = `${statePath}.lock`;
  if (!existsSync(lockPath)) return undefined;
  const owner = readOwner(`${lockPath}.owner`);
  switch (probeLockFile(lockPath)) {
    case 'unreadable':
      return owner ? { pid: owner.pid } : undefined;
    case 'free':
      return undefined;
    case 'held':
      return owner ? { pid: owner.pid } : {};
  }
}

function readOwner(path: string): Owner | undefined {
  try {
    const o = JSON.parse(readFileSync(path, 'utf8')) as Owner;
    return typeof o.pid === 'number' ? o : undefined;
  } catch {
    return undefined;
  }
}
