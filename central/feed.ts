import { randomUUID, type KeyObject } from 'node:crypto';
import sodiumModule from 'libsodium-wrappers-sumo';
import { Value } from '@sinclair/typebox/value';
import { FacegateError } from '../daemon/base/errors.js';
import { externalId, personGroup, personName, templateInput } from '../daemon/service/person-input.js';
import { FEED_ENTRY_MAX_BYTES, FEED_MAX_TEMPLATES, FeedPerson, FeedReport, feedAssociatedData, signFeedEntry } from '../contract/feed.js';
import { boxSealingKey, encryptContent, newContentKey, wrapKey } from '../contract/feed-seal.js';
import { verifySignedEvent } from '../contract/signature.js';
import type { FeedBox } from './config.js';
import type { FeedKeyRow, FeedPersonRow, FeedStore } from './feed-store.js';

type Sodium = typeof sodiumModule;

export async function loadSodium(): Promise<Sodium> {
  await sodiumModule.ready;
  return sodiumModule;
}

/** A template as the central takes it from a file: what a box's embedder made of a face. */
export interface TemplateFile {
  templates: { embedding: number[]; quality: number; model: string }[];
}

/** What a feed command asks of a person; the rules are those of every box's enrolment (person-input.ts). */
export interface FeedRequest {
  site: string;
  externalId: string;
  name?: string;
  group?: string;
  templates?: TemplateFile['templates'];
  /** Device ids of the site's boxes the person is for; left out: every box of the site. */
  boxes?: readonly string[];
}

export interface FeedParts {
  store: FeedStore;
  sites: ReadonlyMap<string, readonly FeedBox[]>;
  root: string;
  key: KeyObject;
  sodium: Sodium;
  now: () => Date;
}

const invalid = (message: string, hint: string) => new FacegateError('FG_ERR_FEED_INVALID', `${message}; nothing was changed`, hint);

function siteBoxes(parts: FeedParts, site: string): readonly FeedBox[] {
  const boxes = parts.sites.get(site);
  if (!boxes) throw new FacegateError('FG_ERR_FEED_SITE', `no site ${JSON.stringify(site.slice(0, 64))} in the config's feed.sites; nothing was changed`, `name one of: ${[...parts.sites.keys()].join(', ') || '(none: add the site and its boxes under feed.sites)'}`);
  return boxes;
}

/** The templates of a file, within the rules a box holds them to: what a box would refuse is refused here, before anything is published. */
export function checkTemplates(value: unknown): TemplateFile['templates'] {
  const list = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>).templates : undefined;
  if (!Array.isArray(list) || list.length === 0 || list.length > FEED_MAX_TEMPLATES) {
    throw invalid(`the templates file holds no list "templates" of 1-${FEED_MAX_TEMPLATES} templates`, 'give {"templates": [{"embedding": [512 numbers], "quality": 0-1, "model": "..."}]}');
  }
  return list.map((t: unknown, i) => {
    const o = typeof t === 'object' && t !== null ? (t as Record<string, unknown>) : {};
    const { embedding, quality, model } = o;
    if (!Array.isArray(embedding) || !embedding.every((x) => typeof x === 'number') || typeof quality !== 'number' || typeof model !== 'string' || Object.keys(o).some((k) => !['embedding', 'quality', 'model'].includes(k))) {
      throw invalid(`template ${i + 1} is not {embedding: numbers, quality: number, model: text}`, 'give each template its embedding, quality and model, nothing else');
    }
    try {
      templateInput({ embedding: Float32Array.from(embedding as number[]), quality, model, source: `template ${i + 1}` });
    } catch (e) {
      if (e instanceof FacegateError) throw invalid(`template ${i + 1}: ${e.message.replace(/; nothing was changed$/, '')}`, e.hint ?? '');
      throw e;
    }
    return { embedding: embedding as number[], quality, model };
  });
}

/** Templates as an entry carries them: each embedding as little-endian float32, base64. */
function sealedTemplates(templates: TemplateFile['templates']): FeedPerson['templates'] {
  return templates.map((t) => ({ embedding: Buffer.from(Float32Array.from(t.embedding).buffer).toString('base64'), quality: t.quality, model: t.model }));
}

/** A person's new state, each field held to the person rules. */
function personState(externalIdValue: string, name: string, group: string | undefined, templates: FeedPerson['templates']): FeedPerson {
  return { name: personName(name), external_id: externalId(externalIdValue), ...(group !== undefined ? { group: personGroup(group) } : {}), templates };
}

