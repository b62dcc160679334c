import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FacegateError, isFacegateError } from '../base/errors.js';
import { enrolFromBytes, enrolFromVideo, enrolmentClashes, toTemplate, type EnrolCandidate, type EnrolRefusal, type FaceSource } from '../gallery/enrol.js';
import type { Gallery } from '../gallery/gallery.js';
import type { EnrolGate } from '../gallery/quality-gate.js';
import type { RosterChange } from '../gallery/roster.js';
import type { Person, StoredPhoto, TemplateInput } from '../gallery/store.js';
import { exportRow, type ExportedPerson } from '../gallery/transfer.js';
import { promotionTemplates } from '../track/promote.js';
import { Timeline } from '../track/timeline.js';
import type { UnknownRegistry } from '../track/unknowns.js';
import type { RecognitionConfig } from '../vision/config.js';
import type { AuditLog, Role } from './audit.js';
import type { Commit } from '../store/database.js';
import { checkPhotos, externalId, personFields, personGroup, personName, personRef, templateInput, type PersonFields, type Photo } from './person-input.js';
import { erasePersonRecords, type EraseResult } from './retention.js';

/** Who was erased: only the id, since a quarantined person's sealed cells may not open. */
export type ErasedPerson = { person: Pick<Person, 'id'> } & EraseResult;

/**
 * Who asked, for the audit log: 'cli:<unix user>', 'socket:<role>' or 'token:<subject>' (control
 * socket), 'mqtt:<jti>' (a remote command's token id), 'web:<account>', 'demo'.
 */
export interface Actor {
  actor: string;
  role: Role;
}

/** A video to enrol from: a file this process reads, or bytes received (named for refusals). */
export type VideoInput = { name: string; file: string } | Photo;

export interface EnrolRequest {
  /** The display name; a new person without one is named after their external id. */
  name?: string;
  externalId?: string;
  /** The gallery id of a new person (the central `person_id`); random when left out. */
  id?: string;
  group?: string;
  photos: readonly Photo[];
  /** A short video of the person turning their head (multi-angle enrolment). */
  video?: VideoInput;
  /** Enrol faces that the gallery recognises as someone else anyway (named in `clashes`). */
  force?: boolean;
  /**
   * A person found by `externalId` (or `id`): 'add' gives them the new photos, and a name or group
   * sent replaces theirs (remote enrolment); 'refuse' is FG_ERR_PERSON_EXISTS.
   */
  ifExists: 'add' | 'refuse';
  /** The timeline entry whose face crop is the photo (teach from a sighting), for the audit. */
  sighting?: number;
  onProgress?: (what: 'photos' | 'video frames', done: number, total: number) => void;
}

export interface EnrolResult {
  person: Person;
  /** Templates stored by this enrolment. */
  templateIds: number[];
  refused: EnrolRefusal[];
  /** Faces enrolled although they match someone else (force). */
  clashes: string[];
  bestQuality: number;
  /** Templates dropped to keep the person within gallery.enrol.max_templates, worst first. */
  dropped: number;
}

/** A change of a person's name or group; a null group takes theirs away. */
export interface PersonChange {
  name?: string;
  group?: string | null;
}

export interface ImportResult {
  persons: number;
  templates: number;
  /** Persons already in this gallery (same id or external id), left as they are. */
  skipped: Array<{ id: string; reason: string }>;
}

/** A person's photo as shown to operators: the template's facts and the face it was made from. */
export type PersonPhoto = StoredPhoto & { thumbnail: Buffer | null };

export type PhotoCheck = { ok: true; quality: number; facePx: number; thumbnail: Buffer; matches?: string } | { ok: false; reason: string; detail: string };

export interface PersonServiceOptions {
  gallery: Gallery;
  analyzer: FaceSource;
  gate: EnrolGate;
  recognition: Pick<RecognitionConfig, 'threshold' | 'margin'>;
  audit: AuditLog;
  /** The cameras' unknown persons, for promote; absent outside the daemon. */
  unknowns?: UnknownRegistry;
  /** After each committed change, so the roster cache and Home Assistant follow. */
  onChange?: (change: RosterChange) => void;
}

/** Operations waiting behind the one running; more are refused rather than queued without end. */
const MAX_PENDING = 8;

