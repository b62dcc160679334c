import { Sqlite, type Database } from './sqlite.js';
import { existsSync } from 'node:fs';
import { FacegateError } from '../base/errors.js';
import { ensurePrivateFile, refuseStateLinks, tightenFile } from '../base/private-files.js';
import { migrate, type Migration } from './migrate.js';
import { MIGRATIONS } from './migrations.js';

export type { Database };

/**
 * Runs a write in one transaction of the state file. A caller may pass one that also writes its own
 * records (a remote command's token claim, audit row and answer), so that the write and those
 * records are kept together or not at all.
 */
export type Commit<T> = (write: () => T) => T;

export interface OpenDatabaseOptions {
  /** Defaults to every migration facegate knows; tests pass a prefix to build older versions. */
  migrations?: readonly Migration[];
  /** Refuse rather than create a missing file (read-only commands such as `gallery verify`). */
  mustExist?: boolean;
  busyTimeoutMs?: number;
  /**
   * Runs before any migration, on the file as it is: the gallery checks its key here, so that a
   * wrong key is refused before a newer facegate has changed anything in the file.
   */
  beforeMigrate?: (db: Database) => void;
}

/**
 * Opens the daemon's one state file with the settings every stage relies on, then migrates it:
 * WAL (readers never block the writer), a busy timeout (CLI beside the daemon), foreign keys
 * (deleting a person cascades to its templates), and secure_delete (erased rows are zeroed in the
 * file, so a removed person leaves no bytes behind).
 */
export function openDatabase(path: string, options: OpenDatabaseOptions = {}): Database {
  if (options.mustExist && path !== ':memory:' && !existsSync(path)) {
    throw new FacegateError('FG_ERR_DB_MISSING', `database ${path} does not exist`, 'check the gallery path (--gallery or gallery.path in the config)');
  }
  // Before anything opens or tightens them: SQLite follows links, and a CLI command may run as root.
  if (path !== ':memory:') refuseStateLinks(path);
  let db: Database;
  try {
    if (path !== ':memory:') {
      // The state file holds the sealed gallery, the audit trail and the outbox: 0600 from its
      // first byte, and its -wal and -shm (SQLite gives them the state file's mode).
      ensurePrivateFile(path);
      tightenFile(`${path}-wal`);
      tightenFile(`${path}-shm`);
    }
    db = new Sqlite(path);
  } catch (e) {
    throw new FacegateError('FG_ERR_DB_OPEN', `cannot open database ${path}: ${(e as Error).message}`, 'check the path and its permissions', { cause: e });
  }
  try {
    db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('secure_delete = ON');
    options.beforeMigrate?.(db);
    migrate(db, options.migrations ?? MIGRATIONS, path);
    return db;
  } catch (e) {
    db.close();
    if (e instanceof FacegateError) throw e;
    const code = (e as { code?: string }).code;
    if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
      throw new FacegateError('FG_ERR_DB_CORRUPT', `${path} is not a readable facegate database (${code})`, 'restore it from a backup or an export', { cause: e });
    }
    throw e;
  }
}

/** SQLite's own findings on the file (quick_check, foreign keys); empty when it is sound. */
export function integrityProblems(db: Database): string[] {
  const quick = (db.pragma('quick_check') as Array<{ quick_check: string }>).map((r) => r.quick_check).filter((s) => s !== 'ok');
  const fk = (db.pragma('foreign_key_check') as Array<{ table: string; rowid: number; parent: string }>).map((r) => `${r.table} row ${r.rowid} points to a missing ${r.parent} row`);
  return [...quick, ...fk];
}

/** Copies the WAL into the file and truncates it, so that pages written before (old keys, erased rows) do not linger in the -wal. */
export function checkpointWal(db: Database): void {
  db.pragma('wal_checkpoint(TRUNCATE)');
}
