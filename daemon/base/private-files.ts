import { chmodSync, closeSync, constants, fchmodSync, fchownSync, fstatSync, fsyncSync, ftruncateSync, lstatSync, mkdirSync, openSync, renameSync, writeSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { FacegateError } from './errors.js';
import { fileKind } from './input-file.js';

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

export interface PrivateFileOptions {
  /** At most owner read/write by default; the few files meant for the daemon's group pass 0o640. */
  mode?: number;
  /** Never over an existing file (O_EXCL): an older export or key may be someone's only copy. */
  exclusive?: boolean;
  /** Synced to the disk before it is closed. */
  sync?: boolean;
  /** Given to this owner (fchown, as root): a file root writes for the daemon's user to read. */
  owner?: { uid: number; gid: number };
}

/**
 * Writes a whole file with `mode` (0600 by default), also when it already existed with a looser one.
 *
 * Never through a symbolic link: the path may be one a user gave on a command line, or lie in a
 * folder another user can write (the daemon's state folder, /tmp), where a link planted at it would
 * have this process (root, for a CLI run with sudo) truncate, chmod or chown whatever it points to.
 * O_NOFOLLOW refuses a link as the path's last part, and the file opened is checked to be a regular
 * file before anything of it is changed, through its descriptor only (O_NONBLOCK: a FIFO with no
 * reader is refused instead of blocking). A link higher up the path is the user's own choice of
 * folder and is followed.
 */
export function writePrivateFile(path: string, data: string | Uint8Array, options: PrivateFileOptions = {}): void {
  const mode = options.mode ?? 0o600;
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY | (options.exclusive ? constants.O_EXCL : 0);
  let fd: number;
  try {
    fd = openSync(path, flags, mode);
  } catch (e) {
    throw outputError(path, e);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw notAFile(path, st);
    ftruncateSync(fd, 0);
    if (options.owner) fchownSync(fd, options.owner.uid, options.owner.gid);
    fchmodSync(fd, mode);
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    if (options.sync) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * A folder for files a command writes (faces, thumbnails), made with its parents (0700) when it is
 * not there. A folder that is there must be one, not a symbolic link to one: the files would land
 * wherever it points.
 */
export function makePrivateFolder(path: string): void {
  try {
    mkdirSync(path, { recursive: true, mode: 0o700 });
  } catch (e) {
    // Something other than a folder is there: said below.
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw outputError(path, e);
  }
  const st = lstatSync(path);
  if (st.isSymbolicLink()) throw symlinkError(path);
  if (!st.isDirectory()) throw new FacegateError('FG_ERR_OUTPUT_NOT_FILE', `${path} is not a folder; nothing was written`, 'give the path of a folder, or of one to make');
}

function outputError(path: string, e: unknown): FacegateError {
  const code = (e as NodeJS.ErrnoException).code;
  let st: Stats | undefined;
  try {
    st = lstatSync(path);
  } catch {
    // not there: the folder above is missing or not writable
  }
  if (st?.isSymbolicLink()) return symlinkError(path);
  if (code === 'EEXIST' && st?.isFile()) return new FacegateError('FG_ERR_OUTPUT_EXISTS', `${path} already exists; refusing to overwrite it`, 'choose another file name');
  if (st && !st.isFile() && (code === 'EISDIR' || code === 'ENXIO' || code === 'EEXIST')) return notAFile(path, st);
  return new FacegateError('FG_ERR_OUTPUT_WRITE', `cannot write ${path}: ${code ?? (e as Error).message}`, 'check that its folder exists and that this user may write there');
}

function symlinkError(path: string): FacegateError {
  return new FacegateError(
    'FG_ERR_OUTPUT_SYMLINK',
    `${path} is a symbolic link; facegate never writes through one`,
    'give another path, or remove the link if you made it (one you did not make may have been planted: look at where it points)',
  );
}

function notAFile(path: string, st: Stats): FacegateError {
  return new FacegateError('FG_ERR_OUTPUT_NOT_FILE', `${path} is ${fileKind(st)}, not a regular file; nothing was written`, 'give the path of a new or regular file');
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
    // A link is never followed: as root, chmod through one planted in a folder the daemon's user
    // writes would change whatever it points to.
    const st = lstatSync(path);
    if (st.isSymbolicLink()) throw stateLinkError(path);
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

/**
 * The state file, or a file SQLite keeps beside it, is a symbolic link. The folder belongs to the
 * daemon's user, so a compromised daemon could plant one to have a command run as root write or
 * chmod where it points: refused, never followed.
 */
export function stateLinkError(path: string): FacegateError {
  return new FacegateError('FG_ERR_STATE_SYMLINK', `${path} is a symbolic link; the state file and its -wal, -shm and -journal files must be plain files`, 'check that what the link points to is intact, remove the link and find out how it got there, then run the command again');
}

/** Refuses the state file at `path` when it or a file SQLite opens beside it is a symbolic link. */
export function refuseStateLinks(path: string): void {
  for (const p of [path, `${path}-wal`, `${path}-shm`, `${path}-journal`]) {
    let st: Stats;
    try {
      st = lstatSync(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    if (st.isSymbolicLink()) throw stateLinkError(p);
  }
}