/** The boxes a person is for: every box of the site, or those named, each of the site. */
function recipients(site: string, all: readonly FeedBox[], named: readonly string[] | undefined): FeedBox[] {
  if (named === undefined) return [...all];
  return named.map((device) => {
    const box = all.find((b) => b.device === device);
    if (!box) throw invalid(`box ${JSON.stringify(device.slice(0, 64))} is not one of site ${site}'s`, `name boxes by their device id: ${all.map((b) => b.device).join(', ')}`);
    return box;
  });
}

/** A box's key to seal to: an Ed25519 key that is not a point of the curve (which a JWK may claim) has none. */
function sealingKeyOf(sodium: Sodium, box: FeedBox): Uint8Array {
  try {
    return boxSealingKey(sodium, box.key.jwk.x);
  } catch {
    throw new FacegateError('FG_ERR_FEED_BOX_KEY', `the key of ${box.base} under keys is not an Ed25519 public key that can be sealed to; nothing was changed`, "give that box's key as `facegate keys export-public` prints it on the box");
  }
}

/** The scope of a person's key: every box of the site, or the group of boxes they are for. */
const SITE_SCOPE = 'site';
const scopeOf = (boxes: readonly string[] | undefined): string => (boxes === undefined ? SITE_SCOPE : JSON.stringify([...boxes].sort()));

/** The boxes a scope's key is wrapped to: the site's, or those of the group still on the site. */
function scopeBoxes(all: readonly FeedBox[], scope: string): FeedBox[] {
  if (scope === SITE_SCOPE) return [...all];
  const group = JSON.parse(scope) as string[];
  return all.filter((b) => group.includes(b.device));
}

const stamp = (parts: FeedParts) => parts.now().toISOString().replace(/\.\d{3}Z$/, 'Z');
const signer = (parts: FeedParts) => (entry: Parameters<typeof signFeedEntry>[0]) => signFeedEntry(entry, parts.key);

function wrapFor(parts: FeedParts, id: string, key: Uint8Array, boxes: readonly FeedBox[]) {
  return wrapKey(parts.sodium, id, key, new Map(boxes.map((b) => [b.device, sealingKeyOf(parts.sodium, b)])));
}

/** The scope's current content key, or a new one in a key entry of the log (the first, or the one after a rotation). */
function keyFor(parts: FeedParts, site: string, scope: string): FeedKeyRow | { id: string; key: Uint8Array } {
  const current = parts.store.currentKey(site, scope);
  if (current) return current;
  const made = newContentKey(parts.sodium);
  const all = siteBoxes(parts, site);
  parts.store.addKey({ site, root: parts.root, scope, key: made.key, wrapped: wrapFor(parts, made.id, made.key, scopeBoxes(all, scope)), time: stamp(parts), sign: signer(parts) });
  // The boxes the keys are wrapped for, so that the next command sees a change of them.
  parts.store.setSiteBoxes(site, all.map((b) => b.device));
  return made;
}

/** The signed entry's size for a person's state of `plain` bytes: encrypted (+16), base64, then base64url of the entry's JSON with room for its other fields. */
const entryBytes = (plain: number) => Math.ceil((Math.ceil((plain + 16) / 3) * 4 + 512) / 3) * 4;

function append(parts: FeedParts, site: string, kind: 'enrol' | 'update' | 'erase', row: FeedPersonRow, state: FeedPerson | undefined): number {
  const plain = state ? Buffer.from(JSON.stringify(state)) : undefined;
  if (plain && entryBytes(plain.length) > FEED_ENTRY_MAX_BYTES) {
    throw invalid(`the entry of ${row.externalId} would be larger than the ${FEED_ENTRY_MAX_BYTES / 1024} KiB a box takes`, 'give fewer templates');
  }
  const key = plain ? keyFor(parts, site, scopeOf(row.boxes)) : undefined;
  return parts.store.append({
    site,
    root: parts.root,
    kind,
    person: row.person,
    externalId: row.externalId,
    row: state ? { state: JSON.stringify(state), boxes: row.boxes } : undefined,
    sealed: plain && key ? (seq) => encryptContent(parts.sodium, key.id, key.key, plain, feedAssociatedData({ site, seq, kind, person: row.person }, key.id)) : undefined,
    boxes: parts.sites.get(site)!.map((b) => b.device),
    time: stamp(parts),
    sign: signer(parts),
  });
}

