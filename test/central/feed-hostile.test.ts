// A box's gallery feed under hostile input, over a real Mosquitto and real SQLite files: entries
// forged, replayed, out of order, for another site, oversized, unreadable, with templates of the
// wrong length or NaN values, or naming a person the box quarantined or enrolled itself; key
// entries forged, for another site, replayed, oversized, and entries under a key that never came.
// The first format (each entry sealed to every box) is still read. Each is
// refused with its coded reason, counted in the feed's metrics, never applied, and the entries
// after it still are. Then a fuzz, with a fixed seed and a fixed number of cases, of entries
// mutated byte by byte and of hostile entries signed by the central key itself (a central with a
// bug): every one is counted, the gallery stays sound, and the feed goes on.
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import mqtt, { type MqttClient } from 'mqtt';
import { FEED_ENTRY_MAX_BYTES, FEED_REFUSALS, feedAssociatedData, feedAssociatedDataV1, feedEntryTopic, signFeedEntry, type FeedEntry, type FeedKeyEntry, type FeedPersonEntry, type FeedPerson } from '../../contract/feed.js';
import { boxSealingKey, encryptContent, newContentKey, wrapKey } from '../../contract/feed-seal.js';
import { sealForBoxesV1 } from '../support/feed-v1.js';
import { embeddingProblem } from '../../daemon/gallery/embedding.js';
import { embeddingToBytes } from '../../daemon/gallery/seal.js';
import { loadSodium } from '../../daemon/gallery/sodium.js';
import { personFields } from '../../daemon/service/person-input.js';
import { verifyGallery, verifyOk } from '../../daemon/service/verify-sealed.js';
import { Sqlite } from '../../daemon/store/sqlite.js';
import { FUZZ_SEED, fuzzParameters, hostileValue, PROTOTYPE_KEYS } from '../support/fuzz.js';
import { Mosquitto } from '../support/mosquitto.js';
import { FeedBox, type FeedBoxOptions } from '../support/feed-box.js';
import { FacegateError } from '../../daemon/base/errors.js';
import { unitVector } from '../gallery/helpers.js';

const sodium = await loadSodium();
const ROOT = 'facegate-feed';
const SITE = 'hq';
const DEVICE = 'gate-1';
const RUNS = 200;

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const template = (seed: number) => ({ embedding: b64(embeddingToBytes(unitVector(seed))), quality: 0.9, model: 'fr_feature' });
const personState = (n: number): FeedPerson => ({ name: `Person ${n}`, external_id: `EMP-${n}`, group: 'staff', templates: [template(n)] });

type ContentKey = { id: string; key: Uint8Array };

/** The central (or whoever holds a key): entries signed by `key`, their person encrypted under the site's content key, which key entries wrap to the box. */
class Central {
  readonly central = generateKeyPairSync('ed25519');
  readonly siteKey: ContentKey = newContentKey(sodium);
  constructor(readonly boxX: string) {}

  /** A key entry wrapping `content` (the site's key) to the box, or to the boxes named (device → Ed25519 x). */
  keyEntry(o: { seq: number; prev: number; content?: ContentKey; to?: Record<string, string>; site?: string; key?: KeyObject }): { topic: string; message: string; entry: FeedKeyEntry } {
    const content = o.content ?? this.siteKey;
    const to = new Map(Object.entries(o.to ?? { [DEVICE]: this.boxX }).map(([d, x]) => [d, boxSealingKey(sodium, x)]));
    const entry: FeedKeyEntry = { v: 2, site: o.site ?? SITE, seq: o.seq, prev: o.prev, kind: 'key', key: wrapKey(sodium, content.id, content.key, to), time: '2026-11-26T08:00:00Z' };
    return { topic: feedEntryTopic(ROOT, SITE, o.seq), message: signFeedEntry(entry, o.key ?? this.central.privateKey), entry };
  }

