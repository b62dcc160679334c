import { isFacegateError } from '../base/errors.js';
import type { Person, TemplateInput } from '../gallery/store.js';
import { FEED_REFUSAL_CODES, type FeedRefusal } from '../../contract/feed.js';
import type { Actor } from './audit.js';
import type { PersonContext, Written } from './person-context.js';
import { personFields, templateInput, type PersonFields } from './person-input.js';
import { erasePersonRecords } from './retention.js';

/**
 * An entry of a site's gallery feed as the box's feed door read it (signed by the central, opened
 * for this box): a person's whole state to hold, an erasure, a content key to keep (`key` null: its
 * key entry wraps nothing to this box), an entry for other boxes of the site to pass over, or one
 * whose sealed part this box could not read, refused as the door found it.
 */
export type FeedChange = { site: string; seq: number } & (
  | { kind: 'enrol' | 'update'; person: string; fields: PersonFields & { name: string }; templates: readonly TemplateInput[] }
  | { kind: 'key'; id: string; key: Uint8Array | null }
  | { kind: 'erase'; person: string }
  | { kind: 'pass' }
  | { kind: 'refuse'; reason: FeedRefusal }
);

/** What became of an entry: applied (or passed over) and the feed moved on; already applied before; or refused, and the feed moved on past it. */
export type FeedOutcome = { outcome: 'applied' | 'passed' | 'already' } | { outcome: 'refused'; reason: FeedRefusal; code: string };

/** What became of the entries that arrived since the start: the feed's metrics. */
export interface FeedCounts {
  /** The last entry applied. */
  applied: number;
  /** applied, passed (for other boxes of the site), already (a retained copy of one applied before), held (waiting for the one before). */
  outcomes: Record<'applied' | 'passed' | 'already' | 'held', number>;
  refused: Record<FeedRefusal, number>;
}

/**
 * Applies one entry of a site's feed, in order (the door hands them one at a time, each after the
 * one its `prev` names) and idempotently (an entry at or below the number applied is not applied
 * again). An enrolment or update goes through the rules of every enrolment (person-input.ts: the
 * fields, each template's length and values) and the one write of a person (PersonContext.write),
 * with the audit entry of a change named after the feed (`feed:<site>`) and the number applied in
 * the same transaction. A person the feed may not change (quarantined here, or enrolled locally)
 * and an entry that breaks the rules are refused: recorded with their reason, audited as failed,
 * and passed, so one bad entry never stops the feed.
 */
export function applyFeed(ctx: PersonContext, change: FeedChange, nowMs: number): Promise<FeedOutcome> {
  const by: Actor = { actor: `feed:${change.site}`, role: 'admin' };
  return ctx.serial(async () => {
    const db = ctx.o.gallery.db;
    if (change.kind === 'key') return keepKey(ctx, change, by, nowMs);
    if (change.seq <= ctx.feed.applied(change.site)) return { outcome: 'already' };
    if (change.kind === 'pass') {
      db.transaction(() => ctx.feed.advance(change.site, change.seq, nowMs)).immediate();
      return { outcome: 'passed' };
    }
    if (change.kind === 'refuse') return refuse(ctx, change, change.reason, by, nowMs, 'person.feed');
    if (change.kind === 'erase') return eraseFromFeed(ctx, { ...change, kind: 'erase' }, by, nowMs);
    return holdFromFeed(ctx, { ...change, kind: change.kind }, by, nowMs);
  });
}

type Change<K extends FeedChange['kind']> = Extract<FeedChange, { kind: K }>;

/**
 * A key entry: its key kept (sealed) if this box holds none of that id yet. One at or below the
 * number applied is the central's key wrapped again for this box, or a retained copy: its key is
 * still kept, since the entries that use it may be ahead, and the number applied does not move.
 */
function keepKey(ctx: PersonContext, change: Change<'key'>, by: Actor, nowMs: number): FeedOutcome {
  const inOrder = change.seq > ctx.feed.applied(change.site);
  let kept = false;
  ctx.o.gallery.db.transaction(() => {
    kept = ctx.feedKeys.put(change.site, change.id, change.key, change.seq, nowMs);
    if (inOrder) ctx.feed.advance(change.site, change.seq, nowMs);
    if (kept && change.key !== null) ctx.o.audit.append({ ...by, action: 'feed.key', target: null, detail: { seq: change.seq, key: change.id }, outcome: 'ok' });
  }).immediate();
  if (!inOrder) return { outcome: 'already' };
  return { outcome: change.key === null ? 'passed' : 'applied' };
}

