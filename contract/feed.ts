import { sign, verify, type KeyObject } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { DEVICE_ID_PATTERN, Iso } from './fields.js';
import { SafeInteger } from './numbers.js';

/**
 * The gallery feed as both sides speak it (docs/mqtt.md#gallery-feed): the central enrols, updates
 * and erases a person once for a site, as numbered entries signed by the central key; each box of
 * the site applies them in order and reports how far it got.
 *
 * The log lives on the broker as retained messages, one a topic `<root>/<site>/entry/<seq>`, so that
 * a box that was away for days (or a new one) finds it there when it subscribes. The log is
 * compacted as it is written: a person's new entry takes the place of their older one (whose
 * retained message is cleared), and the entry after a removed one is signed again with `prev`
 * pointing past it. A box applies the entry whose `prev` is at or below the number it applied and
 * whose `seq` is above it, so it never waits for a number the central took back.
 *
 * A person's entry is encrypted once under a content key of the site (or of the group of boxes the
 * person is for); the key travels in a key entry of the same log, wrapped to each box
 * (contract/feed-seal.ts). A key entry stays where it is while entries use its key: the central
 * wraps it again in its place when a box is added, so it always comes before them.
 */

/** A site's name: one topic level, as a device id is. */
export const SITE_PATTERN = DEVICE_ID_PATTERN;

/** A person as the feed names them in clear: the central's uuid for them, which says nothing of who they are. */
export const FEED_PERSON_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$';

/**
 * The largest entry a box takes: a person's templates (the gallery keeps at most a few dozen, 2 KiB
 * of floats each, base64) encrypted once, or a key entry's wrap for each box of the site (80
 * bytes each).
 */
export const FEED_ENTRY_MAX_BYTES = 512 * 1024;
/** The most boxes one key is wrapped to (a site's boxes, or the group of them a person is for). */
export const FEED_MAX_BOXES = 1000;
/** The most templates an entry carries for a person. */
export const FEED_MAX_TEMPLATES = 32;

export const feedEntryTopic = (root: string, site: string, seq: number): string => `${root}/${site}/entry/${seq}`;
export const feedEntryFilter = (root: string, site: string): string => `${root}/${site}/entry/+`;
/** Where a box reports (retained, signed by its device key) the entry it applied: under its own base topic. */
export const feedReportTopic = (boxBase: string): string => `${boxBase}/bridge/feed`;

const Seq = SafeInteger({ minimum: 1 });
const B64 = (maxLength: number) => Type.String({ pattern: '^[A-Za-z0-9+/]*={0,2}$', maxLength });

/** A content key's name: 16 random bytes, base64url. */
export const FEED_KEY_ID_PATTERN = '^[A-Za-z0-9_-]{22}$';
const KeyId = Type.String({ pattern: FEED_KEY_ID_PATTERN });
/** A 32-byte content key sealed (crypto_box_seal) to one box: 80 bytes, base64. */
const Wrap = Type.String({ pattern: '^[A-Za-z0-9+/]{107}=$' });

/**
 * The first format (v1): a person sealed under a fresh key per entry, that key sealed to each box.
 * Boxes still read it, for the entries a central wrote before the site keys (central/feed.ts
 * writes every person of such a site again under its site key at its next command).
 */
export const FeedSealedV1 = Type.Object(
  {
    nonce: B64(32),
    box: B64(FEED_ENTRY_MAX_BYTES),
    keys: Type.Record(Type.String({ pattern: DEVICE_ID_PATTERN }), B64(128), { maxProperties: FEED_MAX_BOXES }),
  },
  { additionalProperties: false },
);
export type FeedSealedV1 = Static<typeof FeedSealedV1>;

/** A person's fields and templates encrypted once under the content key `key` that key entries wrap to the boxes. */
export const FeedSealed = Type.Object({ key: KeyId, nonce: B64(32), box: B64(FEED_ENTRY_MAX_BYTES) }, { additionalProperties: false });
export type FeedSealed = Static<typeof FeedSealed>;

