import { Sqlite, type Database } from './sqlite.js';

/**
 * A lock the kernel drops when its process dies, on a file of its own: an exclusive SQLite
 * transaction held open, which SQLite takes with fcntl. The file holds no rows of any stage, only
 * the lock; the SQL that takes and probes it stays here, with the rest of the daemon's SQLite
 * plumbing. The daemon lock (system/lock.ts) is one, on `<state>.lock`.
 *
 * Held while this object is referenced: its SQLite handle is closed by the garbage collector once
 * nothing refers to it, and the lock goes with it.
 */
export class LockFile {
  private constructor(private readonly db: Database) {}

  /** Opens the lock file, made if missing; throws as SQLite does where it cannot. */
  static open(path: string): LockFile {
    return new LockFile(new Sqlite(path));
  }

  /**
   * Takes the lock now, or answers false where another process holds it. Either way but taken, the
   * file is closed again; an error other than that one is thrown.
   */
  take(): boolean {
    const db = this.db;
    try {
      db.pragma('busy_timeout = 0');
      db.pragma('locking_mode = EXCLUSIVE');
      db.exec('BEGIN EXCLUSIVE');
      // A write makes SQLite take the file lock now, not at commit.
      db.exec('CREATE TABLE IF NOT EXISTS held (x); DELETE FROM held;');
      return true;
    } catch (e) {
      db.close();
      if ((e as { code?: string }).code !== 'SQLITE_BUSY') throw e;
      return false;
    }
  }

  /** Whether the file is still open, and so the lock, once taken, still held. */
  get open(): boolean {
    return this.db.open;
  }

  /** Lets the lock go. */
  release(): void {
    this.db.close();
  }
}

/**
 * Whether a process holds the lock on the file at `path` now: the file is opened read-only (nothing
 * is created or taken), and a read of it fails busy while the lock is held. 'unreadable' where it
 * cannot be opened (this user may not read it); another error is thrown.
 */
export function probeLockFile(path: string): 'held' | 'free' | 'unreadable' {
  let db: Database;
  try {
    db = new Sqlite(path, { readonly: true, fileMustExist: true });
  } catch {
    return 'unreadable';
  }
  try {
    db.pragma('busy_timeout = 0');
    db.prepare('SELECT COUNT(*) FROM sqlite_master').get();
    return 'free';
  } catch (e) {
    if ((e as { code?: string }).code !== 'SQLITE_BUSY') throw e;
    return 'held';
  } finally {
    db.close();
  }
}
