import { existsSync } from 'node:fs';
import type { Database } from 'better-sqlite3';
import type { Logger } from '../base/log.js';
import { FacegateError } from '../base/errors.js';
import type { RecognitionConfig } from '../vision/config.js';
import { checkpointWal, openDatabase } from '../store/database.js';
import { schemaVersion } from '../store/migrate.js';
import { decide, type IdentityDecision } from './decide.js';
import { findKek, noKekError, type Kek, type KeySourceOptions } from './key-source.js';
import { anchorPath, readAnchor, rollbackError, stateGeneration, writeAnchor } from './generation.js';
import { galleryId, initialiseKeys, unlockDataKey, wrapRows, type UnlockedKey } from './keyring.js';
import { orphanReason } from './integrity.js';
import { Matcher, type Candidate } from './matcher.js';
import { Sealer, type TamperError, type TamperKind } from './seal.js';
import { loadSodium, type Sodium } from './sodium.js';
import { GalleryStore } from './store.js';

export interface OpenGalleryOptions {
  path: string;
  keys: KeySourceOptions;
  logger: Logger;
  /** Create the file (and a data key) when it does not exist: enrolment does, identify does not. */
  create?: boolean;
  /**
   * Open a state file that is behind its generation anchor (an older copy put back on purpose);
   * only `facegate gallery accept-restore` does, and it then calls acceptRestore().
   */
  acceptRestore?: boolean;
  now?: () => Date;
}

/** One cell (or lookup column) of a quarantined person that failed authentication. */
export interface DamagedCell {
  table: string;
  column: string;
  rowId: string | number;
  /** As `facegate gallery verify` names it: DAMAGED (does not open), NULL, LOOKUP (swapped hash). */
  kind: 'damaged' | 'null' | 'lookup';
}

/** A cell that opened malformed is damaged as far as the quarantine's readers (audit, alerts, console) go. */
const CELL_KIND: Record<TamperKind, DamagedCell['kind']> = { unopened: 'damaged', null: 'null', lookup: 'lookup', malformed: 'damaged' };

/**
 * A person with a row that failed authentication when the gallery opened: never matched (none of
 * their templates is), never erased by the daemon on its own, reported until `person remove` or
 * a restored backup takes the damage away.
 */
export interface QuarantinedPerson {
  personId: string;
  cells: DamagedCell[];
}

export interface Identification extends IdentityDecision {
  /** The top persons with their names, best first. */
  candidates: Array<Candidate & { name: string | null }>;
}

/**
 * An open, unlocked gallery: the sealed store, and the matcher holding every template in memory.
 * Writes go to both, so the matcher is always current.
 */
export class Gallery {
  readonly store: GalleryStore;
  readonly matcher = new Matcher();
  /** Rows that failed authentication when the gallery was opened (they are left out of matching). */
  readonly damaged: TamperError[] = [];
  /** Persons with any of those rows, by id: left out of matching whole (see QuarantinedPerson). */
  readonly #quarantine = new Map<string, DamagedCell[]>();
  #names = new Map<string, string>();
  /** The generation the anchor holds for this gallery (-1: none yet); see generation.ts. */
  #anchored = -1;

  private constructor(
    readonly db: Database,
    readonly sodium: Sodium,
    readonly path: string,
    readonly kek: Kek,
    readonly key: UnlockedKey,
    readonly sealer: Sealer,
    readonly logger: Logger,
    readonly now: () => Date,
  ) {
    this.store = new GalleryStore(db, sealer, now);
  }