  entry(o: { seq: number; prev: number; kind?: FeedPersonEntry['kind']; person?: string; state?: unknown; site?: string; key?: KeyObject; plain?: Uint8Array; content?: ContentKey; adSeq?: number }): { topic: string; message: string; entry: FeedPersonEntry } {
    const kind = o.kind ?? 'enrol';
    const person = o.person ?? randomUUID();
    const site = o.site ?? SITE;
    const content = o.content ?? this.siteKey;
    const plain = o.plain ?? Buffer.from(JSON.stringify(o.state ?? personState(o.seq)));
    const ad = feedAssociatedData({ site, seq: o.adSeq ?? o.seq, kind, person }, content.id);
    const entry: FeedPersonEntry = { v: 2, site, seq: o.seq, prev: o.prev, kind, person, time: '2026-11-26T08:00:00Z', ...(kind !== 'erase' ? { sealed: encryptContent(sodium, content.id, content.key, plain, ad) } : {}) };
    return { topic: feedEntryTopic(ROOT, SITE, o.seq), message: signFeedEntry(entry, o.key ?? this.central.privateKey), entry };
  }
}

interface Harness {
  box: FeedBox;
  central: Central;
  client: MqttClient;
  /** The site's key entry (entry 1) as it was sent. */
  keyEntry: { topic: string; message: string };
  /** Every outcome and refusal counted so far. */
  total(): number;
  /** Publishes and waits until the box counted the message. */
  send(topic: string, message: string | Buffer, retain?: boolean): Promise<void>;
  restart(): Promise<void>;
}

/** A box on a broker of its own, its central's key entry (entry 1: the site's key, wrapped to it) applied. */
async function harness(t: { after(fn: () => unknown): void }, dir: string, bounds: Pick<FeedBoxOptions, 'heldMax' | 'queueMax' | 'persons' | 'keyWaitMs'> = {}): Promise<Harness> {
  const broker = await Mosquitto.start();
  t.after(() => broker.dispose());
  const centralKey = generateKeyPairSync('ed25519');
  const start = async (central: Central | undefined) => {
    const box = await FeedBox.start({ dir, device: DEVICE, site: SITE, url: broker.url, centralKey: central?.central.publicKey ?? centralKey.publicKey, ...bounds });
    const end = Date.now() + 10_000;
    while (!box.stack.bridge.connected) {
      if (Date.now() > end) throw new Error('the box never connected');
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 200)); // it subscribes once connected
    return box;
  };
  const first = await start(undefined);
  const central = new Central(first.stack.key.publicJwk.x);
  await first.stop();
  const h: Harness = {
    box: await start(central),
    central,
    client: await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: `central-${randomUUID().slice(0, 8)}` }),
    keyEntry: central.keyEntry({ seq: 1, prev: 0 }),
    total() {
      const c = h.box.feed.counts;
      return Object.values(c.outcomes).reduce((a, b) => a + b, 0) + Object.values(c.refused).reduce((a, b) => a + b, 0);
    },
    async send(topic, message, retain = false) {
      const before = h.total();
      await h.client.publishAsync(topic, message, { qos: 1, retain });
      const end = Date.now() + 10_000;
      while (h.total() === before) {
        if (Date.now() > end) throw new Error(`the box never counted the message on ${topic}`);
        await new Promise((r) => setTimeout(r, 2));
      }
      await h.box.feed.settled();
    },
    async restart() {
      await h.box.stop();
      h.box = await start(central);
    },
  };
  t.after(async () => {
    await h.client.endAsync(true);
    await h.box.stop();
  });
  await h.send(h.keyEntry.topic, h.keyEntry.message);
  assert.equal(h.box.feed.counts.applied, 1, 'the key entry applied');
  return h;
}

/** What the gallery may hold after anything: rows that open, persons within the rules, templates at unit length. */
function assertSound(box: FeedBox): void {
  const g = box.gallery;
  const { persons, damaged } = g.store.listPersons();
  assert.deepEqual(damaged, [], 'every person row opens');
  for (const p of persons) {
    const fields = { name: p.name, ...(p.externalId !== null ? { externalId: p.externalId } : {}), ...(p.group !== null ? { group: p.group } : {}) };
    assert.deepEqual(personFields(fields), fields, `person ${p.id} is within the rules as stored`);
  }
  for (const tpl of g.store.templates(() => assert.fail('a template that does not open or is malformed'))) {
    assert.equal(embeddingProblem(tpl.embedding), undefined);
    let norm = 0;
    for (const x of tpl.embedding) norm += x * x;
    assert.ok(Math.abs(Math.sqrt(norm) - 1) < 1e-4, `template ${tpl.id} at unit length`);
  }
  assert.ok(verifyOk(verifyGallery(g.db, g.sealer)));
}

