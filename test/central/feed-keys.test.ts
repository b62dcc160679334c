// The central's side of the feed's content keys, on its real SQLite store, each message read back
// as a box reads it (the central's signature, the key wrapped to it, the person under the key): a
// box added to the site gets the live keys wrapped in their place and reads every person; a box
// taken off it finds no wrap in the live log and cannot open what follows (the key was rotated); an
// admin's rotation makes a new key; keys no live entry uses leave the log; a store of the first
// format (each entry sealed to every box) is migrated and its persons written again under the key.
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { boxOpeningKeys, boxSealingKey, decryptContent, unwrapKey } from '../../contract/feed-seal.js';
import { feedAssociatedData, feedAssociatedDataV1, feedEntryTopic, verifyFeedEntry, type FeedEntry, type FeedPerson } from '../../contract/feed.js';
import { pinnedKeyFromJwk } from '../../contract/signature.js';
import { FEED_MIGRATIONS, FeedStore } from '../../central/feed-store.js';
import { feedEnrol, feedErase, feedRewriteMissing, feedRotate, feedSync, feedUpdate, loadSodium, type FeedParts } from '../../central/feed.js';
import type { FeedReport } from '../../contract/feed.js';
import type { FeedBox } from '../../central/config.js';
import { openDatabase } from '../../daemon/store/database.js';
import { runCli } from '../support/cli.js';
import { centralKeyFiles } from '../support/feed-box.js';
import { sealForBoxesV1 } from '../support/feed-v1.js';
import { unitVector } from '../gallery/helpers.js';

const sodium = await loadSodium();
const ROOT = 'facegate-feed';
const SITE = 'hq';

/** A box as the central pins it, and what it opens entries with. */
function box(device: string): FeedBox & { opening: { publicKey: Uint8Array; privateKey: Uint8Array } } {
  const seed = sodium.randombytes_buf(32);
  const x = Buffer.from(sodium.crypto_sign_seed_keypair(seed).publicKey).toString('base64url');
  return { device, base: `facegate/${device}`, key: pinnedKeyFromJwk({ kty: 'OKP', crv: 'Ed25519', x })!, opening: boxOpeningKeys(sodium, seed) };
}

const templates = (seed: number) => [{ embedding: Array.from(unitVector(seed)), quality: 0.9, model: 'fr_feature' }];

/** The live log as a box reads it off the broker: each retained message the latest published on its topic. */
class Broker {
  readonly retained = new Map<string, string>();
  take(store: FeedStore): void {
    for (const p of store.pending()) {
      if (p.message === '') this.retained.delete(p.topic);
      else this.retained.set(p.topic, p.message);
      store.published(p.topic, p.message);
    }
  }
  entries(centralKey: Parameters<typeof verifyFeedEntry>[1]): FeedEntry[] {
    return [...this.retained.values()].map((m) => {
      const v = verifyFeedEntry(Buffer.from(m), centralKey);
      assert.ok(v.ok, 'every message verifies');
      return v.entry;
    }).sort((a, b) => a.seq - b.seq);
  }
}

/** What a box reads of the live log, in order: the persons it opens (by uuid → name), the entries it cannot. */
function read(entries: FeedEntry[], b: ReturnType<typeof box>): { names: Map<string, string>; unreadable: number[] } {
  const keys = new Map<string, Uint8Array>();
  const names = new Map<string, string>();
  const unreadable: number[] = [];
  for (const e of entries) {
    if (e.kind === 'key') {
      const k = unwrapKey(sodium, e.key, b.device, b.opening);
      if (k instanceof Uint8Array) keys.set(e.key.id, k);
    } else if (e.kind === 'erase') names.delete(e.person);
    else if (e.v === 2 && e.sealed) {
      const k = keys.get(e.sealed.key);
      const plain = k && decryptContent(sodium, e.sealed, k, feedAssociatedData(e, e.sealed.key));
      if (!plain) unreadable.push(e.seq);
      else names.set(e.person, (JSON.parse(Buffer.from(plain).toString('utf8')) as FeedPerson).name);
    } else unreadable.push(e.seq);
  }
  return { names, unreadable };
}

