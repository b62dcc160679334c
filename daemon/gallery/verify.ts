import type { Database } from 'better-sqlite3';
import { SEALED_CELL_SOURCES } from '../store/sealed-cells.js';
import type { SealedCellSource } from './sealed-cells.js';
import { TamperError, type CellRef, type Sealer } from './seal.js';

export interface VerifyReport {
  checked: { persons: number; templates: number; thumbnails: number; cells: number };
  /** Sealed cells that failed authentication, with the row and person they belong to. */
  damaged: CellRef[];
  /** SQLite's own findings (quick_check, foreign keys); empty when the file is sound. */
  integrity: string[];
}

/** Opens every sealed cell of every row (and zeroes what it opened); reports, never stops at the first. */
export function verifyGallery(db: Database, sealer: Sealer, sources: readonly SealedCellSource[] = SEALED_CELL_SOURCES): VerifyReport {
  const damaged: CellRef[] = [];
  let cells = 0;
  for (const source of sources) {
    for (const { ref, value } of source.cells(db)) {
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
