import type { Database } from 'better-sqlite3';
import { FacegateError } from '../base/errors.js';

/**
 * One forward-only schema step. `version` is the schema version the database has after `up` ran;
 * versions are 1, 2, 3 ... with no gaps, in the order they are listed.
 */
export interface Migration {
  readonly version: number;
  /** Which stage owns the step and what it does, for error messages and `PRAGMA user_version` audits. */
  readonly description: string;
  up(db: Database): void;
}

/** The schema version recorded in the file (0 for an empty file). */
export function schemaVersion(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Refuses a list that is not 1..n in order: a merge mistake must not reach a user's database. */
export function checkMigrationList(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new Error(`migration list out of order: position ${i} has version ${m.version}, expected ${i + 1}`);
    }
  });
}

/**
 * Brings the database to the newest version, each step in its own transaction together with the
 * version bump, so that an interruption leaves the file at the last completed step.
 * A file written by a newer facegate (a version we do not know) is refused, never downgraded.
 */
export function migrate(db: Database, migrations: readonly Migration[], source: string): { from: number; to: number } {
  checkMigrationList(migrations);
  const from = schemaVersion(db);
  const latest = migrations.length;
  if (from > latest) {
    throw new FacegateError(
      'FG_ERR_DB_TOO_NEW',
      `database ${source} has schema version ${from}, newer than this facegate knows (${latest})`,
      'run the facegate version that wrote it, or restore a backup made for this version',
    );
  }
  for (const m of migrations.slice(from)) {
    db.transaction(() => {
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
  return { from, to: latest };
}