/** A written person: what memory (matcher, names) follows once the transaction committed. */
interface Written {
  person: Person;
  templateIds: number[];
  templates: readonly TemplateInput[];
  /** The name, when it is new or changed. */
  name: string | undefined;
  /** Templates dropped past gallery.enrol.max_templates (the worst by quality), perhaps new ones. */
  dropped: number[];
}

/**
 * The person operations of every entry point (the CLI on a file no daemon holds, the control socket,
 * remote commands, the web console, the demo, a gallery import): enrol from photos or a video,
 * rename and regroup, erase everywhere, promote an unknown, import. Each runs in two steps: the
 * analysis (decoding, detection, embedding, the quality gate and the duplicate-face check) outside
 * any transaction, then one synchronous commit of the rows together with their audit entry; memory
 * (matcher, names) follows only once the commit is done.
 *
 * The service owns three things no entry point does on its own:
 * - the rules of a person's fields and photos (person-input.ts), checked before anything runs;
 * - the audit: every change is one entry, written in the transaction of the change with the actor
 *   the entry point names, and a change that fails is one entry with outcome 'failed' and its code;
 * - the one write of a person and their templates (writePerson), whatever they were made from.
 *
 * They run one at a time (an enrolment analyses photos for a while, and two enrolments of one
 * person must not both insert, nor pass the duplicate check against a gallery without the other),
 * and not at all once closed, so the gallery is never closed under one.
 */
export class PersonService {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;
  private closed = false;
  /** The cameras' decisions, whose face crops a person can be taught from. */
  private readonly sightings: Pick<Timeline, 'crop'>;
  constructor(private readonly o: PersonServiceOptions) {
    this.sightings = new Timeline(o.gallery.db, o.gallery.sealer);
  }

  /** The default commit: a transaction of its own. */
  private readonly ownTransaction = <T>(write: () => T): T => this.o.gallery.db.transaction(write).immediate();

  enrol(req: EnrolRequest, by: Actor, commit: Commit<EnrolResult> = this.ownTransaction): Promise<EnrolResult> {
    return this.audited('person.enrol', by, req.id !== undefined ? auditTarget(req.id) : null, () => {
      const checked: EnrolRequest = { ...req, ...personFields(req), ...(req.id !== undefined ? { id: externalId(req.id) } : {}) };
      checkPhotos(req.photos);
      return this.serial(() => this.enrolNow(checked, by, commit));
    });
  }

  /**
   * Removes a person everywhere (attendance, proofs, templates, thumbnails), audited; null when no
   * one has that id (audited as failed). A quarantined person (a row that fails authentication) is
   * removed by uuid.
   */
  erase(ref: string, by: Actor, commit: Commit<ErasedPerson | null> = this.ownTransaction): Promise<ErasedPerson | null> {
    return this.audited('person.erase', by, auditTarget(ref), () => {
      personRef(ref);
      return this.serial(async () => {
        const { gallery: g, audit } = this.o;
        const erased = commit(() => {
          const id = g.store.erasableId(ref);
          if (id === undefined) {
            audit.append({ ...by, action: 'person.erase', target: auditTarget(ref), detail: { code: 'FG_ERR_PERSON_NOT_FOUND' }, outcome: 'failed' });
            return null;
          }
          const result = erasePersonRecords(g.db, id, (personId) => g.store.removePerson(personId));
          audit.append({ ...by, action: 'person.erase', target: id, detail: { ...result }, outcome: 'ok' });
          return { person: { id }, ...result };
        });
        if (!erased) return null;
        g.forget(erased.person.id);
        this.o.onChange?.({ kind: 'removed', personId: erased.person.id });
        return erased;
      });
    });
  }

