// A box's gallery feed under hostile input, over a real Mosquitto and real SQLite files: entries
// forged, replayed, out of order, for another site, oversized, unreadable, with templates of the
// wrong length or NaN values, or naming a person the box quarantined or enrolled itself. Each is
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
import { FEED_ENTRY_MAX_BYTES, FEED_REFUSALS, feedAssociatedData, feedEntryTopic, signFeedEntry, type FeedEntry, type FeedPerson } from '../../contract/feed.js';
import { boxSealingKey, sealForBoxes } from '../../contract/feed-seal.js';
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

/** The central (or whoever holds a key): entries signed by `key`, their person sealed to the box. */
class Central {
  readonly central = generateKeyPairSync('ed25519');
  constructor(private readonly boxX: string) {}

  sealed(entry: Pick<FeedEntry, 'site' | 'person' | 'kind'>, plain: Uint8Array, device = DEVICE) {
    return sealForBoxes(sodium, plain, feedAssociatedData(entry), new Map([[device, boxSealingKey(sodium, this.boxX)]]));
  }

  entry(o: { seq: number; prev: number; kind?: FeedEntry['kind']; person?: string; state?: unknown; site?: string; key?: KeyObject; plain?: Uint8Array }): { topic: string; message: string; entry: FeedEntry } {
    const kind = o.kind ?? 'enrol';
    const person = o.person ?? randomUUID();
    const site = o.site ?? SITE;
    const plain = o.plain ?? Buffer.from(JSON.stringify(o.state ?? personState(o.seq)));
    const entry: FeedEntry = { v: 1, site, seq: o.seq, prev: o.prev, kind, person, time: '2026-11-26T08:00:00Z', ...(kind !== 'erase' ? { sealed: this.sealed({ site, person, kind }, plain) } : {}) };
    return { topic: feedEntryTopic(ROOT, SITE, o.seq), message: signFeedEntry(entry, o.key ?? this.central.privateKey), entry };
  }
}

interface Harness {
  box: FeedBox;
  central: Central;
  client: MqttClient;
  /** Every outcome and refusal counted so far. */
  total(): number;
  /** Publishes and waits until the box counted the message. */
  send(topic: string, message: string | Buffer, retain?: boolean): Promise<void>;
  restart(): Promise<void>;
}

async function harness(t: { after(fn: () => unknown): void }, dir: string, bounds: Pick<FeedBoxOptions, 'heldMax' | 'queueMax' | 'persons'> = {}): Promise<Harness> {
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

  // Entry 1, valid: the feed runs.
  const first = central.entry({ seq: 1, prev: 0 });
  await h.send(first.topic, first.message);
  assert.equal(h.box.feed.counts.applied, 1);
  const quarantinedId = first.entry.person;

  const forger = generateKeyPairSync('ed25519');
  const forged = central.entry({ seq: 2, prev: 1, key: forger.privateKey });
  await expectRefused('forged', () => h.send(forged.topic, forged.message));
  await expectRefused('malformed', () => h.send(feedEntryTopic(ROOT, SITE, 2), '{"not":"a jws"}'));
  await expectRefused('malformed', () => h.send(feedEntryTopic(ROOT, SITE, 2), forged.message.slice(0, 100)));
  await expectRefused('oversized', () => h.send(feedEntryTopic(ROOT, SITE, 2), Buffer.alloc(FEED_ENTRY_MAX_BYTES + 1, 'a')));
  const elsewhere = central.entry({ seq: 2, prev: 1, site: 'elsewhere' });
  await expectRefused('other_site', () => h.send(elsewhere.topic, elsewhere.message));
  // Signed for number 2, published where number 3 belongs.
  const misplaced = central.entry({ seq: 2, prev: 1 });
  await expectRefused('malformed', () => h.send(feedEntryTopic(ROOT, SITE, 3), misplaced.message));
  // Entry 1 again, live: a replay, not applied a second time.
  await expectRefused('replayed', () => h.send(first.topic, first.message));
  // Entries far ahead: held (never applied) until the box holds 4, then refused.
  for (let i = 0; i < 4; i++) {
    const ahead = central.entry({ seq: 100 + i, prev: 99 + i });
    await h.send(ahead.topic, ahead.message);
  }
  assert.equal(h.box.feed.counts.outcomes.held, 4);
  const tooFar = central.entry({ seq: 200, prev: 199 });
  await expectRefused('out_of_order', () => h.send(tooFar.topic, tooFar.message));
  assert.equal(h.box.feed.counts.applied, 1, 'nothing ahead was applied');

  // Signed by the central, but what they hold breaks the rules: refused, and the feed moves past them.
  let seq = 2;
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
    // The sealed box's bytes flipped after signing cannot be: the signature covers them. A key sealed to another box's key is: it does not open here.
    const other = generateKeyPairSync('ed25519');
    const otherX = (other.publicKey.export({ format: 'jwk' }) as { x: string }).x;
    const person = randomUUID();
    const entry: FeedEntry = { v: 1, site: SITE, seq, prev: seq - 1, kind: 'enrol', person, time: '2026-11-26T08:00:00Z', sealed: sealForBoxes(sodium, Buffer.from(JSON.stringify(personState(6))), feedAssociatedData({ site: SITE, person, kind: 'enrol' }), new Map([[DEVICE, boxSealingKey(sodium, otherX)]])) };
    await expectRefused('unreadable', () => h.send(feedEntryTopic(ROOT, SITE, seq), signFeedEntry(entry, central.central.privateKey)));
    seq++;
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
    applyFeed(change, nowMs) {
      // What the person service answers while 8 changes wait before this one.
      if (refusals-- > 0) return Promise.reject(new FacegateError('FG_ERR_COMMAND_BUSY', '8 gallery commands are already running or waiting', 'send it again'));
      order.push(change.seq);
      return real.applyFeed(change, nowMs);
    },
  }) });
  const first = h.central.entry({ seq: 1, prev: 0 });
  const second = h.central.entry({ seq: 2, prev: 1 });
  await h.client.publishAsync(first.topic, first.message, { qos: 1 });
  await h.client.publishAsync(second.topic, second.message, { qos: 1 });
  const end = Date.now() + 20_000;
  while (h.box.feed.counts.applied < 2) {
    if (Date.now() > end) throw new Error(`never applied: ${JSON.stringify(h.box.feed.counts)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.deepEqual(order, [1, 2]);
  assert.equal(h.box.feed.counts.outcomes.applied, 2);
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
  const next = h.central.entry({ seq: 1, prev: 0 });
  await h.send(next.topic, next.message);
  assert.equal(h.box.feed.counts.applied, 1);
});