test('a box added reads every person through the keys wrapped again in place; a box taken off cannot read what follows; an admin rotates; unused keys leave the log', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-feed-keys-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const central = generateKeyPairSync('ed25519');
  const [a, b, c] = [box('gate-a'), box('gate-b'), box('gate-c')];
  const store = FeedStore.open(join(dir, 'feed.db'));
  t.after(() => store.close());
  const sites = new Map<string, FeedBox[]>([[SITE, [a, b]]]);
  const parts: FeedParts = { store, sites, root: ROOT, key: central.privateKey, sodium, now: () => new Date('2026-11-26T08:00:00Z') };
  const broker = new Broker();
  const live = () => broker.entries(central.publicKey);

  feedEnrol(parts, { site: SITE, externalId: 'EMP-1', name: 'Ada', templates: templates(1) });
  feedEnrol(parts, { site: SITE, externalId: 'EMP-2', name: 'Bo', templates: templates(2) });
  broker.take(store);
  assert.deepEqual(live().map((e) => e.kind), ['key', 'enrol', 'enrol'], 'one key entry, then each person once');
  // One person's entry is the same whatever the boxes: no per-box part.
  const person = live()[1]!;
  assert.ok(person.kind !== 'key' && person.v === 2 && !('keys' in (person.sealed ?? {})));
  for (const x of [a, b]) assert.deepEqual([...read(live(), x).names.values()].sort(), ['Ada', 'Bo']);
  assert.deepEqual(read(live(), c).unreadable, [2, 3], 'a box not of the site reads no one');

  // gate-c added: the key entry is wrapped again where it stands, no person written again.
  sites.set(SITE, [a, b, c]);
  assert.deepEqual(feedSync(parts, SITE), { rewrapped: 1, rotated: false, upgraded: 0 });
  broker.take(store);
  assert.equal(store.head(SITE), 3);
  assert.deepEqual([...read(live(), c).names.values()].sort(), ['Ada', 'Bo']);

  // gate-b taken off: the site's key rotated, older keys no longer wrapped to it in the live log.
  sites.set(SITE, [a, c]);
  assert.deepEqual(feedSync(parts, SITE), { rewrapped: 1, rotated: true, upgraded: 0 });
  feedEnrol(parts, { site: SITE, externalId: 'EMP-3', name: 'Cy', templates: templates(3) });
  feedUpdate(parts, { site: SITE, externalId: 'EMP-1', name: 'Ada L.' });
  broker.take(store);
  const afterB = read(live(), b);
  assert.equal([...afterB.names.values()].length, 0, 'gate-b finds no key of the live log wrapped to it');
  // The old key, which it kept, is used by nothing written after it left.
  const oldKey = store.keys(SITE).find((k) => !k.current)!;
  for (const e of live()) {
    if (e.kind === 'key' || e.kind === 'erase' || e.v !== 2 || !e.sealed || e.seq <= 3) continue;
    assert.notEqual(e.sealed.key, oldKey.id, `entry ${e.seq}, written after gate-b left, is under the new key`);
  }
  for (const x of [a, c]) assert.deepEqual([...read(live(), x).names.values()].sort(), ['Ada L.', 'Bo', 'Cy']);

  // Once no live entry uses the old key (Bo updated too), its key entry leaves the log.
  feedUpdate(parts, { site: SITE, externalId: 'EMP-2', name: 'Bo B.' });
  broker.take(store);
  assert.equal(store.keys(SITE).length, 1, 'only the current key is left');
  assert.equal(live().filter((e) => e.kind === 'key').length, 1);
  assert.equal(broker.retained.has(feedEntryTopic(ROOT, SITE, 1)), false, 'the old key entry cleared');
  for (const x of [a, c]) assert.deepEqual(read(live(), x).unreadable, []);

  // An admin's rotation: a new key at the head; what follows is under it.
  const before = store.keys(SITE).find((k) => k.current)!.id;
  const seq = feedRotate(parts, SITE);
  feedErase(parts, { site: SITE, externalId: 'EMP-3' });
  feedEnrol(parts, { site: SITE, externalId: 'EMP-4', name: 'Di', templates: templates(4) });
  broker.take(store);
  const rotated = live().find((e) => e.seq === seq);
  assert.ok(rotated?.kind === 'key' && rotated.key.id !== before);
  const di = live().at(-1)!;
  assert.ok(di.kind === 'enrol' && di.v === 2 && di.sealed?.key === rotated.key.id);
  for (const x of [a, c]) assert.deepEqual([...read(live(), x).names.values()].sort(), ['Ada L.', 'Bo B.', 'Di']);
});

