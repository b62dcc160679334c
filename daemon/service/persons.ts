import type { Person, TemplateInput } from '../gallery/store.js';
import type { ExportedPerson } from '../gallery/transfer.js';
import type { Commit } from '../store/database.js';
import type { Actor } from './audit.js';
import { addPhotos, checkPhoto, enrol, type EnrolRequest, type EnrolResult, type PhotoCheck, type VideoInput } from './enrolment.js';
import { erase, photos, removePhoto, resync, update, type ErasedPerson, type PersonChange, type PersonPhoto, type Resynced } from './person-changes.js';
import { PersonContext, type PersonServiceOptions } from './person-context.js';
import { importPersons, type ImportResult } from './person-import.js';
import { applyFeed, type FeedChange, type FeedOutcome } from './person-feed.js';
import type { PersonSource } from './feed-records.js';
import type { FeedRefusal } from '../../contract/feed.js';
import type { PersonFields, Photo } from './person-input.js';
import { checkSighting, checkUnknown, enrolTemplates, promote, teach, teachFromUnknown, type TaughtFromUnknown } from './teaching.js';

/**
 * The person operations of every entry point (the CLI on a file no daemon holds, the control socket,
 * remote commands, the web console, the demo, a gallery import), one use case or small family a
 * module: enrolment.ts (enrol, photos added, a photo checked), teaching.ts (teach from a sighting or
 * an unknown, promote), person-changes.ts (rename and regroup, erase everywhere, a person's photos),
 * person-import.ts; what they share (the one queue, the write of a person and the memory that
 * follows it) is person-context.ts, and what they answer at every door person-answers.ts.
 *
 * Each runs in two steps: the analysis (decoding, detection, embedding, the quality gate and the
 * duplicate-face check) outside any transaction, then one synchronous commit of the rows together
 * with their audit entry; memory (matcher, names) follows only once the commit is done. The service
 * owns three things no entry point does on its own:
 * - the rules of a person's fields and photos (person-input.ts), checked before anything runs;
 * - the audit: every change is one entry, written in the transaction of the change with the actor
 *   the entry point names, and a change that fails is one entry with outcome 'failed' and its code;
 * - the one write of a person and their templates, whatever they were made from.
 */
export class PersonService {
  private readonly ctx: PersonContext;

  constructor(o: PersonServiceOptions) {
    this.ctx = new PersonContext(o);
  }

  enrol(req: EnrolRequest, by: Actor, commit?: Commit<EnrolResult>): Promise<EnrolResult> {
    return enrol(this.ctx, req, by, commit);
  }

  addPhotos(ref: string, photos: readonly Photo[], by: Actor, options?: { video?: VideoInput; force?: boolean }): Promise<EnrolResult> {
    return addPhotos(this.ctx, ref, photos, by, options);
  }

  checkPhoto(photo: Photo): Promise<PhotoCheck> {
    return checkPhoto(this.ctx, photo);
  }

  teach(ref: string, entryId: number, by: Actor, options?: { force?: boolean }): Promise<EnrolResult> {
    return teach(this.ctx, ref, entryId, by, options);
  }

  checkSighting(entryId: number, by: Actor): Promise<PhotoCheck> {
    return checkSighting(this.ctx, entryId, by);
  }

  teachFromUnknown(ref: string, anonId: string, by: Actor): Promise<TaughtFromUnknown> {
    return teachFromUnknown(this.ctx, ref, anonId, by);
  }

  checkUnknown(anonId: string): Promise<PhotoCheck> {
    return checkUnknown(this.ctx, anonId);
  }

  promote(anonId: string, fields: PersonFields & { name: string }, by: Actor): Promise<{ person: Person; templates: number }> {
    return promote(this.ctx, anonId, fields, by);
  }

  enrolTemplates(fields: PersonFields & { name: string }, templates: readonly TemplateInput[], by: Actor): Promise<Person> {
    return enrolTemplates(this.ctx, fields, templates, by);
  }

  update(ref: string, change: PersonChange, by: Actor): Promise<Person> {
    return update(this.ctx, ref, change, by);
  }

  erase(ref: string, by: Actor, commit?: Commit<ErasedPerson>): Promise<ErasedPerson> {
    return erase(this.ctx, ref, by, commit);
  }

  photos(ref: string, by: Actor): Promise<{ person: Person; photos: PersonPhoto[] }> {
    return photos(this.ctx, ref, by);
  }

  removePhoto(ref: string, templateId: number, by: Actor): Promise<{ person: Person; templateId: number; left: number }> {
    return removePhoto(this.ctx, ref, templateId, by);
  }

  resync(persons: readonly { ref: string; group?: string }[], by: Actor, commit?: Commit<Resynced>): Promise<Resynced> {
    return resync(this.ctx, persons, by, commit);
  }

  importPersons(persons: readonly ExportedPerson[], by: Actor, onProgress?: (done: number, total: number) => void): Promise<ImportResult> {
    return importPersons(this.ctx, persons, by, onProgress);
  }

  /** An entry of a site's gallery feed, applied in order through the rules and audit of every enrolment (person-feed.ts). */
  applyFeed(change: FeedChange, nowMs: number): Promise<FeedOutcome> {
    return applyFeed(this.ctx, change, nowMs);
  }

  /** A content key of the site's feed, opened (the caller zeroes it); null: not for this box; undefined: no key entry of it came. */
  feedKey(site: string, id: string): Uint8Array | null | undefined {
    return this.ctx.feedKeys.keyOf(site, id);
  }

  /** Whether a person was enrolled here or came through a site's feed. */
  sourceOf(personId: string): PersonSource {
    return this.ctx.feed.sourceOf(personId);
  }

  /** How far this box is in a site's feed, its persons from it and the entries it refused: what its report says. */
  feedState(site: string): { applied: number; persons: number; refused: { seq: number; reason: FeedRefusal }[] } {
    const feed = this.ctx.feed;
    return { applied: feed.applied(site), persons: feed.countFromFeed(site), refused: feed.refusals(site) };
  }

  /** Refuses new operations and waits for the one running. */
  close(): Promise<void> {
    return this.ctx.close();
  }
}
