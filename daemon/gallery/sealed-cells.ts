import type { Database } from 'better-sqlite3';
import type { CellRef, Sealer } from './seal.js';

/**
 * A sealed value and the place (table, column, row, person) its associated data binds it to. NULL
 * where the row holds none: every sealed column always holds a sealed value, so that is tampering.
 */
export interface SealedCell {
  ref: CellRef;
  value: Buffer | null;
}

/**
 * The cells one stage seals under the gallery's data key. Verify opens every cell of every source;
 * re-encryption re-seals them all in one transaction, so a stage whose cells were missing from the
 * list would lose them to `keys rotate --reencrypt`: every stage that seals names its source in
 * daemon/service/sealed-cells.ts.
 */
export interface SealedCellSource {
  cells(db: Database): Iterable<SealedCell>;
  /** Puts `plain`, sealed by `to` for the same place, back where `ref` was read from. */
  reseal(db: Database, ref: CellRef, plain: Uint8Array, to: Sealer): void;
}

/** Which columns of which gallery tables are sealed. */
export const SEALED_COLUMNS = {
  persons: ['name', 'external_id', 'grp'],
  templates: ['embedding', 'source'],
  thumbnails: ['jpeg'],
} as const satisfies Record<Exclude<CellRef['table'], 'unknown_persons' | 'outbox' | 'outbox_sent' | 'timeline' | 'feed_keys'>, readonly string[]>;

type SealedTable = keyof typeof SEALED_COLUMNS;

/**
 * The format of person rows: 2 seals an absent external id or group as the empty string, so that
 * none of a person's sealed cells is ever NULL; it is bound into the name cell, which every row
 * has. Rows written before (no format: NULL meant "none") are upgraded when the gallery opens.
 */
export const PERSON_ROW_FORMAT = 2;

/** Where a gallery cell lives, as its associated data names it. */
export function galleryCellRef(table: SealedTable, column: string, rowId: string | number, personId: string): CellRef {
  const ref: CellRef = { table, column, rowId, personId };
  return table === 'persons' && column === 'name' ? { ...ref, rowFormat: PERSON_ROW_FORMAT } : ref;
}

/** The lookup hash a person row holds for its external id: none (NULL) when it has none (''). */
export function externalIdHash(sealer: Sealer, externalId: string | null): Buffer | null {
  return externalId ? Buffer.from(sealer.hashExternalId(externalId)) : null;
}

/** Each sealed cell of each gallery row, NULLs included; persons' own id is their person id. */
export function* sealedCells(db: Database, table: SealedTable): Generator<SealedCell> {
  const columns = SEALED_COLUMNS[table];
  const personColumn = table === 'persons' ? 'id' : 'person_id';
  const sql = `SELECT id, ${personColumn} AS person_id, ${columns.join(', ')} FROM ${table} ORDER BY id`;
  for (const row of db.prepare(sql).iterate() as Iterable<Record<string, unknown>>) {
    for (const column of columns) {
      yield { ref: galleryCellRef(table, column, row.id as string | number, row.person_id as string), value: row[column] as Buffer | null };
    }
  }
}

export const GALLERY_SEALED_CELLS: SealedCellSource = {
  *cells(db) {
    for (const table of Object.keys(SEALED_COLUMNS) as SealedTable[]) yield* sealedCells(db, table);
  },
  reseal(db, ref, plain, to) {
    db.prepare(`UPDATE ${ref.table} SET ${ref.column} = ? WHERE id = ?`).run(Buffer.from(to.seal(ref, plain)), ref.rowId);
    // The equality hash of the external id is keyed by the data key too.
    if (ref.table === 'persons' && ref.column === 'external_id') {
      db.prepare('UPDATE persons SET external_id_hash = ? WHERE id = ?').run(externalIdHash(to, new TextDecoder().decode(plain)), ref.rowId);
    }
  },
};