  /** A person's name or group (or both) changed in one write, audited as one change. */
  update(ref: string, change: PersonChange, by: Actor): Promise<Person> {
    return this.audited('person.update', by, auditTarget(ref), () => {
      personRef(ref);
      const name = change.name !== undefined ? personName(change.name) : undefined;
      const group = change.group === undefined ? undefined : change.group === null ? null : personGroup(change.group);
      if (name === undefined && group === undefined) throw new FacegateError('FG_ERR_PERSON_INVALID', 'a change names neither a new name nor a group; nothing was changed', 'send a name, a group, or both');
      return this.serial(async () => {
        const gallery = this.o.gallery;
        const person = mustFind(gallery, ref);
        const updated = this.ownTransaction(() => {
          if (name !== undefined && name !== person.name) gallery.store.renamePerson(person.id, name);
          if (group !== undefined && group !== person.group) gallery.store.setGroup(person.id, group);
          this.o.audit.append({ ...by, action: 'person.update', target: person.id, detail: { name: name !== undefined, group: group !== undefined }, outcome: 'ok' });
          return { ...person, ...(name !== undefined ? { name } : {}), ...(group !== undefined ? { group } : {}) };
        });
        gallery.remember(person.id, name, [], []);
        this.o.onChange?.({ kind: 'enrolled', personId: person.id });
        return updated;
      });
    });
  }

  /**
   * More photos (or a video) for an enrolled person, through the same quality gate and duplicate
   * check as an enrolment; their name, group and attendance stay as they are. Past
   * gallery.enrol.max_templates the worst templates go.
   */
  addPhotos(ref: string, photos: readonly Photo[], by: Actor, options: { video?: VideoInput; force?: boolean } = {}): Promise<EnrolResult> {
    return this.audited('person.add_templates', by, auditTarget(ref), () => {
      personRef(ref);
      checkPhotos(photos);
      if (photos.length === 0 && !options.video) throw new FacegateError('FG_ERR_PERSON_INVALID', 'no photo or video given; nothing was changed', 'give at least one photo of the person');
      return this.serial(() => {
        const person = mustFind(this.o.gallery, ref);
        return this.enrolNow({ id: person.id, photos, ifExists: 'add', ...(options.video ? { video: options.video } : {}), ...(options.force ? { force: true } : {}) }, by, this.ownTransaction);
      });
    });
  }

  /**
   * A person's photos, best first, with the faces they were made from: personal data shown to an
   * operator, so every look is audited.
   */
  photos(ref: string, by: Actor): Promise<{ person: Person; photos: PersonPhoto[] }> {
    return this.audited('person.photos.view', by, auditTarget(ref), async () => {
      personRef(ref);
      const store = this.o.gallery.store;
      const person = mustFind(this.o.gallery, ref);
      const photos = store.photos(person.id).map((p) => {
        const jpeg = p.hasThumbnail ? store.thumbnail(person.id, p.templateId) : undefined;
        return { ...p, thumbnail: jpeg ? Buffer.from(jpeg) : null };
      });
      this.o.audit.append({ ...by, action: 'person.photos.view', target: person.id, detail: { photos: photos.length }, outcome: 'ok' });
      return { person, photos };
    });
  }

  /**
   * Drops one of a person's templates (a bad photo, an old haircut); their last one stays, since a
   * person without templates is enrolled but never recognised: remove the person instead.
   */
  removePhoto(ref: string, templateId: number, by: Actor): Promise<{ person: Person; templateId: number; left: number }> {
    return this.audited('person.remove_template', by, auditTarget(ref), () => {
      personRef(ref);
      if (!Number.isSafeInteger(templateId) || templateId < 1) throw new FacegateError('FG_ERR_PHOTO_NOT_FOUND', `no photo ${String(templateId)}`, "photo ids are the numbers 'facegate person photos ID' lists");
      return this.serial(async () => {
        const gallery = this.o.gallery;
        const person = mustFind(gallery, ref);
        const left = this.ownTransaction(() => {
          const count = gallery.store.countTemplates(person.id);
          if (!gallery.store.photos(person.id).some((p) => p.templateId === templateId)) {
            throw new FacegateError('FG_ERR_PHOTO_NOT_FOUND', `${person.name} has no photo ${templateId}`, `list their photos: facegate person photos ${person.id}`);
          }
          if (count <= 1) throw new FacegateError('FG_ERR_PHOTO_LAST', `photo ${templateId} is the last one of ${person.name}: without it they would never be recognised`, `add a better photo first (facegate person add --to ${person.id} --image FILE), then remove this one`);
          gallery.store.removeTemplate(person.id, templateId);
          this.o.audit.append({ ...by, action: 'person.remove_template', target: person.id, detail: { template: templateId, left: count - 1 }, outcome: 'ok' });
          return count - 1;
        });
        gallery.forgetTemplates([templateId]);
        this.o.onChange?.({ kind: 'enrolled', personId: person.id });
        return { person, templateId, left };
      });
    });
  }