  static async open(options: OpenGalleryOptions): Promise<Gallery> {
    const sodium = await loadSodium();
    const now = options.now ?? (() => new Date());
    const kek = findKek(options.keys);
    const exists = existsSync(options.path);
    if (!exists && !options.create) {
      throw new FacegateError('FG_ERR_GALLERY_MISSING', `gallery ${options.path} does not exist`, "enrol someone first with 'facegate person add', or check --gallery / gallery.path");
    }
    if (!kek) throw noKekError(options.keys, { path: options.path, exists });
    let unlocked: UnlockedKey | undefined;
    const db = openDatabase(options.path, {
      beforeMigrate: (file) => {
        if (schemaVersion(file) >= 1 && wrapRows(file).length > 0) unlocked = unlockDataKey(file, sodium, kek, options.path);
      },
    });
    try {
      const key = unlocked ?? initialiseKeys(db, sodium, kek, now().toISOString());
      const gallery = new Gallery(db, sodium, options.path, kek, key, new Sealer(sodium, key.dataKey), options.logger.child({ stage: 'gallery' }), now);
      gallery.#checkGeneration(options.acceptRestore === true);
      gallery.#load();
      gallery.recordGeneration();
      return gallery;
    } catch (e) {
      db.close();
      throw e;
    }
  }

