import { FacegateError } from '../base/errors.js';
import type { FaceSource } from '../gallery/enrol.js';
import type { Gallery } from '../gallery/gallery.js';
import type { EnrolGate } from '../gallery/quality-gate.js';
import type { RosterChange } from '../gallery/roster.js';
import type { Person, TemplateInput } from '../gallery/store.js';
import type { UnknownRegistry } from '../track/unknowns.js';
import type { RecognitionConfig } from '../vision/config.js';
import { auditingFailure, type Actor, type AuditLog } from './audit.js';
import { FaceViews } from './face-views.js';
import { FeedKeys, FeedRecords } from './feed-records.js';
import type { PersonFields } from './person-input.js';

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
  /** After a person was taught from a camera's decision that named nobody or someone else: the site's count of false rejects and accepts. */
  onMeasured?: (camera: string, outcome: 'taught' | 'corrected') => void;
}

/** Operations waiting behind the one running; more are refused rather than queued without end. */
const MAX_PENDING = 8;

/** A written person: what memory (matcher, names) follows once the transaction committed. */
export interface Written {
  person: Person;
  templateIds: number[];
  templates: readonly TemplateInput[];
  /** The name, when it is new or changed. */
  name: string | undefined;
  /** Templates dropped past gallery.enrol.max_templates (the worst by quality), perhaps new ones. */
  dropped: number[];
}

/**
 * What every person use case shares (enrolment.ts, teaching.ts, person-changes.ts,
 * person-import.ts): the parts, the one queue they run in, the audit of a change that failed, the
 * lookup of a person named from outside, and the one write of a person and their templates with
 * the memory that follows it.
 *
 * The use cases run one at a time (an enrolment analyses photos for a while, and two enrolments of
 * one person must not both insert, nor pass the duplicate check against a gallery without the
 * other), and not at all once closed, so the gallery is never closed under one.
 */
export class PersonContext {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;
  private closed = false;
  /** Faces opened for an operator (a sighting taught from), each look audited. */
  readonly views: FaceViews;
  #feed: FeedRecords | undefined;
  #feedKeys: FeedKeys | undefined;

  constructor(readonly o: PersonServiceOptions) {
    this.views = new FaceViews({ db: o.gallery.db, sealer: o.gallery.sealer, audit: o.audit });
  }

  /** What the gallery feed keeps: made on first use, by the feed and by a person's source. */
  get feed(): FeedRecords {
    this.#feed ??= new FeedRecords(this.o.gallery.db);
    return this.#feed;
  }

  /** The feed's content keys this box opened: made on first use. */
  get feedKeys(): FeedKeys {
    this.#feedKeys ??= new FeedKeys(this.o.gallery.db, this.o.gallery.sealer);
    return this.#feedKeys;
  }

  /** The default commit: a transaction of its own. */
  readonly ownTransaction = <T>(write: () => T): T => this.o.gallery.db.transaction(write).immediate();

  /**
   * A change whose 'ok' entry it writes itself; a failure as a change can fail is one 'failed' entry
   * (auditingFailure). Always a promise: a refusal of the input is a rejection, as a later failure is.
   */
  async audited<T>(action: string, by: Actor, target: string | null, run: () => Promise<T>): Promise<T> {
    return auditingFailure(this.o.audit, action, by, target, run);
  }

  /** Runs `fn` after the operations before it; refused while stopping, or when too many wait. */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new FacegateError('FG_ERR_DAEMON_STOPPING', 'the daemon is stopping', 'send the command again once it is back'));
    if (this.pending >= MAX_PENDING) return Promise.reject(new FacegateError('FG_ERR_COMMAND_BUSY', `${this.pending} gallery commands are already running or waiting`, 'send it again once those are answered'));
    this.pending++;
    const run = this.tail.then(fn).finally(() => this.pending--);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Refuses new operations and waits for the one running. */
  async close(): Promise<void> {
    this.closed = true;
    await this.tail;
  }

  /** A person by uuid or external id, or FG_ERR_PERSON_NOT_FOUND. */
  find(ref: string): Person {
    const p = this.o.gallery.store.findPerson(ref);
    if (!p) throw personNotFound(ref);
    return p;
  }

  /**
   * The one write of a person and their templates, whatever they were made from (photos, a video,
   * an unknown's frames, an export, the demo's faces): a new person with them, or more of them for
   * `existing` with the name and group given replacing theirs. Synchronous, inside the caller's
   * transaction; memory follows with `follow` once it committed.
   */
  write(existing: Person | undefined, fields: PersonFields, templates: readonly TemplateInput[], id?: string): Written {
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
  follow(w: Written): void {
    this.o.gallery.remember(w.person.id, w.name, w.templateIds, w.templates);
    this.o.gallery.forgetTemplates(w.dropped);
    this.o.onChange?.({ kind: 'enrolled', personId: w.person.id });
  }
}

/** The templates of a write still kept once the worst were dropped past the bound. */
export function keptTemplates(w: Written): number[] {
  return w.templateIds.filter((t) => !w.dropped.includes(t));
}

/**
 * No person has that uuid or external id: one code, one wording and one next step, whichever door
 * asked (each door maps the code to its own answer: an exit status, an HTTP 404, an error answer).
 */
export function personNotFound(ref: string): FacegateError {
  return new FacegateError('FG_ERR_PERSON_NOT_FOUND', `no person with id or external id ${ref}`, "look the id up with 'facegate person list' or on the console's people page");
}

/**
 * The audit target of a person named from outside: a gallery uuid says nothing about the person,
 * an external id may (the gallery seals it), so only a uuid is kept in clear.
 */
export function auditTarget(ref: string): string | null {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(ref) ? ref : null;
}