  /**
   * The quality gate's verdict on the face a camera kept of a decision (a timeline entry), and whom
   * the gallery recognises in it, before anyone teaches it: nothing is stored.
   */
  async checkSighting(entryId: number, by: Actor): Promise<PhotoCheck> {
    const photo = this.sightingPhoto(entryId, by);
    return this.checkPhoto(photo);
  }

  /**
   * Teaches a person from a sighting: the face a camera kept of a recognised or unknown decision
   * goes through the enrolment gate and becomes one of their templates. The gate may refuse it (a
   * small or blurred face), as it would a photo.
   */
  teach(ref: string, entryId: number, by: Actor, options: { force?: boolean } = {}): Promise<EnrolResult> {
    return this.audited('person.teach', by, auditTarget(ref), () => {
      personRef(ref);
      return this.serial(() => {
        const person = mustFind(this.o.gallery, ref);
        const photo = this.sightingPhoto(entryId, by);
        return this.enrolNow({ id: person.id, photos: [photo], ifExists: 'add', sighting: entryId, ...(options.force ? { force: true } : {}) }, by, this.ownTransaction);
      });
    });
  }

  /**
   * Teaches a person from an unknown person of the cameras who was them all along (new glasses, a
   * haircut): the unknown's best frames become their templates, as a promotion makes a new person
   * of them, and the anonymous id stops existing. The unknown's best face must pass the enrolment
   * gate first (`checkUnknown` shows its verdict): frames too small or blurred to enrol from are
   * not taught.
   */
  teachFromUnknown(ref: string, anonId: string, by: Actor): Promise<{ person: Person; templates: number; bestQuality: number; dropped: number }> {
    const subject = anonId.slice(0, 64);
    return this.audited('person.teach', by, auditTarget(ref), () => {
      personRef(ref);
      return this.serial(async () => {
        const unknowns = this.o.unknowns;
        if (!unknowns) throw new FacegateError('FG_ERR_DAEMON_NOT_RUNNING', 'unknown persons live in the running daemon', 'teach through the daemon: facegate person teach ID --unknown ANON_ID');
        const person = mustFind(this.o.gallery, ref);
        const verdict = await this.checkUnknown(anonId);
        if (!verdict.ok) throw new NoUsableFace(subject, [{ file: subject, reason: verdict.reason as EnrolRefusal['reason'], detail: verdict.detail }]);
        const templates = promotionTemplates(unknowns, anonId);
        const written = this.ownTransaction(() => {
          const w = this.writePerson(person, {}, templates);
          this.o.audit.append({ ...by, action: 'person.teach', target: person.id, detail: { unknown: subject, templates: w.templateIds.length, ...(w.dropped.length ? { dropped: w.dropped.length } : {}) }, outcome: 'ok' });
          return w;
        });
        this.follow(written);
        for (const f of unknowns.take(anonId)?.frames ?? []) f.embedding.fill(0);
        const kept = written.templateIds.filter((t) => !written.dropped.includes(t)).length;
        return { person, templates: kept, bestQuality: Math.max(...templates.map((t) => t.quality)), dropped: written.dropped.length };
      });
    });
  }

  /** The enrolment gate's verdict on an unknown person's best face, before anyone is taught from them. */
  async checkUnknown(anonId: string): Promise<PhotoCheck> {
    const face = this.o.unknowns?.get(anonId)?.thumbnail;
    if (!face) throw new FacegateError('FG_ERR_UNKNOWN_NOT_FOUND', `no unknown person ${anonId.slice(0, 64)} with a face kept`, "use an anonymous id from a recent unknown event or the console's unknowns page");
    return this.checkPhoto({ name: anonId.slice(0, 64), bytes: face });
  }

