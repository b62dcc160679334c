import type { Database } from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { FacegateError } from '../base/errors.js';
import { sameLookupHash, type PersonRows } from './integrity.js';
import { bytesToEmbedding, embeddingToBytes, TamperError, type CellRef, type Sealer } from './seal.js';
import { externalIdHash, galleryCellRef } from './sealed-cells.js';
import { EMBEDDING_DIM, embeddingProblem } from './embedding.js';

export interface PersonInput {
  name: string;
  externalId?: string;
  group?: string;
}

export interface Person {
  id: string;
  name: string;
  externalId: string | null;
  group: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface TemplateInput {
  embedding: Float32Array;
  quality: number;
  source: string;
  model: string;
  /** Small JPEG of the face, sealed beside the template as proof of who was enrolled. */
  thumbnail?: Uint8Array;
}

/** A template as a person's photo: what it was made from and how good it was, without the embedding. */
export interface StoredPhoto {
  templateId: number;
  quality: number;
  /** The photo's file name, the video frame, or the sighting it was taught from. */
  source: string;
  model: string;
  createdAt: string;
  hasThumbnail: boolean;
}

export interface StoredTemplate {
  id: number;
  personId: string;
  embedding: Float32Array;
}

interface PersonRow {
  id: string;
  external_id_hash: Buffer | null;
  external_id: Buffer | null;
  name: Buffer;
  grp: Buffer | null;
  created_at: string;
  updated_at: string;
}

/**
 * The gallery's rows, sealed on the way in and opened on the way out. Every statement that writes
 * runs inside an immediate transaction so that readers (the daemon, a CLI) see whole changes.
 */
export class GalleryStore {
  constructor(
    private readonly db: Database,
    private readonly sealer: Sealer,
    private readonly now: () => Date,
  ) {}