test('each kind of bad feed entry is refused with its coded reason, counted, never applied, and the feed goes on', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-feed-hostile-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const h = await harness(t, dir, { heldMax: 4 });
  const { central } = h;
  const refused = () => ({ ...h.box.feed.counts.refused });
  const persons = () => h.box.gallery.store.listPersons().persons;
  const expectRefused = async (reason: string, send: () => Promise<void>) => {
    const before = refused();
    const people = persons().length;
    const applied = h.box.feed.counts.applied;
    await send();
    const after = refused();
    for (const r of FEED_REFUSALS) assert.equal(after[r], before[r] + (r === reason ? 1 : 0), `${reason}: the count of ${r}`);
    assert.equal(persons().length, people, `${reason}: no one added or removed`);
    return applied;
  };

  // Entry 2 (after the key entry), valid: the feed runs.
  const first = central.entry({ seq: 2, prev: 1 });
  await h.send(first.topic, first.message);
  assert.equal(h.box.feed.counts.applied, 2);
  const quarantinedId = first.entry.person;

  const forger = generateKeyPairSync('ed25519');
  const forged = central.entry({ seq: 3, prev: 2, key: forger.privateKey });
  await expectRefused('forged', () => h.send(forged.topic, forged.message));
  await expectRefused('malformed', () => h.send(feedEntryTopic(ROOT, SITE, 3), '{"not":"a jws"}'));
  await expectRefused('malformed', () => h.send(feedEntryTopic(ROOT, SITE, 3), forged.message.slice(0, 100)));
  await expectRefused('oversized', () => h.send(feedEntryTopic(ROOT, SITE, 3), Buffer.alloc(FEED_ENTRY_MAX_BYTES + 1, 'a')));
  const elsewhere = central.entry({ seq: 3, prev: 2, site: 'elsewhere' });
  await expectRefused('other_site', () => h.send(elsewhere.topic, elsewhere.message));
  // Signed for number 3, published where number 4 belongs.
  const misplaced = central.entry({ seq: 3, prev: 2 });
  await expectRefused('malformed', () => h.send(feedEntryTopic(ROOT, SITE, 4), misplaced.message));
  // Entry 2 again, live: a replay, not applied a second time.
  await expectRefused('replayed', () => h.send(first.topic, first.message));
  // Entries far ahead: held (never applied) until the box holds 4, then refused.
  for (let i = 0; i < 4; i++) {
    const ahead = central.entry({ seq: 100 + i, prev: 99 + i });
    await h.send(ahead.topic, ahead.message);
  }
  assert.equal(h.box.feed.counts.outcomes.held, 4);
  const tooFar = central.entry({ seq: 200, prev: 199 });
  await expectRefused('out_of_order', () => h.send(tooFar.topic, tooFar.message));
  assert.equal(h.box.feed.counts.applied, 2, 'nothing ahead was applied');

  // Signed by the central, but what they hold breaks the rules: refused, and the feed moves past them.
  let seq = 3;
  const signedBad = async (reason: string, o: Parameters<Central['entry']>[0]) => {
    const e = central.entry(o);
    await expectRefused(reason, () => h.send(e.topic, e.message));
    assert.equal(h.box.feed.counts.applied, o.seq, `${reason}: passed, so the feed goes on`);
    seq = o.seq + 1;
  };
  await signedBad('template_invalid', { seq, prev: seq - 1, state: { ...personState(2), templates: [{ ...template(2), embedding: b64(embeddingToBytes(unitVector(2, 511))) }] } });
  const nan = unitVector(3);
  nan[7] = Number.NaN;
  await signedBad('template_invalid', { seq, prev: seq - 1, state: { ...personState(3), templates: [{ ...template(3), embedding: b64(embeddingToBytes(nan)) }] } });
  await signedBad('person_invalid', { seq, prev: seq - 1, state: { ...personState(4), name: 'Eve\u001b[2J' } });
  await signedBad('malformed', { seq, prev: seq - 1, state: { ...personState(5), extra: 'field' } });
  await signedBad('malformed', { seq, prev: seq - 1, plain: Buffer.from('x') });
  {
    // The content's bytes flipped after signing cannot be: the signature covers them. Content
    // under another key of the same name, or made for another number, can: it does not open.
    await signedBad('unreadable', { seq, prev: seq - 1, content: { id: central.siteKey.id, key: newContentKey(sodium).key } });
    await signedBad('unreadable', { seq, prev: seq - 1, adSeq: seq + 1 });
  }
  // A person enrolled on the box itself: the feed does not take them over.
  const local = await h.box.persons.enrolTemplates({ name: 'Local Lee', externalId: 'LOC-1' }, [{ embedding: unitVector(999), quality: 0.9, source: 'desk.jpg', model: 'fr_feature' }], { actor: 'cli:test', role: 'admin' });
  await signedBad('local_person', { seq, prev: seq - 1, state: { ...personState(7), external_id: 'LOC-1' } });
  await signedBad('local_person', { seq, prev: seq - 1, kind: 'update', person: local.id });
  await signedBad('local_person', { seq, prev: seq - 1, kind: 'erase', person: local.id });
  assert.equal(h.box.persons.sourceOf(local.id).kind, 'local');
  // The local person's face under another name: the duplicate-face check of every enrolment.
  await signedBad('duplicate_face', { seq, prev: seq - 1, state: { ...personState(8), templates: [{ ...template(8), embedding: b64(embeddingToBytes(unitVector(999))) }] } });

  // A person the box quarantined (their row fails authentication): the feed does not rewrite them.
  await h.box.stop();
  const db = new Sqlite(join(dir, 'gallery.db'));
  db.prepare('UPDATE persons SET name = randomblob(length(name)) WHERE id = ?').run(quarantinedId);
  db.close();
  await h.restart();
  assert.equal(h.box.gallery.quarantinedCount, 1);
  await signedBad('quarantined', { seq, prev: seq - 1, kind: 'update', person: quarantinedId, state: personState(1) });
  // Its erasure does go through: erasing is what a quarantined person is left to.
  const erase = central.entry({ seq, prev: seq - 1, kind: 'erase', person: quarantinedId });
  await h.send(erase.topic, erase.message);
  assert.equal(h.box.gallery.store.erasableId(quarantinedId), undefined);

  // After all of it, the feed still applies the next entry.
  const last = central.entry({ seq: seq + 1, prev: seq });
  await h.send(last.topic, last.message);
  assert.equal(h.box.feed.counts.applied, seq + 1);
  assert.equal(h.box.persons.sourceOf(last.entry.person).kind, 'feed');
  // Each refusal of a signed entry is in the box's report, with its reason, for the central to read.
  const state = h.box.persons.feedState(SITE);
  assert.ok(state.refused.some((r) => r.reason === 'quarantined'));
  assert.ok(h.box.audit.recent(100).some((e) => e.actor === `feed:${SITE}` && e.outcome === 'failed' && (e.detail as { code?: string }).code === 'FG_ERR_FEED_QUARANTINED'));
  assertSound(h.box);
});

