import type { Database } from 'better-sqlite3';
import { SEALED_CELL_SOURCES } from './sealed-cells.js';
import { orphanReason, type OrphanReason } from '../gallery/integrity.js';
import type { SealedCellSource } from '../gallery/sealed-cells.js';
import { TamperError, type CellRef, type Sealer } from '../gallery/seal.js';
import { GalleryStore } from '../gallery/store.js';
import { integrityProblems } from '../store/database.js';

export interface OrphanTemplate {
  templateId: number;
  personId: string;
  reason: OrphanReason;
}

/** A thumbnail whose clear-text template link names a template of another person. */
export interface CrossLink {
  thumbnailId: number;
  personId: string;
  templateId: number;
  templatePersonId: string;
}

export interface VerifyReport {
  checked: { persons: number; templates: number; thumbnails: number; cells: number };
  /** Sealed cells that failed authentication, with the row and person they belong to. */
  damaged: CellRef[];
  /** Sealed cells that are NULL: absence is sealed too, so their value was erased. */
  nulls: CellRef[];
  /** Persons whose lookup hash is not the hash of their own sealed external id (swapped or copied). */
  lookup: CellRef[];
  /** Cells that open but hold what no such cell can (a template that is not an embedding), and what is wrong. */
  malformed: Array<{ ref: CellRef; problem: string }>;
  /** Templates that are never matched: their person row is gone or not authentic. */
  orphans: OrphanTemplate[];
  /** Thumbnails linked to another person's template (export looks them up by that link). */
  links: CrossLink[];
  /** SQLite's own findings (quick_check, foreign keys); empty when the file is sound. */
  integrity: string[];
}

export function verifyOk(r: VerifyReport): boolean {
  return r.damaged.length === 0 && r.nulls.length === 0 && r.lookup.length === 0 && r.malformed.length === 0 && r.orphans.length === 0 && r.links.length === 0 && r.integrity.length === 0;
}

/** Opens every sealed cell of every row (and zeroes what it opened); reports, never stops at the first. */
export function verifyGallery(db: Database, sealer: Sealer, sources: readonly SealedCellSource[] = SEALED_CELL_SOURCES): VerifyReport {
  const damaged: CellRef[] = [];
  const nulls: CellRef[] = [];
  let cells = 0;
  for (const source of sources) {
    for (const { ref, value } of source.cells(db)) {
      cells++;
      try {
        sealer.open(ref, value).fill(0);
      } catch (e) {
        if (!(e instanceof TamperError)) throw e;
        (e.kind === 'null' ? nulls : damaged).push(ref);
      }
    }
  }
  // The store's own reading of each person decides who is authentic: the rows verify passes are
  // exactly the rows lookups and matching accept.
  const store = new GalleryStore(db, sealer, () => new Date());
  const { damaged: persons, rows } = store.listPersons();
  const lookup = persons.filter((e) => e.kind === 'lookup').map((e) => e.ref);
  // What an opened template holds, read as the gallery reads it when it opens.
  const malformed: VerifyReport['malformed'] = [];
  for (const t of store.templates((e) => e.kind === 'malformed' && malformed.push({ ref: e.ref, problem: e.detail ?? '' }))) t.embedding.fill(0);
  const orphans: OrphanTemplate[] = [];
  for (const t of store.templateOwners()) {
    const reason = orphanReason(t.personId, rows);
    if (reason) orphans.push({ templateId: t.id, personId: t.personId, reason });
  }
  const links: CrossLink[] = store.crossLinkedThumbnails();
  return {
    checked: { ...store.rowCounts(), cells },
    damaged,
    nulls,
    lookup,
    malformed,
    orphans,
    links,
    integrity: integrityProblems(db),
  };
}
