import type { Database } from 'better-sqlite3';
import { TamperError, type CellRef, type Sealer } from './seal.js';

export interface VerifyReport {
  checked: { persons: number; templates: number; thumbnails: number; cells: number };
  /** Sealed cells that failed authentication, with the row and person they belong to. */
  damaged: CellRef[];
  /** SQLite's own findings (quick_check, foreign keys); empty when the file is sound. */
  integrity: string[];
}

/** Which columns of which tables are sealed; the one list that verify and rotation walk. */
export const SEALED_COLUMNS = {
  persons: ['name', 'external_id', 'grp'],
  templates: ['embedding', 'source'],
  thumbnails: ['jpeg'],
} as const satisfies Record<CellRef['table'], readonly string[]>;

type SealedTable = keyof typeof SEALED_COLUMNS;

/** Each sealed cell of each row with the place it is bound to; persons' own id is their person id. */
export function* sealedCells(db: Database, table: SealedTable): Generator<{ ref: CellRef; value: Buffer }> {
  const columns = SEALED_COLUMNS[table];
  const personColumn = table === 'persons' ? 'id' : 'person_id';
  const sql = `SELECT id, ${personColumn} AS person_id, ${columns.join(', ')} FROM ${table} ORDER BY id`;
  for (const row of db.prepare(sql).iterate() as Iterable<Record<string, unknown>>) {
    for (const column of columns) {
      const value = row[column];
      if (value === null) continue;
      yield { ref: { table, column, rowId: row.id as string | number, personId: row.person_id as string }, value: value as Buffer };
    }
  }
}

/** Opens every sealed cell of every row (and zeroes what it opened); reports, never stops at the first. */
export function verifyGallery(db: Database, sealer: Sealer): VerifyReport {
  const damaged: CellRef[] = [];
  let cells = 0;
  for (const table of Object.keys(SEALED_COLUMNS) as SealedTable[]) {
    for (const { ref, value } of sealedCells(db, table)) {
      cells++;
      try {
        sealer.open(ref, value).fill(0);
      } catch (e) {
        if (!(e instanceof TamperError)) throw e;
        damaged.push(ref);
      }
    }
  }
  const count = (t: string) => (db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get() as { n: number }).n;
  const quick = (db.pragma('quick_check') as Array<{ quick_check: string }>).map((r) => r.quick_check).filter((s) => s !== 'ok');
  const fk = (db.pragma('foreign_key_check') as Array<{ table: string; rowid: number; parent: string }>).map(
    (r) => `${r.table} row ${r.rowid} points to a missing ${r.parent} row`,
  );
  return {
    checked: { persons: count('persons'), templates: count('templates'), thumbnails: count('thumbnails'), cells },
    damaged,
    integrity: [...quick, ...fk],
  };
}