test('key entries forged, for another site, replayed or oversized, and entries under a key that never came or is not for this box: each refused or passed with its reason, and the feed goes on', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-feed-keys-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const h = await harness(t, dir, { keyWaitMs: 300 });
  const { central } = h;
  const counts = () => h.box.feed.counts;
  const persons = () => h.box.gallery.store.listPersons().persons.length;
  const refusedOnly = async (reason: string, send: () => Promise<void>) => {
    const before = { ...counts().refused };
    const people = persons();
    await send();
    for (const r of FEED_REFUSALS) assert.equal(counts().refused[r], before[r] + (r === reason ? 1 : 0), `${reason}: the count of ${r}`);
    assert.equal(persons(), people, `${reason}: no one added`);
  };
  const forger = generateKeyPairSync('ed25519');
  const stolen = newContentKey(sodium);
  const forged = central.keyEntry({ seq: 2, prev: 1, content: stolen, key: forger.privateKey });
  await refusedOnly('forged', () => h.send(forged.topic, forged.message));
  const elsewhere = central.keyEntry({ seq: 2, prev: 1, content: stolen, site: 'elsewhere' });
  await refusedOnly('other_site', () => h.send(elsewhere.topic, elsewhere.message));
  // The site's key entry sent again, live, by someone who kept a copy.
  await refusedOnly('replayed', () => h.send(h.keyEntry.topic, h.keyEntry.message));
  // More boxes than any site has, wrapped: larger than an entry may be, refused unread.
  const many = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`gate-${i}`, central.boxX]));
  const huge = central.keyEntry({ seq: 2, prev: 1, content: stolen, to: many });
  assert.ok(huge.message.length > FEED_ENTRY_MAX_BYTES);
  await refusedOnly('oversized', () => h.send(huge.topic, huge.message));
  assert.equal(counts().applied, 1, 'none of them moved the feed');
  assert.equal(h.box.persons.feedKey(SITE, stolen.id), undefined, 'no key kept from them');

  // A person under a key no key entry named: waits for it (300 ms here), then refused; the feed goes on.
  const nowhere = newContentKey(sodium);
  const orphan = central.entry({ seq: 2, prev: 1, content: nowhere });
  await refusedOnly('key_missing', async () => {
    const held = counts().outcomes.held;
    await h.send(orphan.topic, orphan.message);
    assert.equal(counts().outcomes.held, held + 1, 'it waits first');
    const end = Date.now() + 10_000;
    while (counts().applied < 2) {
      if (Date.now() > end) throw new Error('the wait for the key never ended');
      await new Promise((r) => setTimeout(r, 20));
    }
  });
  assert.equal(counts().applied, 2);
  assert.ok(h.box.persons.feedState(SITE).refused.some((r) => r.seq === 2 && r.reason === 'key_missing'), 'the report names it');
  // The next one under the same key is refused at once.
  const orphan2 = central.entry({ seq: 3, prev: 2, content: nowhere });
  await refusedOnly('key_missing', () => h.send(orphan2.topic, orphan2.message));

  // A key entry that wraps nothing to this box (a group it is not in, or a box taken off the site): passed, and so are its entries.
  const group = newContentKey(sodium);
  const other = (generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }) as { x: string }).x;
  const groupKey = central.keyEntry({ seq: 4, prev: 3, content: group, to: { 'gate-2': other } });
  await h.send(groupKey.topic, groupKey.message);
  const forGroup = central.entry({ seq: 5, prev: 4, content: group });
  await h.send(forGroup.topic, forGroup.message);
  assert.equal(counts().outcomes.passed, 2);
  assert.equal(counts().applied, 5);
  // A key entry whose wrap under this box's name was sealed to another key: it does not open here.
  const wrong = central.keyEntry({ seq: 6, prev: 5, content: newContentKey(sodium), to: { [DEVICE]: other } });
  await refusedOnly('unreadable', () => h.send(wrong.topic, wrong.message));

  // The central wraps a key again in its place for this box (number 4, behind the number applied):
  // the key is kept, and the entries after it that use it open.
  const rewrapped = central.keyEntry({ seq: 4, prev: 3, content: group, to: { 'gate-2': other, [DEVICE]: central.boxX } });
  await h.send(rewrapped.topic, rewrapped.message);
  assert.ok(h.box.persons.feedKey(SITE, group.id) instanceof Uint8Array, 'the key wrapped again is kept');
  const person = central.entry({ seq: 7, prev: 6, content: group });
  await h.send(person.topic, person.message);
  assert.equal(counts().applied, 7);
  assert.equal(h.box.persons.sourceOf(person.entry.person).kind, 'feed');

  assertSound(h.box);
  // An entry under the site's key after all of it applies.
  const last = central.entry({ seq: 8, prev: 7 });
  await h.send(last.topic, last.message);
  assert.equal(counts().applied, 8);
  assert.ok(h.box.audit.recent(100).some((e) => e.actor === `feed:${SITE}` && e.action === 'feed.key'), 'keys kept are audited');
});