  /** Refuses a state file behind its anchor (an older copy put back), before anything is read from it. */
  #checkGeneration(acceptRestore: boolean): void {
    if (this.path === ':memory:') return;
    const { anchor, problem } = readAnchor(anchorPath(this.path));
    if (problem) this.logger.warn({ problem }, 'gallery generation anchor unusable: taken as none, so a restored older state file is not detected until it is written again');
    const id = galleryId(this.db)!;
    if (anchor && anchor.galleryId !== id) this.logger.warn({ anchor: anchorPath(this.path) }, 'generation anchor of another gallery (a new state file at this path): it now follows this one');
    if (!acceptRestore) {
      const refused = rollbackError(this.path, id, stateGeneration(this.db), anchor);
      if (refused) throw refused;
    }
    this.#anchored = anchor?.galleryId === id ? anchor.generation : -1;
  }

  /** The gallery's generation: raised by every change of persons, templates and thumbnails. */
  get generation(): number {
    return stateGeneration(this.db);
  }

  /**
   * Carries the file's generation to the anchor when it moved on. Called after every committed
   * change (never inside a transaction: the anchor must never be ahead of what is on disk) and at
   * close; a failed write is logged, as a lagging anchor only narrows what is detected.
   */
  recordGeneration(): void {
    if (this.path === ':memory:') return;
    const generation = this.generation;
    if (generation <= this.#anchored || this.db.inTransaction) return;
    this.#writeAnchor(generation);
  }

  /**
   * `facegate gallery accept-restore`: the anchor follows this (older) state file from now on.
   * Returns the generation the anchor held and the one it holds now, for the audit.
   */
  acceptRestore(): { from: number | null; to: number } {
    const from = this.#anchored < 0 ? null : this.#anchored;
    const to = this.generation;
    this.#writeAnchor(to, true);
    return { from, to };
  }

  #writeAnchor(generation: number, mustSucceed = false): void {
    try {
      writeAnchor(anchorPath(this.path), { galleryId: galleryId(this.db)!, generation });
      this.#anchored = generation;
    } catch (e) {
      if (mustSucceed) throw e;
      this.logger.warn({ err: (e as NodeJS.ErrnoException).code ?? (e as Error).message, anchor: anchorPath(this.path) }, 'could not record the gallery generation beside the state file');
    }
  }

  #load(): void {
    let listed = this.store.listPersons();
    const legacy = listed.damaged.filter((e) => e.kind === 'unopened' && e.ref.column === 'name').map((e) => e.ref.personId);
    const upgraded = legacy.length > 0 ? this.store.upgradeLegacyPersons(legacy) : 0;
    if (upgraded > 0) {
      this.logger.info({ persons: upgraded }, 'person rows upgraded: an absent external id or group is sealed now, so a NULL is detected as tampering');
      listed = this.store.listPersons();
    }
    const { persons, damaged, rows } = listed;
    for (const p of persons) this.#names.set(p.id, p.name);
    this.damaged.push(...damaged);
    let orphans = 0;
    for (const t of this.store.templates((e) => this.damaged.push(e))) {
      if (orphanReason(t.personId, rows) === null) this.matcher.add(t.id, t.personId, t.embedding);
      else orphans++;
      t.embedding.fill(0);
    }
    for (const e of this.damaged) {
      const cells = this.#quarantine.get(e.ref.personId) ?? [];
      cells.push({ table: e.ref.table, column: e.ref.column, rowId: e.ref.rowId, kind: CELL_KIND[e.kind] });
      this.#quarantine.set(e.ref.personId, cells);
    }
    // A damaged template quarantines its whole person: their other templates, added as they were
    // read, leave the matcher again (one pass, so that the plaintext of every template is never held at once).
    for (const personId of this.#quarantine.keys()) this.matcher.removePerson(personId);
    for (const e of this.damaged) {
      const what = e.kind === 'malformed' ? `opened, but ${e.detail ?? 'holds no usable value'}` : 'failed authentication';
      this.logger.warn({ code: e.code, table: e.ref.table, column: e.ref.column, row: e.ref.rowId, person: e.ref.personId, kind: e.kind }, `gallery row ${what}; its person is quarantined`);
    }
    if (this.#quarantine.size > 0) {
      this.logger.warn(
        { code: 'FG_ERR_GALLERY_TAMPER', count: this.#quarantine.size, persons: [...this.#quarantine.keys()].slice(0, 20), hint: "run 'facegate gallery verify'; then 'facegate person remove ID' or restore a backup" },
        'persons quarantined: never matched until removed or restored; everyone else is served',
      );
    }
    if (orphans > 0) this.logger.warn({ templates: orphans }, "templates without an authentic person are never matched; run 'facegate gallery verify'");
  }

  get quarantinedCount(): number {
    return this.#quarantine.size;
  }

  /** The persons left out because a row of theirs failed authentication at open, in row order. */
  quarantined(): QuarantinedPerson[] {
    return [...this.#quarantine].map(([personId, cells]) => ({ personId, cells: [...cells] }));
  }

  /**
   * Memory follows rows that a caller wrote through `store` inside a wider transaction, once that
   * transaction committed: the matcher never holds a template that a rolled-back write left out.
   * `name` is the person's name when it is new or changed.
   */
  remember(personId: string, name: string | undefined, templateIds: readonly number[], templates: readonly { embedding: Float32Array }[]): void {
    if (name !== undefined) this.#names.set(personId, name);
    templateIds.forEach((tid, i) => this.matcher.add(tid, personId, templates[i]!.embedding));
    this.recordGeneration();
  }

  /**
   * The same after a committed removal of a person's rows: they leave the matcher, and the WAL is
   * checkpointed and truncated so that no old page with their sealed rows stays in the -wal file
   * (a checkpoint cannot run inside a transaction, so it comes after).
   */
  forget(personId: string): void {
    this.matcher.removePerson(personId);
    this.#names.delete(personId);
    this.#quarantine.delete(personId);
    checkpointWal(this.db);
    this.recordGeneration();
  }

  /**
   * After a committed removal of some of a person's templates (one photo removed, or the worst
   * dropped past the bound): they leave the matcher, and the WAL is truncated as in `forget`.
   */
  forgetTemplates(templateIds: readonly number[]): void {
    if (templateIds.length === 0) return;
    for (const id of templateIds) this.matcher.removeTemplate(id);
    checkpointWal(this.db);
    this.recordGeneration();
  }

  /** Persons served: enrolled and not quarantined (`matcher.size` counts their templates). */
  get personCount(): number {
    let served = 0;
    for (const personId of this.#names.keys()) if (!this.#quarantine.has(personId)) served++;
    return served;
  }

  nameOf(personId: string): string | null {
    return this.#names.get(personId) ?? null;
  }

  identify(embedding: Float32Array, rules: Pick<RecognitionConfig, 'threshold' | 'margin'>, topK: number): Identification {
    const { candidates } = this.matcher.search(embedding, Math.max(topK, 2), { rules });
    const decision = decide(candidates, rules);
    return { ...decision, candidates: candidates.slice(0, topK).map((c) => ({ ...c, name: this.nameOf(c.personId) })) };
  }

  close(): void {
    // Writes made through `store` alone (a regrouping, a key rotation) reach the anchor here.
    if (this.db.open) this.recordGeneration();
    this.matcher.clear();
    void this.matcher.close();
    this.sealer.dispose();
    this.sodium.memzero(this.key.dataKey);
    this.db.close();
  }
}
