import { FacegateError } from '../base/errors.js';
import type { Person, StoredPhoto } from '../gallery/store.js';
import type { Commit } from '../store/database.js';
import type { Actor } from './audit.js';
import { auditTarget, personNotFound, type PersonContext } from './person-context.js';
import { personGroup, personName, personRef } from './person-input.js';
import { erasePersonRecords, type EraseResult } from './retention.js';

/** Who was erased: only the id, since a quarantined person's sealed cells may not open. */
export type ErasedPerson = { person: Pick<Person, 'id'> } & EraseResult;

/** A change of a person's name or group; a null group takes theirs away. */
export interface PersonChange {
  name?: string;
  group?: string | null;
}

/** A person's photo as shown to operators: the template's facts and the face it was made from. */
export type PersonPhoto = StoredPhoto & { thumbnail: Buffer | null };

/** Regrouping's answer: how many listed persons are enrolled, and the refs of those who are not. */
export interface Resynced {
  known: number;
  unknown: string[];
}

/**
 * Removes a person everywhere (attendance, proofs, templates, thumbnails), audited. No one with that
 * id is FG_ERR_PERSON_NOT_FOUND (audited as failed), the same at every door. A quarantined person (a
 * row that fails authentication) is removed by uuid.
 */
export function erase(ctx: PersonContext, ref: string, by: Actor, commit: Commit<ErasedPerson> = ctx.ownTransaction): Promise<ErasedPerson> {
  return ctx.audited('person.erase', by, auditTarget(ref), () => {
    personRef(ref);
    return ctx.serial(async () => {
      const { gallery: g, audit } = ctx.o;
      // Looked up inside the commit: a remote command's transaction holds the lookup and the erase together.
      const erased = commit(() => {
        const id = g.store.erasableId(ref);
        if (id === undefined) throw personNotFound(ref);
        const result = erasePersonRecords(g.db, id, (personId) => g.store.removePerson(personId));
        audit.append({ ...by, action: 'person.erase', target: id, detail: { ...result }, outcome: 'ok' });
        return { person: { id }, ...result };
      });
      g.forget(erased.person.id);
      ctx.o.onChange?.({ kind: 'removed', personId: erased.person.id });
      return erased;
    });
  });
}

/** A person's name or group (or both) changed in one write, audited as one change. */
export function update(ctx: PersonContext, ref: string, change: PersonChange, by: Actor): Promise<Person> {
  return ctx.audited('person.update', by, auditTarget(ref), () => {
    personRef(ref);
    const name = change.name !== undefined ? personName(change.name) : undefined;
    const group = change.group === undefined ? undefined : change.group === null ? null : personGroup(change.group);
    if (name === undefined && group === undefined) throw new FacegateError('FG_ERR_PERSON_INVALID', 'a change names neither a new name nor a group; nothing was changed', 'send a name, a group, or both');
    return ctx.serial(async () => {
      const gallery = ctx.o.gallery;
      const person = ctx.find(ref);
      const updated = ctx.ownTransaction(() => {
        if (name !== undefined && name !== person.name) gallery.store.renamePerson(person.id, name);
        if (group !== undefined && group !== person.group) gallery.store.setGroup(person.id, group);
        ctx.o.audit.append({ ...by, action: 'person.update', target: person.id, detail: { name: name !== undefined, group: group !== undefined }, outcome: 'ok' });
        return { ...person, ...(name !== undefined ? { name } : {}), ...(group !== undefined ? { group } : {}) };
      });
      gallery.remember(person.id, name, [], []);
      ctx.o.onChange?.({ kind: 'enrolled', personId: person.id });
      return updated;
    });
  });
}

/**
 * A person's photos, best first, with the faces they were made from: personal data shown to an
 * operator, so every look is audited.
 */
export function photos(ctx: PersonContext, ref: string, by: Actor): Promise<{ person: Person; photos: PersonPhoto[] }> {
  return ctx.audited('person.photos.view', by, auditTarget(ref), async () => {
    personRef(ref);
    const store = ctx.o.gallery.store;
    const person = ctx.find(ref);
    const photos = store.photos(person.id).map((p) => {
      const jpeg = p.hasThumbnail ? store.thumbnail(person.id, p.templateId) : undefined;
      return { ...p, thumbnail: jpeg ? Buffer.from(jpeg) : null };
    });
    ctx.o.audit.append({ ...by, action: 'person.photos.view', target: person.id, detail: { photos: photos.length }, outcome: 'ok' });
    return { person, photos };
  });
}

/**
 * Drops one of a person's templates (a bad photo, an old haircut); their last one stays, since a
 * person without templates is enrolled but never recognised: remove the person instead.
 */
export function removePhoto(ctx: PersonContext, ref: string, templateId: number, by: Actor): Promise<{ person: Person; templateId: number; left: number }> {
  return ctx.audited('person.remove_template', by, auditTarget(ref), () => {
    personRef(ref);
    if (!Number.isSafeInteger(templateId) || templateId < 1) throw new FacegateError('FG_ERR_PHOTO_NOT_FOUND', `no photo ${String(templateId)}`, "photo ids are the numbers 'facegate person photos ID' lists");
    return ctx.serial(async () => {
      const gallery = ctx.o.gallery;
      const person = ctx.find(ref);
      const left = ctx.ownTransaction(() => {
        const count = gallery.store.countTemplates(person.id);
        if (!gallery.store.photos(person.id).some((p) => p.templateId === templateId)) {
          throw new FacegateError('FG_ERR_PHOTO_NOT_FOUND', `${person.name} has no photo ${templateId}`, `list their photos: facegate person photos ${person.id}`);
        }
        if (count <= 1) throw new FacegateError('FG_ERR_PHOTO_LAST', `photo ${templateId} is the last one of ${person.name}: without it they would never be recognised`, `add a better photo first (facegate person add --to ${person.id} --image FILE), then remove this one`);
        gallery.store.removeTemplate(person.id, templateId);
        ctx.o.audit.append({ ...by, action: 'person.remove_template', target: person.id, detail: { template: templateId, left: count - 1 }, outcome: 'ok' });
        return count - 1;
      });
      gallery.forgetTemplates([templateId]);
      ctx.o.onChange?.({ kind: 'enrolled', personId: person.id });
      return { person, templateId, left };
    });
  });
}

/** Regrouping: each listed person's group becomes the one listed (none when the entry has none). */
export function resync(ctx: PersonContext, persons: readonly { ref: string; group?: string }[], by: Actor, commit: Commit<Resynced> = ctx.ownTransaction): Promise<Resynced> {
  return ctx.audited('roster.resync', by, null, () => {
    for (const entry of persons) {
      personRef(entry.ref);
      if (entry.group !== undefined) personGroup(entry.group);
    }
    return ctx.serial(async () => {
      const store = ctx.o.gallery.store;
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
        ctx.o.audit.append({ ...by, action: 'roster.resync', target: null, detail: { listed: persons.length, known, changed, unknown: unknown.length }, outcome: 'ok' });
        return { known, unknown };
      });
      ctx.o.gallery.recordGeneration();
      ctx.o.onChange?.({ kind: 'resynced' });
      return result;
    });
  });
}
