import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { FacegateError } from './errors.js';

/**
 * Files named from outside (CLI arguments, control requests, the config and the files it names)
 * are opened through here and nowhere else. A path may end at anything: a symlink to /dev/zero or
 * /dev/urandom would be read for ever, a FIFO would block the reader until someone writes to it,
 * a huge file would be loaded whole into memory. So: open without blocking (O_NONBLOCK, which lets
 * a FIFO's open return instead of waiting for a writer and changes nothing for a regular file),
 * fstat the descriptor (what was opened, not what the path pointed at a moment earlier), accept a
 * regular file only, and read at most the size cap of its kind, however big the file says it is
 * or grows meanwhile. Symlinks are followed (installations link configs and keys into place) but
 * only to a regular file, which the fstat checks.
 */
export type InputKind = 'image' | 'video' | 'config' | 'key' | 'export' | 'roster';

const MiB = 1024 * 1024;

/** Largest file accepted of each kind, bytes. */
export const INPUT_FILE_LIMITS: Readonly<Record<InputKind, number>> = {
  // A 100-megapixel photo (the decoder's pixel limit) is well under this as JPEG or PNG.
  image: 64 * MiB,
  // Enrolment and scan read minutes at most; a longer recording is the wrong file.
  video: 4096 * MiB,
  config: 1 * MiB,
  // Keys, certificates and tokens are a few KiB.
  key: 1 * MiB,
  // A gallery export of a large site: templates and thumbnails of tens of thousands of persons.
  export: 2048 * MiB,
  // A staff roster (person import-roster): thousands of rows of a name, a number and a group.
  roster: 1 * MiB,
};

const CHUNK = 1 * MiB;

/**
 * Reads a whole input file, bounded. `label` names it in messages ("image", "config",
 * "mqtt.tls.ca"); `check` may refuse it from its fstat (key files check their mode there).
 * Failures to open (ENOENT, EACCES ...) are thrown as the system error, for the caller to word in
 * its own code; a file that is not a regular one or too large is a FacegateError.
 */
export function readInputFile(path: string, kind: InputKind, label: string, check?: (st: Stats) => void): Buffer {
  const fd = openInput(path);
  try {
    const st = inspect(fd, path, kind, label);
    check?.(st);
    const cap = INPUT_FILE_LIMITS[kind];
    const chunks: Buffer[] = [];
    let total = 0;
    // The whole file in one buffer as fstat sizes it (one byte more, to notice a longer file),
    // then on to EOF in chunks with the cap as the bound: the size may be stale or, in /proc, 0.
    let want = Math.min(st.size, cap) + 1;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(want, cap + 1 - total));
      want = CHUNK;
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(n === chunk.length ? chunk : chunk.subarray(0, n));
      total += n;
      if (total > cap) throw tooLarge(path, kind, label, total, true);
    }
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}

/**
 * Checks a file that another program will open by its path (ffmpeg for videos): a regular file
 * within the cap. The program opens it again, so this guards against a wrong path (a device, a
 * FIFO, a folder), not against someone replacing the file in between.
 */
export function checkInputFile(path: string, kind: InputKind, label: string): void {
  const fd = openInput(path);
  try {
    inspect(fd, path, kind, label);
  } finally {
    closeSync(fd);
  }
}

/** The system error's code, worded for a message ("no such file", "permission denied"). */
export function describeOpenError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ELOOP') return 'too many symbolic links';
  return code ?? (e as Error).message;
}

function openInput(path: string): number {
  return openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
}

function inspect(fd: number, path: string, kind: InputKind, label: string): Stats {
  const st = fstatSync(fd);
  if (!st.isFile()) {
    throw new FacegateError(
      'FG_ERR_INPUT_NOT_FILE',
      `${label} ${path} is ${fileKind(st)}, not a regular file`,
      'give the path of a regular file (a symbolic link is followed only when it ends at one)',
    );
  }
  if (st.size > INPUT_FILE_LIMITS[kind]) throw tooLarge(path, kind, label, st.size, false);
  return st;
}

function tooLarge(path: string, kind: InputKind, label: string, size: number, grew: boolean): FacegateError {
  const cap = mib(INPUT_FILE_LIMITS[kind]);
  return new FacegateError(
    'FG_ERR_INPUT_TOO_LARGE',
    `${label} ${path} is larger than the ${cap} ${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind} file may have (${grew ? 'it grew while being read' : mib(size)})`,
    'check that this is the right file; a file this large is not one facegate reads',
  );
}

function mib(bytes: number): string {
  return bytes >= MiB ? `${(bytes / MiB).toFixed(bytes >= 100 * MiB ? 0 : 1)} MiB` : `${bytes} bytes`;
}

/** What a path that is not a regular file is, in words, for the errors that refuse it. */
export function fileKind(st: Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a file';
}