  /** A timeline entry's face crop as a photo named after the entry; opening it is audited as a view. */
  private sightingPhoto(entryId: number, by: Actor): Photo {
    const bytes = Number.isSafeInteger(entryId) && entryId >= 1 ? this.sightings.crop(entryId) : undefined;
    if (!bytes) throw new FacegateError('FG_ERR_SIGHTING_NOT_FOUND', `timeline entry ${String(entryId)} has no face to learn from`, 'choose a recognised or unknown decision with a face on the timeline (retention may have purged older ones)');
    this.o.audit.append({ ...by, action: 'timeline.crop.view', target: String(entryId), detail: {}, outcome: 'ok' });
    return { name: `sighting ${entryId}`, bytes };
  }

  /** Regrouping: each listed person's group becomes the one listed (none when the entry has none). */
  resync(persons: readonly { ref: string; group?: string }[], by: Actor, commit: Commit<{ known: number; unknown: string[] }> = this.ownTransaction): Promise<{ known: number; unknown: string[] }> {
    return this.audited('roster.resync', by, null, () => {
      for (const entry of persons) {
        personRef(entry.ref);
        if (entry.group !== undefined) personGroup(entry.group);
      }
      return this.serial(async () => {
        const store = this.o.gallery.store;
        const result = commit(() => {
          let known = 0;
          let changed = 0;
          const unknown: string[] = [];
          for (const entry of persons) {
            const person = store.findPerson(entry.ref);
            if (!person) {
              unknown.push(entry.ref);
              continue;
            }
            known++;
            const group = entry.group ?? null;
            if (group !== person.group) {
              store.setGroup(person.id, group);
              changed++;
            }
          }
          this.o.audit.append({ ...by, action: 'roster.resync', target: null, detail: { listed: persons.length, known, changed, unknown: unknown.length }, outcome: 'ok' });
          return { known, unknown };
        });
        this.o.gallery.recordGeneration();
        this.o.onChange?.({ kind: 'resynced' });
        return result;
      });
    });
  }

  /** An unknown person of the cameras becomes an enrolled one from the best frames kept of them. */
  promote(anonId: string, fields: PersonFields & { name: string }, by: Actor): Promise<{ person: Person; templates: number }> {
    // The anonymous id is the subject of a promotion, ok or failed: it names no one.
    const subject = anonId.slice(0, 64);
    return this.audited('person.promote', by, subject, () => {
      const checked = personFields(fields) as PersonFields & { name: string };
      return this.serial(async () => {
        const unknowns = this.o.unknowns;
        if (!unknowns) throw new FacegateError('FG_ERR_DAEMON_NOT_RUNNING', 'unknown persons live in the running daemon', 'promote through the daemon: facegate person promote');
        const templates = promotionTemplates(unknowns, anonId);
        const written = this.ownTransaction(() => {
          const w = this.writePerson(undefined, checked, templates);
          this.o.audit.append({ ...by, action: 'person.promote', target: subject, detail: { person: w.person.id, templates: w.templateIds.length }, outcome: 'ok' });
          return w;
        });
        this.follow(written);
        for (const f of unknowns.take(anonId)?.frames ?? []) f.embedding.fill(0);
        return { person: written.person, templates: written.templateIds.length };
      });
    });
  }

  /**
   * A new person from templates made elsewhere (faces the demo analysed itself); the fields checked
   * as any enrolment's.
   */
  enrolTemplates(fields: PersonFields & { name: string }, templates: readonly TemplateInput[], by: Actor): Promise<Person> {
    return this.audited('person.enrol', by, null, () => {
      const checked = personFields(fields) as PersonFields & { name: string };
      return this.serial(async () => {
        const written = this.ownTransaction(() => {
          const w = this.writePerson(undefined, checked, templates);
          this.o.audit.append({ ...by, action: 'person.enrol', target: w.person.id, detail: { templates: w.templateIds.length }, outcome: 'ok' });
          return w;
        });
        this.follow(written);
        return written.person;
      });
    });
  }

