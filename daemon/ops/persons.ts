import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FacegateError, isFacegateError } from '../base/errors.js';
import { enrolFromBytes, enrolFromImage, enrolFromVideo, enrolmentClashes, toTemplate, type EnrolCandidate, type EnrolRefusal, type FaceSource } from '../gallery/enrol.js';
import type { Gallery } from '../gallery/gallery.js';
import type { EnrolGate } from '../gallery/quality-gate.js';
import type { Person, PersonInput, TemplateInput } from '../gallery/store.js';
import { promoteUnknown } from '../track/promote.js';
import type { UnknownRegistry } from '../track/unknowns.js';
import type { RecognitionConfig } from '../vision/config.js';
import type { AuditLog, Role } from './audit.js';
import type { Commit } from '../store/database.js';
import { erasePersonRecords, type EraseResult } from './retention.js';

export type RosterChange = { kind: 'enrolled' | 'removed'; personId: string } | { kind: 'resynced' };

/** Who was erased: only the id, since a quarantined person's sealed cells may not open. */
export type ErasedPerson = { person: Pick<Person, 'id'> } & EraseResult;

/** Who asked, for the audit log. */
export interface Actor {
  actor: string;
  role: Role;
}

/** A photo to enrol from: a file this process reads, or bytes received (named for refusals). */
export type PhotoInput = { name: string; file: string } | { name: string; bytes: Buffer };

export interface EnrolRequest {
  /** The display name; a new person without one is named after their external id. */
  name?: string;
  externalId?: string;
  /** The gallery id of a new person (the central `person_id`); random when left out. */
  id?: string;
  group?: string;
  photos: readonly PhotoInput[];
  /** A short video of the person turning their head (multi-angle enrolment). */
  video?: PhotoInput;
  /** Enrol faces that the gallery recognises as someone else anyway (named in `clashes`). */
  force?: boolean;
  /**
   * A person found by `externalId` (or `id`): 'add' gives them the new photos, and a name or group
   * sent replaces theirs (remote enrolment); 'refuse' is FG_ERR_PERSON_EXISTS.
   */
  ifExists: 'add' | 'refuse';
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
}

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

/**
 * The person operations of every entry point (the CLI on a file no daemon holds, the control socket,
 * remote commands): enrol from photos or a video, rename, regroup (resync), erase everywhere,
 * promote an unknown. Each runs in two steps: the analysis (decoding, detection, embedding, the
 * quality gate and the duplicate-face check) outside any transaction, then one synchronous commit
 * of the rows; memory (matcher, names) follows only once the commit is done.
 *
 * They run one at a time (an enrolment analyses photos for a while, and two enrolments of one
 * person must not both insert, nor pass the duplicate check against a gallery without the other),
 * and not at all once closed, so the gallery is never closed under one.
 */
export class PersonService {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;
  private closed = false;
  constructor(private readonly o: PersonServiceOptions) {}

  /** The default commit: a transaction of its own. */
  private readonly ownTransaction = <T>(write: () => T): T => this.o.gallery.db.transaction(write).immediate();

  enrol(req: EnrolRequest, commit: Commit<EnrolResult> = this.ownTransaction): Promise<EnrolResult> {
    return this.serial(() => this.enrolNow(req, commit));
  }

  /**
   * Removes a person everywhere (attendance, proofs, templates, thumbnails), audited; null when no
   * one has that id. A quarantined person (a row that fails authentication) is removed by uuid.
   */
  erase(ref: string, by: Actor, commit: Commit<ErasedPerson | null> = this.ownTransaction): Promise<ErasedPerson | null> {
    return this.serial(async () => {
      const { gallery: g, audit } = this.o;
      const erased = commit(() => {
        const id = g.store.erasableId(ref);
        if (id === undefined) return null;
        const result = erasePersonRecords(g.db, id, (personId) => g.store.removePerson(personId));
        audit.append({ ...by, action: 'person.erase', target: id, detail: { ...result }, outcome: 'ok' });
        return { person: { id }, ...result };
      });
      if (!erased) return null;
      g.forget(erased.person.id);
      this.o.onChange?.({ kind: 'removed', personId: erased.person.id });
      return erased;
    });
  }

  rename(ref: string, name: string): Promise<Person> {
    return this.serial(async () => {
      const g = this.o.gallery;
      const person = mustFind(g, ref);
      this.ownTransaction(() => g.store.renamePerson(person.id, name));
      g.remember(person.id, name, [], []);
      this.o.onChange?.({ kind: 'enrolled', personId: person.id });
      return { ...person, name };
    });
  }

  /** Regrouping: each listed person's group becomes the one listed (none when the entry has none). */
  resync(persons: readonly { ref: string; group?: string }[], commit: Commit<{ known: number; unknown: string[] }> = this.ownTransaction): Promise<{ known: number; unknown: string[] }> {
    return this.serial(async () => {
      const store = this.o.gallery.store;
      const result = commit(() => {
        let known = 0;
        const unknown: string[] = [];
        for (const entry of persons) {
          const person = store.findPerson(entry.ref);
          if (!person) {
            unknown.push(entry.ref);
            continue;
          }
          known++;
          const group = entry.group ?? null;
          if (group !== person.group) store.setGroup(person.id, group);
        }
        return { known, unknown };
      });
      this.o.gallery.recordGeneration();
      this.o.onChange?.({ kind: 'resynced' });
      return result;
    });
  }