test('a feed store of the first format is migrated, and its persons written again under the site key at the next command', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-feed-v1-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const central = generateKeyPairSync('ed25519');
  const a = box('gate-a');
  const path = join(dir, 'feed.db');
  // The store as the first format left it: one person, sealed to the box, published.
  const person = randomUUID();
  const state: FeedPerson = { name: 'Ada', external_id: 'EMP-1', templates: [{ embedding: Buffer.from(unitVector(1).buffer).toString('base64'), quality: 0.9, model: 'fr_feature' }] };
  const sealed = sealForBoxesV1(sodium, Buffer.from(JSON.stringify(state)), feedAssociatedDataV1({ site: SITE, person, kind: 'enrol' }), new Map([[a.device, boxSealingKey(sodium, (a.key.jwk as { x: string }).x)]]));
  const old = openDatabase(path, { migrations: FEED_MIGRATIONS.slice(0, 1) });
  old.prepare('INSERT INTO feed_entries (site, seq, prev, kind, person, time, sealed) VALUES (?, 1, 0, ?, ?, ?, ?)').run(SITE, 'enrol', person, '2026-11-25T08:00:00Z', JSON.stringify(sealed));
  old.prepare('INSERT INTO feed_people (site, external_id, person, state, boxes) VALUES (?, ?, ?, ?, NULL)').run(SITE, 'EMP-1', person, JSON.stringify(state));
  old.prepare('INSERT INTO feed_sites (site, boxes) VALUES (?, ?)').run(SITE, JSON.stringify([a.device]));
  old.close();

  const store = FeedStore.open(path);
  t.after(() => store.close());
  const parts: FeedParts = { store, sites: new Map([[SITE, [a]]]), root: ROOT, key: central.privateKey, sodium, now: () => new Date('2026-11-26T08:00:00Z') };
  assert.deepEqual(store.live(SITE).map((e) => [e.seq, e.v, e.kind]), [[1, 1, 'enrol']], 'kept as it was, still of the first format');
  assert.deepEqual(feedSync(parts, SITE), { rewrapped: 0, rotated: false, upgraded: 1 });
  assert.deepEqual(store.live(SITE).map((e) => [e.seq, e.v, e.kind]), [[2, 2, 'key'], [3, 2, 'update']]);
  const broker = new Broker();
  broker.take(store);
  assert.equal(broker.retained.size, 2, 'the first-format entry cleared');
  assert.deepEqual([...read(broker.entries(central.publicKey), a).names.values()], ['Ada']);
  assert.deepEqual(feedSync(parts, SITE), { rewrapped: 0, rotated: false, upgraded: 0 }, 'once');
});

test('central feed rotate-key: a new key in an entry of its own, kept for the next command with the broker away; an unknown site refused', { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-feed-rotate-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const central = centralKeyFiles(dir);
  const a = box('gate-a');
  const configPath = join(dir, 'central.yaml');
  writeFileSync(configPath, stringify({ broker: { url: 'mqtt://127.0.0.1:9' }, keys: { 'facegate/gate-a': a.key.jwk }, replay: { command_key: central.privateFile }, feed: { database: join(dir, 'feed.db'), sites: { hq: ['facegate/gate-a'] } } }));
  const r = await runCli(['central', 'feed', 'rotate-key', '--config', configPath, '--site', 'hq', '--json']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /FG_ERR_FEED_BROKER/);
  assert.deepEqual({ ...(JSON.parse(r.stdout) as Record<string, unknown>) }, { site: 'hq', seq: 1, published: 0, pending: 1, rewrapped: 0, rotated: true, upgraded: 0 });
  const nowhere = await runCli(['central', 'feed', 'rotate-key', '--config', configPath, '--site', 'nowhere']);
  assert.notEqual(nowhere.code, 0);
  assert.match(nowhere.stderr, /FG_ERR_FEED_SITE/);
});

test("a box's report of a person refused for want of a key it now holds has the person written again; not for a box the key is not wrapped to, and once", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-feed-missing-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const central = generateKeyPairSync('ed25519');
  const [a, c] = [box('gate-a'), box('gate-c')];
  const store = FeedStore.open(join(dir, 'feed.db'));
  t.after(() => store.close());
  const sites = new Map<string, FeedBox[]>([[SITE, [a]]]);
  const parts: FeedParts = { store, sites, root: ROOT, key: central.privateKey, sodium, now: () => new Date('2026-11-26T08:00:00Z') };
  feedEnrol(parts, { site: SITE, externalId: 'EMP-1', name: 'Ada', templates: templates(1) });
  const report = (device: string, seq: number): Map<string, FeedReport> => new Map([[device, { device, site: SITE, applied: seq, persons: 0, refused: [{ seq, reason: 'key_missing' }], time: '2026-11-26T09:00:00+01:00', jws: 'x' }]]);
  assert.equal(feedRewriteMissing(parts, SITE, report('gate-c', 2)), 0, 'gate-c is not of the site: the key is not wrapped to it');
  sites.set(SITE, [a, c]);
  feedSync(parts, SITE);
  assert.equal(feedRewriteMissing(parts, SITE, report('gate-c', 2)), 1);
  assert.deepEqual(store.live(SITE).map((e) => [e.seq, e.kind]), [[1, 'key'], [3, 'update']]);
  assert.equal(feedRewriteMissing(parts, SITE, report('gate-c', 2)), 0, 'entry 2 is no longer in the log');
  const broker = new Broker();
  broker.take(store);
  assert.deepEqual([...read(broker.entries(central.publicKey), c).names.values()], ['Ada']);
});