  /**
   * The persons of a gallery export, in one transaction with an audit entry each: an import writes
   * everyone or no one, so a refusal leaves the gallery as it was and the same file (or a corrected
   * one) can simply be imported again. Every row is first held to the rules of what is stored, as
   * an enrolment is (importedRows): an export authenticates only who made it, with the passphrase,
   * not what is in it, and one row the gallery cannot hold would otherwise be written for every
   * later open to trip over. Persons already here (same id or external id) are kept as they are.
   * `onProgress` is told after each person how many of how many are done.
   */
  importPersons(persons: readonly ExportedPerson[], by: Actor, onProgress?: (done: number, total: number) => void): Promise<ImportResult> {
    return this.audited('person.import', by, null, () => {
      const rows = importedRows(persons);
      return this.serial(async () => {
        const result: ImportResult = { persons: 0, templates: 0, skipped: [] };
        const written = this.ownTransaction(() => {
          const done: Written[] = [];
          for (const [i, p] of rows.entries()) {
            onProgress?.(i, rows.length);
            try {
              const w = this.writePerson(undefined, p.fields, p.templates, p.id);
              this.o.audit.append({ ...by, action: 'person.import', target: w.person.id, detail: { templates: w.templateIds.length }, outcome: 'ok' });
              done.push(w);
            } catch (e) {
              if (!isFacegateError(e) || e.code !== 'FG_ERR_PERSON_EXISTS') throw e;
              result.skipped.push({ id: p.id, reason: e.message });
            }
          }
          return done;
        });
        for (const w of written) {
          this.follow(w);
          result.persons++;
          result.templates += w.templateIds.length;
        }
        onProgress?.(rows.length, rows.length);
        return result;
      });
    });
  }

  /**
   * One photo through the quality gate, and whom the gallery already recognises in it, without
   * storing anything: what an enrolment form shows per photo before it is saved.
   */
  async checkPhoto(photo: Photo): Promise<PhotoCheck> {
    checkPhotos([photo]);
    const read = await refusedIfUnreadable(photo.name, () => enrolFromBytes(this.o.analyzer, photo.bytes, photo.name, this.o.gate));
    if (!('face' in read)) return { ok: false, reason: read.reason, detail: read.detail };
    try {
      const clash = enrolmentClashes(this.o.gallery, [read], this.o.recognition)[0];
      return { ok: true, quality: toTemplate(read).quality, facePx: Math.round(read.face.quality.faceHeight), thumbnail: read.thumbnail, ...(clash ? { matches: clash } : {}) };
    } finally {
      read.face.embedding.fill(0);
    }
  }

  /** Refuses new operations and waits for the one running. */
  async close(): Promise<void> {
    this.closed = true;
    await this.tail;
  }

  private async enrolNow(req: EnrolRequest, by: Actor, commit: Commit<EnrolResult>): Promise<EnrolResult> {
    const gallery = this.o.gallery;
    const ref = req.id ?? req.externalId;
    const existing = ref !== undefined ? gallery.store.findPerson(ref) : undefined;
    if (existing && req.ifExists === 'refuse') {
      throw new FacegateError('FG_ERR_PERSON_EXISTS', `a person with id ${ref} is already enrolled`, `add photos to them ('facegate person add --to ${ref}', or Photos on the console's people page), or choose another id`);
    }
    const label = req.name ?? ref ?? 'this person';
    const accepted: EnrolCandidate[] = [];
    const refused: EnrolRefusal[] = [];
    try {
      await this.analyse(req, accepted, refused);
      if (accepted.length === 0) throw new NoUsableFace(label, refused);
      const clashes = enrolmentClashes(gallery, accepted, this.o.recognition, existing?.id);
      if (clashes.length > 0 && !req.force) {
        throw new FacegateError('FG_ERR_ENROL_DUPLICATE', `this face is already enrolled as someone else: ${clashes.join('; ')}`, 'check the photos, or remove the other person first (or force the enrolment); nothing was stored');
      }
      const templates = accepted.map(toTemplate);
      const bestQuality = Math.max(...templates.map((t) => t.quality));
      const fields = { name: req.name ?? req.externalId ?? req.id ?? 'unnamed', ...(req.externalId !== undefined ? { externalId: req.externalId } : {}), ...(req.group !== undefined ? { group: req.group } : {}) };
      let written: Written | undefined;
      const result = commit(() => {
        written = this.writePerson(existing, existing ? { ...(req.name !== undefined ? { name: req.name } : {}), ...(req.group !== undefined ? { group: req.group } : {}) } : fields, templates, req.id);
        const { person, templateIds } = written;
        const dropped = written.dropped.length;
        const detail = { templates: templateIds.length, refused: refused.length, ...(clashes.length > 0 ? { forced: clashes.length } : {}), ...(dropped > 0 ? { dropped } : {}), ...(req.sighting !== undefined ? { sighting: req.sighting } : {}) };
        this.o.audit.append({ ...by, action: req.sighting !== undefined ? 'person.teach' : existing ? 'person.add_templates' : 'person.enrol', target: person.id, detail, outcome: 'ok' });
        return { person, templateIds: templateIds.filter((t) => !written!.dropped.includes(t)), refused, clashes, bestQuality, dropped };
      });
      this.follow(written!);
      return result;
    } finally {
      for (const c of accepted) c.face.embedding.fill(0);
    }
  }