/** A content key, wrapped to each box that may read what it encrypts (device id → wrap). */
export const FeedKey = Type.Object(
  { id: KeyId, wraps: Type.Record(Type.String({ pattern: DEVICE_ID_PATTERN }), Wrap, { maxProperties: FEED_MAX_BOXES }) },
  { additionalProperties: false },
);
export type FeedKey = Static<typeof FeedKey>;

const Head = {
  site: Type.String({ pattern: SITE_PATTERN }),
  seq: Seq,
  /** The entry before this one in the log as it is now (0: none); a box applies this one once it applied `prev`. */
  prev: SafeInteger({ minimum: 0 }),
  time: Iso,
};
const PersonKind = Type.Union([Type.Literal('enrol'), Type.Literal('update'), Type.Literal('erase')]);
const Person = Type.String({ pattern: FEED_PERSON_PATTERN });

/** A person's entry in the first format. */
export const FeedEntryV1 = Type.Object({ v: Type.Literal(1), ...Head, kind: PersonKind, person: Person, sealed: Type.Optional(FeedSealedV1) }, { additionalProperties: false });
export type FeedEntryV1 = Static<typeof FeedEntryV1>;

/** A person's entry. `enrol` and `update` carry the person's whole state, so either applies alone once the log is compacted. */
export const FeedPersonEntry = Type.Object({ v: Type.Literal(2), ...Head, kind: PersonKind, person: Person, sealed: Type.Optional(FeedSealed) }, { additionalProperties: false });
export type FeedPersonEntry = Static<typeof FeedPersonEntry>;

/** A content key for the entries after it (and those before it that name it, once it is wrapped again for a new box). */
export const FeedKeyEntry = Type.Object({ v: Type.Literal(2), ...Head, kind: Type.Literal('key'), key: FeedKey }, { additionalProperties: false });
export type FeedKeyEntry = Static<typeof FeedKeyEntry>;

/** An entry as the central signs it. */
export const FeedEntry = Type.Union([FeedPersonEntry, FeedKeyEntry, FeedEntryV1]);
export type FeedEntry = Static<typeof FeedEntry>;

/** What `sealed.box` opens to: what a local enrolment gives, and templates made elsewhere (base64 of little-endian float32). */
export const FeedPerson = Type.Object(
  {
    name: Type.String({ maxLength: 1024 }),
    external_id: Type.Optional(Type.String({ maxLength: 1024 })),
    group: Type.Optional(Type.String({ maxLength: 1024 })),
    templates: Type.Array(
      Type.Object({ embedding: B64(8192), quality: Type.Number(), model: Type.String({ maxLength: 128 }) }, { additionalProperties: false }),
      { minItems: 1, maxItems: FEED_MAX_TEMPLATES },
    ),
  },
  { additionalProperties: false },
);
export type FeedPerson = Static<typeof FeedPerson>;

/** Why a box did not apply an entry: a metric label, a log reason, and (for a signed one) what its report names. */
export const FEED_REFUSALS = [
  'malformed',
  'oversized',
  'forged',
  'other_site',
  'replayed',
  'out_of_order',
  'unreadable',
  'key_missing',
  'person_invalid',
  'template_invalid',
  'quarantined',
  'local_person',
  'duplicate_face',
  'overloaded',
] as const;
export type FeedRefusal = (typeof FEED_REFUSALS)[number];

/** Each refusal's code, as docs/errors.md lists them. */
export const FEED_REFUSAL_CODES: Readonly<Record<FeedRefusal, `FG_ERR_${string}`>> = {
  malformed: 'FG_ERR_FEED_MALFORMED',
  oversized: 'FG_ERR_FEED_OVERSIZED',
  forged: 'FG_ERR_FEED_FORGED',
  other_site: 'FG_ERR_FEED_OTHER_SITE',
  replayed: 'FG_ERR_FEED_REPLAYED',
  out_of_order: 'FG_ERR_FEED_OUT_OF_ORDER',
  unreadable: 'FG_ERR_FEED_UNREADABLE',
  key_missing: 'FG_ERR_FEED_KEY_MISSING',
  person_invalid: 'FG_ERR_PERSON_INVALID',
  template_invalid: 'FG_ERR_TEMPLATE_INVALID',
  quarantined: 'FG_ERR_FEED_QUARANTINED',
  local_person: 'FG_ERR_FEED_LOCAL_PERSON',
  duplicate_face: 'FG_ERR_ENROL_DUPLICATE',
  overloaded: 'FG_ERR_FEED_OVERLOADED',
};

