import { chmodSync, closeSync, constants, fchmodSync, fsyncSync, openSync, renameSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Files facegate makes hold faces, names, keys and the audit trail: at most owner read/write (and
 * group read for the few meant for the daemon's group), whatever umask the process was started
 * with: SQLite creates files 0644 less the umask, so 022 leaves the state file readable by every
 * local user and 000 makes it writable by them too.
 *
 * Adds group-write and all "other" bits to this process's umask, so that every file and folder it
 * creates (SQLite's -wal and -shm, sockets before their chmod) is at most 0640 / 0750. Only ever
 * tightens: a stricter umask given by the service manager stays.
 */
export function tightenUmask(): void {
  const old = process.umask(0o027);
  process.umask(old | 0o027);
}

/** Writes a whole file with `mode` (0600 by default), also when it already existed with a looser one. */
export function writePrivateFile(path: string, data: string | Uint8Array, mode = 0o600): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, mode);
  try {
    fchmodSync(fd, mode);
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
  } finally {
    closeSync(fd);
  }
}

/**
 * Makes an empty file with `mode` before a library creates it with its own default (SQLite: 0644
 * less the umask; its -wal and -shm then copy the database file's mode), and takes the bits beyond
 * `mode` off a file that exists, e.g. one an older facegate made 0644. Returns whether it created it.
 */
export function ensurePrivateFile(path: string, mode = 0o600): boolean {
  try {
    closeSync(openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode));
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  tightenFile(path, mode);
  return false;
}

/** Takes the bits beyond `most` off an existing regular file; a file this user may not change is left as it is. */
export function tightenFile(path: string, most = 0o600): void {
  try {
    const st = statSync(path);
    if (st.isFile() && (st.mode & 0o777 & ~most) !== 0) chmodSync(path, st.mode & most);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'EPERM') throw e;
  }
}

/**
 * Puts `from` in place of `to` and makes the rename itself durable (the folder synced): after a
 * crash the path holds the old file or the new one, never neither.
 */
export function renameDurably(from: string, to: string): void {
  renameSync(from, to);
  const dir = openSync(dirname(to), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}