/** A new person for the site's boxes (or those named): a new uuid, encrypted under the key of the site (or of those boxes). */
export function feedEnrol(parts: FeedParts, r: FeedRequest): { seq: number; person: string } {
  const all = siteBoxes(parts, r.site);
  const id = externalId(r.externalId);
  if (parts.store.personOf(r.site, id)) throw new FacegateError('FG_ERR_PERSON_EXISTS', `${id} is already in site ${r.site}'s feed; nothing was changed`, `change them with 'facegate central feed update', or erase them first`);
  if (r.name === undefined || r.templates === undefined) throw invalid('an enrolment needs a name and templates', 'give --name and --templates FILE');
  const state = personState(id, r.name, r.group, sealedTemplates(r.templates));
  const boxes = recipients(r.site, all, r.boxes);
  const row: FeedPersonRow = { externalId: id, person: randomUUID(), state: '', boxes: r.boxes ? boxes.map((b) => b.device) : undefined };
  return { seq: append(parts, r.site, 'enrol', row, state), person: row.person };
}

/** A person's name, group, templates or boxes changed: their whole state encrypted again, in place of their older entry. */
export function feedUpdate(parts: FeedParts, r: FeedRequest): { seq: number; person: string } {
  const all = siteBoxes(parts, r.site);
  const row = existing(parts, r);
  if (r.name === undefined && r.group === undefined && r.templates === undefined && r.boxes === undefined) throw invalid('an update changes nothing', 'give --name, --group, --templates or --boxes');
  const before = JSON.parse(row.state) as FeedPerson;
  const state = personState(row.externalId, r.name ?? before.name, r.group ?? before.group, r.templates ? sealedTemplates(r.templates) : before.templates);
  const boxes = recipients(r.site, all, r.boxes ?? row.boxes);
  const next: FeedPersonRow = { ...row, boxes: r.boxes ? boxes.map((b) => b.device) : row.boxes };
  return { seq: append(parts, r.site, 'update', next, state), person: row.person };
}

/** A person erased on every box of the site: the entry names only the uuid, and takes the place of their last. */
export function feedErase(parts: FeedParts, r: Pick<FeedRequest, 'site' | 'externalId'>): { seq: number; person: string } {
  siteBoxes(parts, r.site);
  const row = existing(parts, r);
  return { seq: append(parts, r.site, 'erase', row, undefined), person: row.person };
}

function existing(parts: FeedParts, r: Pick<FeedRequest, 'site' | 'externalId'>): FeedPersonRow {
  const row = parts.store.personOf(r.site, externalId(r.externalId));
  if (!row) throw new FacegateError('FG_ERR_PERSON_NOT_FOUND', `no person ${r.externalId} in site ${r.site}'s feed; nothing was changed`, `enrol them with 'facegate central feed enrol', or check the id`);
  return row;
}

/** What following the site's boxes changed in the log. */
export interface FeedSync {
  /** Live keys wrapped again, in place, for the boxes now listed. */
  rewrapped: number;
  /** Whether the site's key was rotated (a box left): entries after it are unreadable to the box that left. */
  rotated: boolean;
  /** Persons of the first format (sealed to each box) written again under the site's key. */
  upgraded: number;
}

/**
 * The log made to follow the site's boxes as the config lists them now, before a command's change:
 * - every live key wrapped again in its place for the boxes of its scope now (a box added reads the
 *   entries written before it; a box removed finds no wrap in the live log);
 * - a box removed: the scopes it was in get a new key (the site's at once, in a key entry at the
 *   head; a group's at its next person), so it cannot read what is written after it left; what it
 *   read before, it had;
 * - persons whose live entry is of the first format (each sealed to every box) written again under
 *   their scope's key, so that the log sheds the per-box copies; boxes read both meanwhile.
 */
export function feedSync(parts: FeedParts, site: string): FeedSync {
  const all = siteBoxes(parts, site);
  const before = parts.store.sitesBoxes(site);
  const now = all.map((b) => b.device);
  const out: FeedSync = { rewrapped: 0, rotated: false, upgraded: 0 };
  if (before !== undefined && !(before.length === now.length && before.every((d) => now.includes(d)))) {
    const removed = before.filter((d) => !now.includes(d));
    for (const k of parts.store.keys(site)) {
      const target = scopeBoxes(all, k.scope);
      if (target.length === k.boxes.length && target.every((b) => k.boxes.includes(b.device))) continue;
      parts.store.rewrapKey(site, parts.root, k.id, wrapFor(parts, k.id, k.key, target), signer(parts));
      out.rewrapped++;
      if (k.current && k.boxes.some((d) => removed.includes(d))) {
        parts.store.retireCurrent(site, k.scope);
        if (k.scope === SITE_SCOPE) out.rotated = true;
      }
    }
    // A person's group loses the boxes no longer on the site.
    for (const row of parts.store.people(site)) {
      if (row.boxes && row.boxes.some((d) => removed.includes(d))) parts.store.setBoxes(site, row.externalId, row.boxes.filter((d) => now.includes(d)));
    }
    if (out.rotated) keyFor(parts, site, SITE_SCOPE);
    parts.store.setSiteBoxes(site, now);
  }
  if (parts.store.firstFormat(site) > 0) {
    const firstFormat = new Set(parts.store.live(site).filter((e) => e.v === 1).map((e) => e.person));
    for (const row of parts.store.people(site)) {
      if (!firstFormat.has(row.person)) continue;
      append(parts, site, 'update', row, JSON.parse(row.state) as FeedPerson);
      out.upgraded++;
    }
  }
  return out;
}