  insertPerson(input: PersonInput, id: string = randomUUID()): Person {
    const at = this.now().toISOString();
    const sealer = this.sealer;
    const ref = (column: string) => galleryCellRef('persons', column, id, id);
    const externalId = input.externalId || null;
    const group = input.group || null;
    return this.db
      .transaction(() => {
        const hash = externalIdHash(sealer, externalId);
        if (hash && this.db.prepare('SELECT 1 FROM persons WHERE external_id_hash = ?').get(hash)) {
          throw new FacegateError('FG_ERR_PERSON_EXISTS', `a person with external id ${input.externalId} is already enrolled`, "add photos to that person with 'facegate person add --to ${input.externalId}', or choose another id");
        }
        if (this.db.prepare('SELECT 1 FROM persons WHERE id = ?').get(id)) {
          throw new FacegateError('FG_ERR_PERSON_EXISTS', `person ${id} already exists`, 'remove it first, or keep the existing one');
        }
        this.db
          .prepare('INSERT INTO persons (id, external_id_hash, external_id, name, grp, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
          .run(
            id,
            hash,
            Buffer.from(sealer.sealText(ref('external_id'), externalId ?? '')),
            Buffer.from(sealer.sealText(ref('name'), input.name)),
            Buffer.from(sealer.sealText(ref('grp'), group ?? '')),
            at,
            at,
          );
        return { id, name: input.name, externalId, group, createdAt: at, updatedAt: at };
      })
      .immediate();
  }

  /**
   * By uuid, or by external id (through its keyed hash). Throws TamperError if the row was altered,
   * including a hash that is not its own row's: the caller then acts on no one rather than on
   * whichever person the swapped hash points to.
   */
  findPerson(idOrExternal: string): Person | undefined {
    const byId = this.db.prepare('SELECT * FROM persons WHERE id = ?').get(idOrExternal) as PersonRow | undefined;
    const row = byId ?? (this.db.prepare('SELECT * FROM persons WHERE external_id_hash = ?').get(Buffer.from(this.sealer.hashExternalId(idOrExternal))) as PersonRow | undefined);
    return row ? this.#openPerson(row) : undefined;
  }

  /**
   * The uuid of the person `person remove` acts on. By uuid, the row's own, whatever damage its
   * cells took: the uuid is in the associated data of every cell, so it names exactly that row,
   * and a quarantined person can be removed. By external id, as findPerson: the lookup hash is in
   * the clear and may be another row's, so a row that does not open is refused (TamperError).
   */
  erasableId(idOrExternal: string): string | undefined {
    const byId = this.db.prepare('SELECT id FROM persons WHERE id = ?').get(idOrExternal) as { id: string } | undefined;
    return byId?.id ?? this.findPerson(idOrExternal)?.id;
  }

  /**
   * Every person that opens; rows that do not are reported, not thrown. `rows` is who may own
   * templates that are matched (see orphanReason).
   */
  /** Every person's row, those whose sealed cells do not open included. */
  countPersons(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM persons').get() as { n: number }).n;
  }

  listPersons(): { persons: Person[]; damaged: TamperError[]; rows: PersonRows } {
    const persons: Person[] = [];
    const damaged: TamperError[] = [];
    for (const row of this.db.prepare('SELECT * FROM persons ORDER BY created_at, id').iterate() as Iterable<PersonRow>) {
      try {
        persons.push(this.#openPerson(row));
      } catch (e) {
        if (!(e instanceof TamperError)) throw e;
        damaged.push(e);
      }
    }
    const authentic = new Set(persons.map((p) => p.id));
    return { persons, damaged, rows: { authentic, present: new Set([...authentic, ...damaged.map((e) => e.ref.personId)]) } };
  }

  renamePerson(id: string, name: string): void {
    const at = this.now().toISOString();
    const sealed = this.sealer.sealText(galleryCellRef('persons', 'name', id, id), name);
    this.db.prepare('UPDATE persons SET name = ?, updated_at = ? WHERE id = ?').run(Buffer.from(sealed), at, id);
  }

  /** Sets or clears (null) the person's group; no group is sealed as the empty string, never NULL. */
  setGroup(id: string, group: string | null): void {
    const at = this.now().toISOString();
    const sealed = Buffer.from(this.sealer.sealText(galleryCellRef('persons', 'grp', id, id), group ?? ''));
    this.db.prepare('UPDATE persons SET grp = ?, updated_at = ? WHERE id = ?').run(sealed, at, id);
  }

  /** Deletes the person and (by cascade) every template and thumbnail; secure_delete zeroes the freed bytes. */
  removePerson(id: string): { templates: number; thumbnails: number } {
    return this.db
      .transaction(() => {
        const templates = (this.db.prepare('SELECT COUNT(*) AS n FROM templates WHERE person_id = ?').get(id) as { n: number }).n;
        const thumbnails = (this.db.prepare('SELECT COUNT(*) AS n FROM thumbnails WHERE person_id = ?').get(id) as { n: number }).n;
        this.db.prepare('DELETE FROM persons WHERE id = ?').run(id);
        return { templates, thumbnails };
      })
      .immediate();
  }

  /**
   * Refuses (FG_ERR_TEMPLATE_INVALID, nothing written) a template whose embedding the matcher could
   * not hold: whoever made it, such a row would only be quarantined at the next open.
   */
  insertTemplates(personId: string, inputs: readonly TemplateInput[]): number[] {
    for (const t of inputs) {
      const problem = embeddingProblem(t.embedding);
      if (problem) throw new FacegateError('FG_ERR_TEMPLATE_INVALID', `a template for person ${personId} is not an embedding the gallery can match (${problem}); nothing was written`, 'enrol the person from photos');
    }
    const at = this.now().toISOString();
    const sealer = this.sealer;
    return this.db
      .transaction(() => {
        const ids: number[] = [];
        for (const t of inputs) {
          // The row id is part of the associated data, so it is chosen before sealing.
          const id = (this.db.prepare('SELECT COALESCE(MAX(id), 0) + 1 AS id FROM templates').get() as { id: number }).id;
          const ref = (column: string) => galleryCellRef('templates', column, id, personId);
          this.db
            .prepare('INSERT INTO templates (id, person_id, model, embedding, quality, source, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
            .run(id, personId, t.model, Buffer.from(sealer.seal(ref('embedding'), embeddingToBytes(t.embedding))), t.quality, Buffer.from(sealer.sealText(ref('source'), t.source)), at);
          if (t.thumbnail) {
            const thumbId = (this.db.prepare('SELECT COALESCE(MAX(id), 0) + 1 AS id FROM thumbnails').get() as { id: number }).id;
            const sealed = sealer.seal(galleryCellRef('thumbnails', 'jpeg', thumbId, personId), t.thumbnail);
            this.db.prepare('INSERT INTO thumbnails (id, person_id, template_id, jpeg, created_at) VALUES (?, ?, ?, ?, ?)').run(thumbId, personId, id, Buffer.from(sealed), at);
          }
          ids.push(id);
        }
        this.db.prepare('UPDATE persons SET updated_at = ? WHERE id = ?').run(at, personId);
        return ids;
      })
      .immediate();
  }

  /**
   * A person's templates as photos, best first. Throws TamperError where a source cell does not
   * open: the person is then quarantined, and their photos are not shown.
   */
  photos(personId: string): StoredPhoto[] {
    const rows = this.db
      .prepare('SELECT t.id, t.model, t.quality, t.source, t.created_at, EXISTS (SELECT 1 FROM thumbnails h WHERE h.template_id = t.id) AS thumb FROM templates t WHERE t.person_id = ? ORDER BY t.quality DESC, t.id')
      .all(personId) as Array<{ id: number; model: string; quality: number; source: Buffer; created_at: string; thumb: number }>;
    return rows.map((r) => ({
      templateId: r.id,
      quality: r.quality,
      source: this.sealer.openText(galleryCellRef('templates', 'source', r.id, personId), r.source),
      model: r.model,
      createdAt: r.created_at,
      hasThumbnail: r.thumb === 1,
    }));
  }

  /** The face a template was made from (a small JPEG), opened; undefined where it kept none. */
  thumbnail(personId: string, templateId: number): Uint8Array | undefined {
    const row = this.db.prepare('SELECT id, jpeg FROM thumbnails WHERE template_id = ? AND person_id = ?').get(templateId, personId) as { id: number; jpeg: Buffer } | undefined;
    return row ? this.sealer.open(galleryCellRef('thumbnails', 'jpeg', row.id, personId), row.jpeg) : undefined;
  }

  /** Deletes one of the person's templates (its thumbnail cascades); false when they have no such template. */
  removeTemplate(personId: string, templateId: number): boolean {
    const removed = this.db.prepare('DELETE FROM templates WHERE id = ? AND person_id = ?').run(templateId, personId).changes === 1;
    if (removed) this.db.prepare('UPDATE persons SET updated_at = ? WHERE id = ?').run(this.now().toISOString(), personId);
    return removed;
  }

  /**
   * Keeps the person's `keep` best templates by quality and deletes the rest (newest first among
   * equals, so an older template of the same quality stays); returns the ids deleted.
   */
  pruneTemplates(personId: string, keep: number): number[] {
    const extra = this.db.prepare('SELECT id FROM templates WHERE person_id = ? ORDER BY quality DESC, id LIMIT -1 OFFSET ?').all(personId, keep) as Array<{ id: number }>;
    const del = this.db.prepare('DELETE FROM templates WHERE id = ?');
    for (const { id } of extra) del.run(id);
    return extra.map((r) => r.id);
  }

  countTemplates(personId: string): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM templates WHERE person_id = ?').get(personId) as { n: number }).n;
  }

  /** A person's templates in the order they were made, with their clear-text facts only (nothing is opened). */
  templateList(personId: string): { id: number; model: string; quality: number; createdAt: string }[] {
    return this.db.prepare('SELECT id, model, quality, created_at AS createdAt FROM templates WHERE person_id = ? ORDER BY id').all(personId) as { id: number; model: string; quality: number; createdAt: string }[];
  }

  /** Every template with the person its clear-text link names, in id order: for a check of who owns each (gallery verify). */
  templateOwners(): Iterable<{ id: number; personId: string }> {
    return this.db.prepare('SELECT id, person_id AS personId FROM templates ORDER BY id').iterate() as Iterable<{ id: number; personId: string }>;
  }

  /** Thumbnails whose clear-text template link names a template of another person (an export looks them up by it). */
  crossLinkedThumbnails(): { thumbnailId: number; personId: string; templateId: number; templatePersonId: string }[] {
    return this.db
      .prepare(
        `SELECT th.id AS thumbnailId, th.person_id AS personId, t.id AS templateId, t.person_id AS templatePersonId
         FROM thumbnails th JOIN templates t ON t.id = th.template_id WHERE t.person_id != th.person_id ORDER BY th.id`,
      )
      .all() as { thumbnailId: number; personId: string; templateId: number; templatePersonId: string }[];
  }

  /** How many rows each of the gallery's tables holds. */
  rowCounts(): { persons: number; templates: number; thumbnails: number } {
    return this.db.prepare('SELECT (SELECT COUNT(*) FROM persons) AS persons, (SELECT COUNT(*) FROM templates) AS templates, (SELECT COUNT(*) FROM thumbnails) AS thumbnails').get() as { persons: number; templates: number; thumbnails: number };
  }

  /**
   * Opens every template; a row that fails authentication, or opens to something other than an
   * embedding the matcher can hold (embeddingProblem), is handed to `onDamaged` and skipped.
   */
  *templates(onDamaged: (e: TamperError) => void, personId?: string): Generator<StoredTemplate> {
    const stmt = personId
      ? this.db.prepare('SELECT id, person_id, embedding FROM templates WHERE person_id = ? ORDER BY id').bind(personId)
      : this.db.prepare('SELECT id, person_id, embedding FROM templates ORDER BY id');
    for (const row of stmt.iterate() as Iterable<{ id: number; person_id: string; embedding: Buffer }>) {
      const ref = galleryCellRef('templates', 'embedding', row.id, row.person_id);
      let bytes: Uint8Array;
      try {
        bytes = this.sealer.open(ref, row.embedding);
      } catch (e) {
        if (!(e instanceof TamperError)) throw e;
        onDamaged(e);
        continue;
      }
      const embedding = bytesToEmbedding(bytes);
      const problem = bytes.length % 4 === 0 ? embeddingProblem(embedding) : `it has ${bytes.length} bytes, not ${EMBEDDING_DIM * 4}`;
      bytes.fill(0);
      if (problem) {
        embedding.fill(0);
        onDamaged(new TamperError(ref, 'malformed', problem));
        continue;
      }
      yield { id: row.id, personId: row.person_id, embedding };
    }
  }

  /**
   * Rows written before PERSON_ROW_FORMAT, found by their name cell opening only without a format:
   * each gets its name re-sealed with the format and its absent external id and group sealed as
   * the empty string, in one transaction. Rows that open neither way are left for verify to
   * report. Returns how many rows were upgraded.
   */
  upgradeLegacyPersons(ids: readonly string[]): number {
    const sealer = this.sealer;
    return this.db
      .transaction(() => {
        let upgraded = 0;
        for (const id of ids) {
          const row = this.db.prepare('SELECT * FROM persons WHERE id = ?').get(id) as PersonRow | undefined;
          if (!row) continue;
          const ref = (column: string) => galleryCellRef('persons', column, id, id);
          const legacyName: CellRef = { table: 'persons', column: 'name', rowId: id, personId: id };
          let name: Uint8Array;
          try {
            name = sealer.open(legacyName, row.name);
          } catch (e) {
            if (!(e instanceof TamperError)) throw e;
            continue;
          }
          const absent = (column: string, value: Buffer | null) => value ?? Buffer.from(sealer.sealText(ref(column), ''));
          this.db
            .prepare('UPDATE persons SET name = ?, external_id = ?, grp = ? WHERE id = ?')
            .run(Buffer.from(sealer.seal(ref('name'), name)), absent('external_id', row.external_id), absent('grp', row.grp), id);
          name.fill(0);
          upgraded++;
        }
        return upgraded;
      })
      .immediate();
  }

  /**
   * Opens every sealed cell of the row (the name first: a legacy row fails there, see
   * upgradeLegacyPersons) and checks its lookup hash against the sealed external id.
   */
  #openPerson(row: PersonRow): Person {
    const ref = (column: string) => galleryCellRef('persons', column, row.id, row.id);
    const sealer = this.sealer;
    const name = sealer.openText(ref('name'), row.name);
    const externalId = sealer.openText(ref('external_id'), row.external_id) || null;
    if (!sameLookupHash(externalIdHash(sealer, externalId), row.external_id_hash)) {
      throw new TamperError(ref('external_id_hash'), 'lookup');
    }
    return {
      id: row.id,
      name,
      externalId,
      group: sealer.openText(ref('grp'), row.grp) || null,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    };
  }
}