  /** An unknown person of the cameras becomes an enrolled one from the best frames kept of them. */
  promote(anonId: string, input: PersonInput): Promise<{ person: Person; templates: number }> {
    return this.serial(async () => {
      if (!this.o.unknowns) throw new FacegateError('FG_ERR_DAEMON_NOT_RUNNING', 'unknown persons live in the running daemon', 'promote through the daemon: facegate person promote');
      const result = promoteUnknown(this.o.unknowns, this.o.gallery, anonId, input);
      this.o.onChange?.({ kind: 'enrolled', personId: result.person.id });
      return result;
    });
  }

  /**
   * One photo through the quality gate, and whom the gallery already recognises in it, without
   * storing anything: what an enrolment form shows per photo before it is saved.
   */
  async checkPhoto(photo: { name: string; bytes: Buffer }): Promise<PhotoCheck> {
    const r = await refusedIfUnreadable(photo.name, () => enrolFromBytes(this.o.analyzer, photo.bytes, photo.name, this.o.gate));
    if (!('face' in r)) return { ok: false, reason: r.reason, detail: r.detail };
    try {
      const clash = enrolmentClashes(this.o.gallery, [r], this.o.recognition)[0];
      return { ok: true, quality: toTemplate(r).quality, facePx: Math.round(r.face.quality.faceHeight), thumbnail: r.thumbnail, ...(clash ? { matches: clash } : {}) };
    } finally {
      r.face.embedding.fill(0);
    }
  }

  /** Refuses new operations and waits for the one running. */
  async close(): Promise<void> {
    this.closed = true;
    await this.tail;
  }

  private async enrolNow(req: EnrolRequest, commit: Commit<EnrolResult>): Promise<EnrolResult> {
    const g = this.o.gallery;
    const ref = req.id ?? req.externalId;
    const existing = ref !== undefined ? g.store.findPerson(ref) : undefined;
    if (existing && req.ifExists === 'refuse') {
      throw new FacegateError('FG_ERR_PERSON_EXISTS', `a person with id ${ref} is already enrolled`, `remove them first ('facegate person remove ${ref}') or choose another id`);
    }
    const label = req.name ?? ref ?? 'this person';
    const accepted: EnrolCandidate[] = [];
    const refused: EnrolRefusal[] = [];
    try {
      await this.analyse(req, accepted, refused);
      if (accepted.length === 0) throw new NoUsableFace(label, refused);
      const clashes = enrolmentClashes(g, accepted, this.o.recognition, existing?.id);
      if (clashes.length > 0 && !req.force) {
        throw new FacegateError('FG_ERR_ENROL_DUPLICATE', `this face is already enrolled as someone else: ${clashes.join('; ')}`, 'check the photos, or remove the other person first (or force the enrolment); nothing was stored');
      }
      const templates = accepted.map(toTemplate);
      const bestQuality = Math.max(...templates.map((t) => t.quality));
      const result = commit(() => ({ ...this.writeEnrolment(req, existing, templates), refused, clashes, bestQuality }));
      g.remember(result.person.id, result.person.name !== existing?.name ? result.person.name : undefined, result.templateIds, templates);
      this.o.onChange?.({ kind: 'enrolled', personId: result.person.id });
      return result;
    } finally {
      for (const c of accepted) c.face.embedding.fill(0);
    }
  }

  /** The rows of an enrolment; synchronous, inside the caller's transaction. */
  private writeEnrolment(req: EnrolRequest, existing: Person | undefined, templates: TemplateInput[]): { person: Person; templateIds: number[] } {
    const store = this.o.gallery.store;
    if (!existing) {
      const input: PersonInput = { name: req.name ?? req.externalId ?? req.id ?? 'unnamed', ...(req.externalId !== undefined ? { externalId: req.externalId } : {}), ...(req.group !== undefined ? { group: req.group } : {}) };
      const person = store.insertPerson(input, req.id);
      return { person, templateIds: store.insertTemplates(person.id, templates) };
    }
    const templateIds = store.insertTemplates(existing.id, templates);
    let person = existing;
    if (req.group !== undefined && req.group !== existing.group) {
      store.setGroup(existing.id, req.group);
      person = { ...person, group: req.group };
    }
    if (req.name !== undefined && req.name !== existing.name) {
      store.renamePerson(existing.id, req.name);
      person = { ...person, name: req.name };
    }
    return { person, templateIds };
  }

  /** Every photo (and the video) through the quality gate; one that cannot be read is refused on its own. */
  private async analyse(req: EnrolRequest, accepted: EnrolCandidate[], refused: EnrolRefusal[]): Promise<void> {
    const { analyzer, gate } = this.o;
    for (const [i, photo] of req.photos.entries()) {
      const r = await refusedIfUnreadable(photo.name, () => ('file' in photo ? enrolFromImage(analyzer, photo.file, gate) : enrolFromBytes(analyzer, photo.bytes, photo.name, gate)));
      if ('face' in r) accepted.push(r);
      else refused.push(r);
      req.onProgress?.('photos', i + 1, req.photos.length);
    }
    const video = req.video;
    if (!video) return;
    const v = await withVideoFile(video, (file) => enrolFromVideo(analyzer, file, gate, (d, t) => req.onProgress?.('video frames', d, t)));
    accepted.push(...v.kept);
    refused.push(...v.refused);
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
async function withVideoFile<T>(video: PhotoInput, fn: (file: string) => Promise<T>): Promise<T> {
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