test('entries of the first format (each sealed to every box) are still read beside entries under the site key', { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-feed-v1-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const h = await harness(t, dir);
  const person = randomUUID();
  const v1: FeedEntry = {
    v: 1,
    site: SITE,
    seq: 2,
    prev: 1,
    kind: 'enrol',
    person,
    time: '2026-11-26T08:00:00Z',
    sealed: sealForBoxesV1(sodium, Buffer.from(JSON.stringify(personState(2))), feedAssociatedDataV1({ site: SITE, person, kind: 'enrol' }), new Map([[DEVICE, boxSealingKey(sodium, h.central.boxX)]])),
  };
  await h.send(feedEntryTopic(ROOT, SITE, 2), signFeedEntry(v1, h.central.central.privateKey));
  assert.equal(h.box.persons.sourceOf(person).kind, 'feed');
  // Its person written again under the site key, as the central does at its next command.
  const again = h.central.entry({ seq: 3, prev: 1, kind: 'update', person, state: { ...personState(2), name: 'Person Two' } });
  await h.send(again.topic, again.message);
  assert.equal(h.box.gallery.store.findPerson(person)?.name, 'Person Two');
  assert.equal(h.box.feed.counts.applied, 3);
});

/** Text a person field may be given: the rules' edge cases and what they refuse. */
const hostileText = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('', ' ', 'evil/+/#', 'Eve\x1b[2J', 'a\r\nb', 'gpj\u202e.exe', '\ud800', 'x'.repeat(5000), '__proto__', 'EMP-1'));
const embeddingText = fc.oneof(
  fc.constantFrom(0, 1, 511, 512, 513).chain((n) => fc.array(fc.float(), { minLength: n, maxLength: n })).map((v) => b64(embeddingToBytes(Float32Array.from(v)))),
  fc.uint8Array({ maxLength: 2100 }).map(b64),
  fc.constantFrom('', '====', 'not base64!', 'AAA'),
);
const anyValue = fc.oneof(hostileValue, hostileText, embeddingText, fc.double(), fc.constantFrom(null, true, -1, 0, 1, 2, 1e308, 2 ** 53, -0));
const stateField = fc.constantFrom('name', 'external_id', 'group', 'templates', ...PROTOTYPE_KEYS);
const templateField = fc.constantFrom('embedding', 'quality', 'model', ...PROTOTYPE_KEYS);
const entryField = fc.constantFrom('v', 'site', 'seq', 'prev', 'kind', 'person', 'time', 'sealed', ...PROTOTYPE_KEYS);