  /**
   * The one write of a person and their templates, whatever they were made from (photos, a video,
   * an unknown's frames, an export, the demo's faces): a new person with them, or more of them for
   * `existing` with the name and group given replacing theirs. Synchronous, inside the caller's
   * transaction; memory follows with `follow` once it committed.
   */
  private writePerson(existing: Person | undefined, fields: PersonFields, templates: readonly TemplateInput[], id?: string): Written {
    const store = this.o.gallery.store;
    const keep = this.o.gate.max_templates;
    if (!existing) {
      const person = store.insertPerson({ name: fields.name ?? 'unnamed', ...(fields.externalId !== undefined ? { externalId: fields.externalId } : {}), ...(fields.group !== undefined ? { group: fields.group } : {}) }, id);
      const templateIds = store.insertTemplates(person.id, templates);
      return { person, templateIds, templates, name: person.name, dropped: store.pruneTemplates(person.id, keep) };
    }
    const templateIds = store.insertTemplates(existing.id, templates);
    const dropped = store.pruneTemplates(existing.id, keep);
    let person = existing;
    if (fields.group !== undefined && fields.group !== existing.group) {
      store.setGroup(existing.id, fields.group);
      person = { ...person, group: fields.group };
    }
    const renamed = fields.name !== undefined && fields.name !== existing.name;
    if (renamed) {
      store.renamePerson(existing.id, fields.name!);
      person = { ...person, name: fields.name! };
    }
    return { person, templateIds, templates, name: renamed ? fields.name : undefined, dropped };
  }

  /** Memory after a committed write: the matcher and names, the anchor, then the roster and Home Assistant. */
  private follow(w: Written): void {
    this.o.gallery.remember(w.person.id, w.name, w.templateIds, w.templates);
    this.o.gallery.forgetTemplates(w.dropped);
    this.o.onChange?.({ kind: 'enrolled', personId: w.person.id });
  }

  /** Every photo (and the video) through the quality gate; one that cannot be read is refused on its own. */
  private async analyse(req: EnrolRequest, accepted: EnrolCandidate[], refused: EnrolRefusal[]): Promise<void> {
    const { analyzer, gate } = this.o;
    for (const [i, photo] of req.photos.entries()) {
      const read = await refusedIfUnreadable(photo.name, () => enrolFromBytes(analyzer, photo.bytes, photo.name, gate));
      if ('face' in read) accepted.push(read);
      else refused.push(read);
      req.onProgress?.('photos', i + 1, req.photos.length);
    }
    const video = req.video;
    if (!video) return;
    const v = await withVideoFile(video, (file) => enrolFromVideo(analyzer, file, gate, (d, t) => req.onProgress?.('video frames', d, t)));
    accepted.push(...v.kept);
    refused.push(...v.refused);
  }

  /**
   * Runs a change; if it fails as a change can (its input breaks the rules, the person is not
   * there, no face was usable, the service is busy or stopping), one 'failed' entry with the code
   * is audited, since the transaction that would have held its 'ok' entry did not commit. Anything
   * else is a bug (or a commit of the caller's that failed): the entry point's last resort logs it,
   * and the control socket audits it as it audits every call that failed unexpectedly.
   */
  private async audited<T>(action: string, by: Actor, target: string | null, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (e) {
      if (isFacegateError(e)) this.o.audit.append({ ...by, action, target, detail: { code: e.code }, outcome: 'failed' });
      throw e;
    }
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new FacegateError('FG_ERR_DAEMON_STOPPING', 'the daemon is stopping', 'send the command again once it is back'));
    if (this.pending >= MAX_PENDING) return Promise.reject(new FacegateError('FG_ERR_COMMAND_BUSY', `${this.pending} gallery commands are already running or waiting`, 'send it again once those are answered'));
    this.pending++;
    const run = this.tail.then(fn).finally(() => this.pending--);
    this.tail = run.catch(() => undefined);
    return run;
  }
}

