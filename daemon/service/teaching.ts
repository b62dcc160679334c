import { FacegateError } from '../base/errors.js';
import type { EnrolRefusal } from '../gallery/enrol.js';
import type { Person, TemplateInput } from '../gallery/store.js';
import { promotionTemplates } from '../track/promote.js';
import type { Actor } from './audit.js';
import { checkPhoto, enrolNow, NoUsableFace, type EnrolResult, type PhotoCheck } from './enrolment.js';
import { auditTarget, keptTemplates, type PersonContext } from './person-context.js';
import { personFields, personRef, type PersonFields, type Photo } from './person-input.js';

/** What teaching a person from an unknown stored. */
export interface TaughtFromUnknown {
  person: Person;
  /** Templates kept of the unknown's frames. */
  templates: number;
  bestQuality: number;
  dropped: number;
}

/**
 * The quality gate's verdict on the face a camera kept of a decision (a timeline entry), and whom
 * the gallery recognises in it, before anyone teaches it: nothing is stored.
 */
export async function checkSighting(ctx: PersonContext, entryId: number, by: Actor): Promise<PhotoCheck> {
  return checkPhoto(ctx, sightingPhoto(ctx, entryId, by));
}

/**
 * Teaches a person from a sighting: the face a camera kept of a recognised or unknown decision
 * goes through the enrolment gate and becomes one of their templates. The gate may refuse it (a
 * small or blurred face), as it would a photo.
 */
export function teach(ctx: PersonContext, ref: string, entryId: number, by: Actor, options: { force?: boolean } = {}): Promise<EnrolResult> {
  return ctx.audited('person.teach', by, auditTarget(ref), () => {
    personRef(ref);
    return ctx.serial(async () => {
      const person = ctx.find(ref);
      const photo = sightingPhoto(ctx, entryId, by);
      const measure = measureOf(ctx.views.decisionOf(entryId), person.id);
      const taught = await enrolNow(ctx, { id: person.id, photos: [photo], ifExists: 'add', sighting: entryId, ...(measure ? { measure } : {}), ...(options.force ? { force: true } : {}) }, by, ctx.ownTransaction);
      if (measure) ctx.o.onMeasured?.(measure.camera, measure.outcome);
      return taught;
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
export function teachFromUnknown(ctx: PersonContext, ref: string, anonId: string, by: Actor): Promise<TaughtFromUnknown> {
  const subject = anonId.slice(0, 64);
  return ctx.audited('person.teach', by, auditTarget(ref), () => {
    personRef(ref);
    return ctx.serial(async () => {
      const unknowns = ctx.o.unknowns;
      if (!unknowns) throw new FacegateError('FG_ERR_DAEMON_NOT_RUNNING', 'unknown persons live in the running daemon', 'teach through the daemon: facegate person teach ID --unknown ANON_ID');
      const person = ctx.find(ref);
      const verdict = await checkUnknown(ctx, anonId);
      if (!verdict.ok) throw new NoUsableFace(subject, [{ file: subject, reason: verdict.reason as EnrolRefusal['reason'], detail: verdict.detail }]);
      const templates = promotionTemplates(unknowns, anonId);
      const written = ctx.ownTransaction(() => {
        const w = ctx.write(person, {}, templates);
        ctx.o.audit.append({ ...by, action: 'person.teach', target: person.id, detail: { unknown: subject, templates: w.templateIds.length, ...(w.dropped.length ? { dropped: w.dropped.length } : {}) }, outcome: 'ok' });
        return w;
      });
      ctx.follow(written);
      for (const f of unknowns.take(anonId)?.frames ?? []) f.embedding.fill(0);
      return { person, templates: keptTemplates(written).length, bestQuality: Math.max(...templates.map((t) => t.quality)), dropped: written.dropped.length };
    });
  });
}

/** The enrolment gate's verdict on an unknown person's best face, before anyone is taught from them. */
export async function checkUnknown(ctx: PersonContext, anonId: string): Promise<PhotoCheck> {
  const face = ctx.o.unknowns?.get(anonId)?.thumbnail;
  if (!face) throw new FacegateError('FG_ERR_UNKNOWN_NOT_FOUND', `no unknown person ${anonId.slice(0, 64)} with a face kept`, "use an anonymous id from a recent unknown event or the console's unknowns page");
  return checkPhoto(ctx, { name: anonId.slice(0, 64), bytes: face });
}

/** An unknown person of the cameras becomes an enrolled one from the best frames kept of them. */
export function promote(ctx: PersonContext, anonId: string, fields: PersonFields & { name: string }, by: Actor): Promise<{ person: Person; templates: number }> {
  // The anonymous id is the subject of a promotion, ok or failed: it names no one.
  const subject = anonId.slice(0, 64);
  return ctx.audited('person.promote', by, subject, () => {
    const checked = personFields(fields) as PersonFields & { name: string };
    return ctx.serial(async () => {
      const unknowns = ctx.o.unknowns;
      if (!unknowns) throw new FacegateError('FG_ERR_DAEMON_NOT_RUNNING', 'unknown persons live in the running daemon', 'promote through the daemon: facegate person promote');
      const templates = promotionTemplates(unknowns, anonId);
      const written = ctx.ownTransaction(() => {
        const w = ctx.write(undefined, checked, templates);
        ctx.o.audit.append({ ...by, action: 'person.promote', target: subject, detail: { person: w.person.id, templates: w.templateIds.length }, outcome: 'ok' });
        return w;
      });
      ctx.follow(written);
      for (const f of unknowns.take(anonId)?.frames ?? []) f.embedding.fill(0);
      return { person: written.person, templates: written.templateIds.length };
    });
  });
}

/**
 * A new person from templates made elsewhere (faces the demo analysed itself); the fields checked
 * as any enrolment's.
 */
export function enrolTemplates(ctx: PersonContext, fields: PersonFields & { name: string }, templates: readonly TemplateInput[], by: Actor): Promise<Person> {
  return ctx.audited('person.enrol', by, null, () => {
    const checked = personFields(fields) as PersonFields & { name: string };
    return ctx.serial(async () => {
      const written = ctx.ownTransaction(() => {
        const w = ctx.write(undefined, checked, templates);
        ctx.o.audit.append({ ...by, action: 'person.enrol', target: w.person.id, detail: { templates: w.templateIds.length }, outcome: 'ok' });
        return w;
      });
      ctx.follow(written);
      return written.person;
    });
  });
}

/**
 * What teaching a person from a camera's decision says of that camera: an unknown decision of an
 * enrolled person is a false reject (`taught`), a recognition of someone else a false accept
 * (`corrected`); teaching the person it named says nothing against it.
 */
export function measureOf(decision: { camera: string; kind: string; personId: string | null } | undefined, personId: string): { camera: string; outcome: 'taught' | 'corrected' } | undefined {
  if (!decision) return undefined;
  if (decision.kind === 'unknown') return { camera: decision.camera, outcome: 'taught' };
  if (decision.kind === 'recognized' && decision.personId !== personId) return { camera: decision.camera, outcome: 'corrected' };
  return undefined;
}

/** A timeline entry's face crop as a photo named after the entry; opening it is audited as a view (FaceViews). */
function sightingPhoto(ctx: PersonContext, entryId: number, by: Actor): Photo {
  const bytes = ctx.views.crop(entryId, by);
  if (!bytes) throw new FacegateError('FG_ERR_SIGHTING_NOT_FOUND', `timeline entry ${String(entryId)} has no face to learn from`, 'choose a recognised or unknown decision with a face on the timeline (retention may have purged older ones)');
  return { name: `sighting ${entryId}`, bytes };
}