type Json = Record<string, unknown>;
const put = (o: unknown, key: string, value: unknown) => typeof o === 'object' && o !== null && Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });

/** A case: the signed message's bytes changed, the person's state changed (sealed and signed by the central), or the entry's fields changed (signed by the central). */
type Case = { kind: 'bytes'; at: number; flip: number; cut: boolean } | { kind: 'state'; edits: [string, string | undefined, unknown][] } | { kind: 'entry'; field: string; value: unknown };
const fuzzCase: fc.Arbitrary<Case> = fc.oneof(
  fc.record({ kind: fc.constant('bytes' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), flip: fc.integer({ min: 1, max: 255 }), cut: fc.boolean() }),
  fc.record({
    kind: fc.constant('state' as const),
    edits: fc.array(
      fc.oneof(
        fc.tuple(stateField, fc.constant(undefined), anyValue),
        fc.tuple(fc.constantFrom('name', 'external_id', 'group'), fc.constant(undefined), hostileText),
        fc.tuple(fc.constant('templates'), fc.constant('embedding'), embeddingText),
        fc.tuple(fc.constant('templates'), fc.constant('quality'), fc.oneof(fc.double(), fc.constantFrom(-1, 2, Number.NaN))),
        fc.tuple(fc.constant('templates'), templateField, anyValue),
      ),
      { minLength: 1, maxLength: 2 },
    ),
  }),
  fc.record({ kind: fc.constant('entry' as const), field: entryField, value: anyValue }),
);