/** An admin's rotation: every current key of the site retired, and a new site key at the head; entries written after it use the new keys. */
export function feedRotate(parts: FeedParts, site: string): number {
  siteBoxes(parts, site);
  for (const k of parts.store.keys(site)) if (k.current) parts.store.retireCurrent(site, k.scope);
  keyFor(parts, site, SITE_SCOPE);
  return parts.store.head(site);
}

/**
 * The box's ask for a key it did not have: a person's entry that a box of the site reported refused
 * as `key_missing` (it came before the key was wrapped to the box: a box added while it read the
 * log), still live, and whose key the live log now wraps to that box, is written again; the box
 * reads the new entry with the key it now holds. Returns how many persons were written again.
 */
export function feedRewriteMissing(parts: FeedParts, site: string, reports: ReadonlyMap<string, FeedReport>): number {
  const live = new Map(parts.store.live(site).map((e) => [e.seq, e]));
  const wrappedTo = new Map(parts.store.keys(site).map((k) => [k.id, k.boxes]));
  const again = new Set<string>();
  for (const [device, report] of reports) {
    for (const r of report.refused) {
      const e = r.reason === 'key_missing' ? live.get(r.seq) : undefined;
      if (e && e.keyId !== null && e.kind !== 'key' && wrappedTo.get(e.keyId)?.includes(device)) again.add(e.person);
    }
  }
  let n = 0;
  for (const row of parts.store.people(site)) {
    if (!again.has(row.person)) continue;
    append(parts, site, 'update', row, JSON.parse(row.state) as FeedPerson);
    n++;
  }
  return n;
}

/** What a box's report says, once its signature by that box's key checked; undefined for anything else. */
export function readReport(box: FeedBox, site: string, payload: Buffer): FeedReport | undefined {
  if (payload.length === 0 || payload.length > 64 * 1024) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Value.Check(FeedReport, body)) return undefined;
  const verdict = verifySignedEvent(body as unknown as Record<string, unknown>, box.key);
  if (!verdict.ok) return undefined;
  const report = body as FeedReport;
  return report.device === box.device && report.site === site ? report : undefined;
}

/** One box's standing in the site's feed. */
export interface BoxStanding {
  box: string;
  /** The last entry it reported applied; null: no report read. */
  applied: number | null;
  persons: number | null;
  /** Entries of the log it has not applied yet. */
  behind: number | null;
  /** Erasures it has not confirmed: not applied yet, or refused. */
  unconfirmed: number[];
}

/** Each box against the log: how far behind it is, and the erasures it has not confirmed. */
export function standings(store: FeedStore, site: string, boxes: readonly FeedBox[], reports: ReadonlyMap<string, FeedReport>): { head: number; boxes: BoxStanding[] } {
  const live = store.live(site);
  const head = store.head(site);
  const erasures = live.filter((e) => e.kind === 'erase').map((e) => e.seq);
  return {
    head,
    boxes: boxes.map((b) => {
      const r = reports.get(b.device);
      if (!r) return { box: b.device, applied: null, persons: null, behind: null, unconfirmed: erasures };
      const refused = new Set(r.refused.map((x) => x.seq));
      return { box: b.device, applied: r.applied, persons: r.persons, behind: live.filter((e) => e.seq > r.applied).length, unconfirmed: erasures.filter((s) => s > r.applied || refused.has(s)) };
    }),
  };
}

/** The erasures every box of the site confirmed (each box reported, applied past it, did not refuse it): they may leave the log. */
export function confirmedByAll(standing: { boxes: readonly BoxStanding[] }, erasures: readonly number[]): number[] {
  if (standing.boxes.some((b) => b.applied === null)) return [];
  return erasures.filter((seq) => standing.boxes.every((b) => !b.unconfirmed.includes(seq)));
}