/**
 * The audit target of a person named from outside: a gallery uuid says nothing about the person,
 * an external id may (the gallery seals it), so only a uuid is kept in clear.
 */
function auditTarget(ref: string): string | null {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(ref) ? ref : null;
}

/**
 * The persons of an export as an enrolment would store them: the id as a new person's id, the
 * fields through personFields, each template through templateInput (its embedding at unit length),
 * and no id or external id twice. The first row that breaks a rule is FG_ERR_IMPORT_INVALID naming
 * it, before anything is written.
 */
function importedRows(persons: readonly ExportedPerson[]): ExportedPerson[] {
  const ids = new Map<string, number>();
  const externalIds = new Map<string, number>();
  return persons.map((p, i) => {
    const refused = (why: string, template?: number) =>
      new FacegateError(
        'FG_ERR_IMPORT_INVALID',
        `${exportRow(i, p.id, template)} of the export breaks the rules of what the gallery stores: ${why}; nothing was imported`,
        'correct or remove that person on the box the export was made on (facegate person rename, drop-photo or remove), export again and import that file',
      );
    const rule = <T>(check: () => T, template?: number): T => {
      try {
        return check();
      } catch (e) {
        if (!isFacegateError(e)) throw e;
        // The rule's own "nothing was changed" is said once, for the whole import.
        throw refused(e.message.replace(/; nothing was changed$/, ''), template);
      }
    };
    const id = rule(() => externalId(p.id));
    const fields = rule(() => personFields(p.fields)) as ExportedPerson['fields'];
    const templates = p.templates.map((t, k) => rule(() => templateInput(t), k));
    for (const [key, seen, what] of [
      [id, ids, 'id'],
      [fields.externalId, externalIds, 'external id'],
    ] as const) {
      if (key === undefined) continue;
      const first = seen.get(key);
      if (first !== undefined) throw refused(`person ${first + 1} has the same ${what}`);
      seen.set(key, i);
    }
    return { id, fields, templates };
  });
}

/** FG_ERR_ENROL_NO_FACE, with each photo's refusal for an entry point to show its own way. */
export class NoUsableFace extends FacegateError {
  readonly refused: readonly EnrolRefusal[];
  constructor(label: string, refused: readonly EnrolRefusal[]) {
    const why = refused.length ? refused.map((r) => `${r.file}: ${r.detail}`).join('; ') : 'no photo given';
    super('FG_ERR_ENROL_NO_FACE', `no usable face for ${label}: ${why}`, NO_FACE_HINT);
    this.refused = refused;
  }
}

export const NO_FACE_HINT = 'give sharper, larger, frontal photos of this person alone, eyes open; nothing was stored';

function mustFind(g: Gallery, ref: string): Person {
  const p = g.store.findPerson(ref);
  if (!p) throw new FacegateError('FG_ERR_PERSON_NOT_FOUND', `no person with id or external id ${ref}`, "see 'facegate person list'");
  return p;
}

/** A photo that cannot be decoded is a refusal of that photo, not the end of the enrolment. */
async function refusedIfUnreadable(name: string, fn: () => Promise<EnrolCandidate | EnrolRefusal>): Promise<EnrolCandidate | EnrolRefusal> {
  try {
    return await fn();
  } catch (e) {
    if (!isFacegateError(e)) throw e;
    return { file: name, reason: 'no_face', detail: e.message };
  }
}

/** FFmpeg reads a video from a file: received bytes go to a private temporary one, deleted after. */
async function withVideoFile<T>(video: VideoInput, fn: (file: string) => Promise<T>): Promise<T> {
  if ('file' in video) return fn(video.file);
  const dir = mkdtempSync(join(tmpdir(), 'facegate-enrol-'));
  try {
    const file = join(dir, 'video');
    writeFileSync(file, video.bytes, { mode: 0o600 });
    return await fn(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