test(`feed fuzz: ${RUNS} hostile entries (seed ${FUZZ_SEED}) are each counted, never leave the gallery unsound, and never stop the feed`, { timeout: 300_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-feed-fuzz-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const h = await harness(t, dir);
  const { central } = h;
  t.diagnostic(`seed ${FUZZ_SEED} (FUZZ_SEED=n for another), ${RUNS} cases`);
  await fc.assert(
    fc.asyncProperty(fuzzCase, async (c) => {
      const applied = h.box.feed.counts.applied;
      const seq = applied + 1;
      let topic = feedEntryTopic(ROOT, SITE, seq);
      let message: string;
      if (c.kind === 'bytes') {
        const valid = Buffer.from(central.entry({ seq, prev: applied }).message);
        const i = Math.min(valid.length - 1, Math.floor(c.at * valid.length));
        if (!c.cut) valid[i]! ^= c.flip;
        // Cut to nothing is the central clearing a retained entry, which is no entry at all.
        message = (c.cut ? valid.subarray(0, Math.max(1, i)) : valid).toString('latin1');
      } else if (c.kind === 'state') {
        const state = personState(seq) as unknown as Json;
        for (const [field, inner, value] of c.edits) {
          if (inner === undefined) put(state, field, value);
          else if (Array.isArray(state.templates)) put(state.templates[0], inner, value);
        }
        message = central.entry({ seq, prev: applied, plain: Buffer.from(JSON.stringify(state) ?? 'null') }).message;
      } else {
        const e = central.entry({ seq, prev: applied }).entry as unknown as Json;
        put(e, c.field, c.value);
        message = signFeedEntry(e as unknown as FeedEntry, central.central.privateKey);
        if (c.field === 'seq' && typeof c.value === 'number' && Number.isSafeInteger(c.value) && c.value > 0) topic = feedEntryTopic(ROOT, SITE, c.value);
      }
      const before = h.total();
      await h.send(topic, message);
      assert.ok(h.total() >= before + 1, 'the entry was counted');
    }),
    fuzzParameters(RUNS),
  );
  const c = h.box.feed.counts;
  t.diagnostic(`applied ${c.applied}; outcomes ${JSON.stringify(c.outcomes)}; refused ${JSON.stringify(c.refused)}`);
  for (const reason of ['forged', 'malformed', 'person_invalid', 'template_invalid'] as const) assert.ok(c.refused[reason] > 0, `${reason} reached`);
  assertSound(h.box);
  // The feed goes on after all of them.
  const next = central.entry({ seq: c.applied + 1, prev: c.applied });
  await h.send(next.topic, next.message);
  assert.equal(h.box.feed.counts.applied, next.entry.seq);
  assert.equal(h.box.persons.sourceOf(next.entry.person).kind, 'feed');
});

test('an entry the person service cannot take now (busy with other changes) waits, is tried again, and the entries after it follow in order', { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-feed-busy-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  let refusals = 1;
  const order: number[] = [];
  const h = await harness(t, dir, { persons: (real) => ({
    feedState: (site) => real.feedState(site),
    feedKey: (site, id) => real.feedKey(site, id),
    applyFeed(change, nowMs) {
      // What the person service answers while 8 changes wait before this one.
      if (change.kind === 'key') return real.applyFeed(change, nowMs);
      if (refusals-- > 0) return Promise.reject(new FacegateError('FG_ERR_COMMAND_BUSY', '8 gallery commands are already running or waiting', 'send it again'));
      order.push(change.seq);
      return real.applyFeed(change, nowMs);
    },
  }) });
  const first = h.central.entry({ seq: 2, prev: 1 });
  const second = h.central.entry({ seq: 3, prev: 2 });
  await h.client.publishAsync(first.topic, first.message, { qos: 1 });
  await h.client.publishAsync(second.topic, second.message, { qos: 1 });
  const end = Date.now() + 20_000;
  while (h.box.feed.counts.applied < 3) {
    if (Date.now() > end) throw new Error(`never applied: ${JSON.stringify(h.box.feed.counts)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.deepEqual(order, [2, 3]);
  assert.equal(h.box.feed.counts.outcomes.applied, 3, 'the key entry and the two persons');
  assert.equal(h.box.gallery.store.listPersons().persons.length, 2);
});

test('more messages waiting to be looked at than the bound are refused unread (overloaded), and the feed goes on', { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-feed-queue-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const h = await harness(t, dir, { queueMax: 3 });
  // Handed over faster than they are looked at: the bound holds 3, the rest are refused at once.
  const junk = Buffer.from('junk');
  for (let i = 0; i < 10; i++) void h.box.feed.receive(feedEntryTopic(ROOT, SITE, 1), junk, { retain: false });
  await h.box.feed.settled();
  assert.equal(h.box.feed.counts.refused.overloaded, 7);
  assert.equal(h.box.feed.counts.refused.malformed, 3);
  const next = h.central.entry({ seq: 2, prev: 1 });
  await h.send(next.topic, next.message);
  assert.equal(h.box.feed.counts.applied, 2);
});