/** A box's report, retained under its base topic and signed by its device key. */
export const FeedReport = Type.Object(
  {
    device: Type.String({ pattern: DEVICE_ID_PATTERN }),
    site: Type.String({ pattern: SITE_PATTERN }),
    applied: SafeInteger({ minimum: 0, description: 'The last entry applied (or passed over as not for this box, or refused for what it held)' }),
    persons: SafeInteger({ minimum: 0, description: 'Persons on the box from the feed' }),
    refused: Type.Array(Type.Object({ seq: Seq, reason: Type.Union(FEED_REFUSALS.map((r) => Type.Literal(r))) }, { additionalProperties: false }), {
      maxItems: 100,
      description: 'The latest signed entries the box refused for what they held, newest last: an erasure among them is not confirmed',
    }),
    time: Iso,
    jws: Type.String({ maxLength: 16_384 }),
  },
  { additionalProperties: false },
);
export type FeedReport = Static<typeof FeedReport>;

const HEADER = Buffer.from(JSON.stringify({ alg: 'EdDSA', typ: 'facegate-feed+jws' })).toString('base64url');

/** The message the central publishes for an entry: the compact JWS of it, signed by the central's Ed25519 key. */
export function signFeedEntry(entry: FeedEntry, centralKey: KeyObject): string {
  const input = `${HEADER}.${Buffer.from(JSON.stringify(entry)).toString('base64url')}`;
  return `${input}.${sign(null, Buffer.from(input), centralKey).toString('base64url')}`;
}

export type FeedVerdict = { readonly ok: true; readonly entry: FeedEntry } | { readonly ok: false; readonly reason: 'malformed' | 'oversized' | 'forged' };

const B64URL = /^[A-Za-z0-9_-]+$/;

/** An entry off the broker: within the size bound, signed by the central key, of the entry's shape. */
export function verifyFeedEntry(message: Buffer, centralKey: KeyObject): FeedVerdict {
  if (message.length > FEED_ENTRY_MAX_BYTES) return { ok: false, reason: 'oversized' };
  const parts = message.toString('latin1').split('.');
  if (parts.length !== 3 || !parts.every((p) => B64URL.test(p))) return { ok: false, reason: 'malformed' };
  const [header, payload, signature] = parts as [string, string, string];
  if (header !== HEADER) return { ok: false, reason: 'malformed' };
  const sig = Buffer.from(signature, 'base64url');
  // One spelling of a signature only (base64url's spare bits), as contract/signature.ts holds events to.
  if (sig.length !== 64 || sig.toString('base64url') !== signature) return { ok: false, reason: 'forged' };
  if (!verify(null, Buffer.from(`${header}.${payload}`), centralKey, sig)) return { ok: false, reason: 'forged' };
  let entry: unknown;
  try {
    entry = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (!Value.Check(FeedEntry, entry)) return { ok: false, reason: 'malformed' };
  const e = entry as FeedEntry;
  if (e.prev >= e.seq) return { ok: false, reason: 'malformed' };
  // A change of a person carries them; an erasure names only whom.
  if (e.kind !== 'key' && (e.kind === 'erase') !== (e.sealed === undefined)) return { ok: false, reason: 'malformed' };
  return { ok: true, entry: e };
}

/** What a first-format entry's sealed content is bound to. */
export function feedAssociatedDataV1(e: Pick<FeedEntryV1, 'site' | 'person' | 'kind'>): Uint8Array {
  return Buffer.from(`facegate/feed/v1/${e.site}/${e.person}/${e.kind}`);
}

/**
 * What a person's content is bound to: its site, its number, its kind, the person and the key, so
 * that it opens only inside the entry it was made for, never moved to another site or place in
 * the log (compaction signs an entry again with another `prev`, never another number).
 */
export function feedAssociatedData(e: Pick<FeedPersonEntry, 'site' | 'seq' | 'person' | 'kind'>, keyId: string): Uint8Array {
  return Buffer.from(`facegate/feed/v2/${e.site}/${e.seq}/${e.kind}/${e.person}/${keyId}`);
}