function refuse(ctx: PersonContext, change: FeedChange, reason: FeedRefusal, by: Actor, nowMs: number, action: string, code: string = FEED_REFUSAL_CODES[reason]): FeedOutcome {
  ctx.o.gallery.db.transaction(() => {
    ctx.feed.refused(change.site, change.seq, reason, nowMs);
    ctx.feed.advance(change.site, change.seq, nowMs);
    ctx.o.audit.append({ ...by, action, target: 'person' in change ? change.person : null, detail: { seq: change.seq, code, reason }, outcome: 'failed' });
  }).immediate();
  return { outcome: 'refused', reason, code };
}

/** The person's whole state as the entry gives it: a new person with the central's id, or the feed's person brought to it. */
async function holdFromFeed(ctx: PersonContext, change: Change<'enrol' | 'update'>, by: Actor, nowMs: number): Promise<FeedOutcome> {
  const action = `person.${change.kind}`;
  let fields: PersonFields & { name: string };
  let templates: TemplateInput[];
  try {
    fields = personFields(change.fields) as PersonFields & { name: string };
  } catch (e) {
    if (!isFacegateError(e)) throw e;
    return refuse(ctx, change, 'person_invalid', by, nowMs, action, e.code);
  }
  try {
    templates = change.templates.map(templateInput);
  } catch (e) {
    if (!isFacegateError(e)) throw e;
    return refuse(ctx, change, 'template_invalid', by, nowMs, action, e.code);
  }
  const { gallery } = ctx.o;
  if (gallery.quarantined().some((q) => q.personId === change.person)) return refuse(ctx, change, 'quarantined', by, nowMs, action);
  const existing = gallery.store.findPerson(change.person);
  const holder = fields.externalId !== undefined ? gallery.store.findPerson(fields.externalId) : undefined;
  // The feed never takes over a person enrolled on this box, by their id or their external id.
  if ((existing && ctx.feed.sourceOf(existing.id).kind === 'local') || (holder && holder.id !== change.person)) return refuse(ctx, change, 'local_person', by, nowMs, action);
  // The duplicate-face check of every enrolment: a face the gallery already names as someone else is not enrolled again under another name.
  const clash = templates.find((t) => {
    const found = gallery.identify(t.embedding, ctx.o.recognition, 1);
    return found.match !== null && found.match.personId !== change.person;
  });
  if (clash) return refuse(ctx, change, 'duplicate_face', by, nowMs, action);
  let written: Written | undefined;
  let replaced: number[] = [];
  ctx.o.gallery.db.transaction(() => {
    replaced = existing ? gallery.store.templateList(existing.id).map((t) => t.id) : [];
    for (const id of replaced) gallery.store.removeTemplate(existing!.id, id);
    written = ctx.write(existing, fields, templates, change.person);
    if (existing && fields.group === undefined && existing.group !== null) {
      gallery.store.setGroup(existing.id, null);
      written.person = { ...written.person, group: null } as Person;
    }
    ctx.feed.fromFeed(written.person.id, change.site, change.seq);
    ctx.feed.advance(change.site, change.seq, nowMs);
    ctx.o.audit.append({ ...by, action, target: written.person.id, detail: { seq: change.seq, templates: written.templateIds.length, source: 'feed' }, outcome: 'ok' });
  }).immediate();
  gallery.forgetTemplates(replaced);
  ctx.follow(written!);
  return { outcome: 'applied' };
}

/** An erasure: the feed's person removed everywhere, as a local erase does; no one of that id is done already. */
async function eraseFromFeed(ctx: PersonContext, change: Change<'erase'>, by: Actor, nowMs: number): Promise<FeedOutcome> {
  const g = ctx.o.gallery;
  const id = g.store.erasableId(change.person);
  if (id !== undefined && ctx.feed.sourceOf(id).kind === 'local') return refuse(ctx, change, 'local_person', by, nowMs, 'person.erase');
  g.db.transaction(() => {
    const result = id !== undefined ? erasePersonRecords(g.db, id, (personId) => g.store.removePerson(personId)) : undefined;
    ctx.feed.advance(change.site, change.seq, nowMs);
    ctx.o.audit.append({ ...by, action: 'person.erase', target: change.person, detail: { seq: change.seq, erased: result !== undefined, ...(result ?? {}) }, outcome: 'ok' });
  }).immediate();
  if (id !== undefined) {
    g.forget(id);
    ctx.o.onChange?.({ kind: 'removed', personId: id });
  }
  return { outcome: 'applied' };
}
