import { lstatSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Database } from 'better-sqlite3';
import { FacegateError } from '../base/errors.js';
import { readInputFile } from '../base/input-file.js';
import { renameDurably, writePrivateFile } from '../base/private-files.js';

/**
 * Rollback detection. Every change of the gallery raises its generation inside the file, in the
 * change's own transaction (triggers, daemon/store/schema/gallery-generation.ts). The anchor is a
 * copy of the last generation seen, kept in a file beside the state file, `<state>.generation`: the
 * one place the hardened unit lets the daemon write (ProtectSystem=strict; /etc/facegate and a
 * credential are read-only, and a passphrase has no file at all). An older copy of the state file
 * put back has a lower generation than the anchor, and is refused at open.
 *
 * Crash safety, and why the rule is "refused only when the file is BEHIND the anchor":
 * - The anchor is written only after the change committed (synchronous=FULL: the commit is on
 *   disk), and only with a generation read from the file. A crash between the commit and the
 *   anchor's write leaves the file ahead of the anchor, which is accepted and the anchor caught up;
 *   so no crash, power cut or kill at any point can leave the anchor ahead of the file it follows.
 * - The anchor is replaced by rename, after fsync of the new file and then of its folder: it is
 *   the old number or the new one, never a torn one.
 * - Two processes (the daemon, a CLI beside it) may race to write it; the loser can only write an
 *   older number that was committed, so the race weakens detection for a moment and never locks
 *   the box out.
 * What it does not catch: the state file and its anchor put back together (a copy of the whole
 * state folder), or the anchor deleted or spoilt (taken as a first start, with a warning). The
 * generation is also published, signed, in the `started` bridge event and in bridge/info, so that
 * a central server that remembers it sees any step back (docs/gallery.md).
 */
export interface GenerationAnchor {
  /** The gallery the anchor follows: a new gallery at the same path starts its own count. */
  galleryId: string;
  generation: number;
}

export function anchorPath(statePath: string): string {
  return `${statePath}.generation`;
}

/** The file's own generation (0 before any change). */
export function stateGeneration(db: Database): number {
  const row = db.prepare('SELECT generation FROM gallery_meta WHERE id = 1').get() as { generation: number } | undefined;
  return row?.generation ?? 0;
}

/**
 * The anchor beside the state file: none when there is none yet. One that cannot be read or was
 * not written by facegate is reported as a problem and counts as none: refusing to start over it
 * would lock a box out for a file its admin cannot fix by restarting, and whoever can spoil it can
 * delete it too.
 */
export function readAnchor(path: string): { anchor?: GenerationAnchor; problem?: string } {
  let text: string;
  try {
    text = readInputFile(path, 'key', 'gallery generation anchor').toString('utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    return { problem: e instanceof FacegateError ? e.message : `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
  }
  const anchor = parseAnchor(text);
  return anchor ? { anchor } : { problem: `${path} is not a generation anchor facegate wrote` };
}

function parseAnchor(text: string): GenerationAnchor | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { gallery_id: galleryId, generation } = value as Record<string, unknown>;
  if (typeof galleryId !== 'string' || !/^[0-9a-f]{1,64}$/.test(galleryId)) return undefined;
  if (typeof generation !== 'number' || !Number.isSafeInteger(generation) || generation < 0) return undefined;
  return { galleryId, generation };
}

/**
 * Replaces the anchor whole: written to a temporary file, synced, renamed over, the folder synced.
 * The temporary name is the anchor's own: whatever is found there (a leftover of a crash, or a link
 * the daemon's user planted for root to write through) is removed, and the file is made fresh.
 */
export function writeAnchor(path: string, anchor: GenerationAnchor): void {
  const next = `${path}.new`;
  rmSync(next, { force: true });
  writePrivateFile(next, JSON.stringify({ gallery_id: anchor.galleryId, generation: anchor.generation }) + '\n', { exclusive: true, sync: true, ...keptOwner(path) });
  renameDurably(next, path);
}

/**
 * Root running a CLI command writes the anchor as root; the daemon's user must still read it, so
 * the new file gets the owner of the one it replaces (or of the state folder).
 */
function keptOwner(path: string): { owner?: { uid: number; gid: number } } {
  if (process.getuid?.() !== 0) return {};
  let owner: { uid: number; gid: number };
  try {
    owner = lstatSync(path);
  } catch {
    owner = lstatSync(dirname(path));
  }
  return { owner: { uid: owner.uid, gid: owner.gid } };
}

/** Whether the file may be opened with this anchor: refused only when it is behind it. */
export function rollbackError(statePath: string, galleryId: string, generation: number, anchor: GenerationAnchor | undefined): FacegateError | undefined {
  if (!anchor || anchor.galleryId !== galleryId || generation >= anchor.generation) return undefined;
  return new FacegateError(
    'FG_ERR_GALLERY_ROLLBACK',
    `gallery ${statePath} is at generation ${generation}, older than the ${anchor.generation} recorded in ${anchorPath(statePath)}: ` +
      'an older copy of the state file was put back, and persons removed since then would be recognised again',
    "put the current state file back; if the older copy was restored on purpose, run 'facegate gallery accept-restore' (audited), then start again",
  );
}
