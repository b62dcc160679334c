// The gallery feed through real parts: a real Mosquitto, the built `facegate central feed` commands
// with their own SQLite file, and boxes whose feed stage applies the entries into real sealed
// gallery files through the person service. A person enrolled once reaches every box of the site;
// a box away while persons change and one erased catches up from the compacted log and confirms the
// erasure, which `central feed status` lists until it does; a box added to the site reads everyone
// and nothing of the log's past; local and feed enrolments coexist, each with its source.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { Mosquitto } from '../support/mosquitto.js';
import { runCli } from '../support/cli.js';
import { centralKeyFiles, FeedBox } from '../support/feed-box.js';
import { unitVector } from '../gallery/helpers.js';
import { ensureDeviceKey } from '../../daemon/events/device-key.js';

async function until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function templatesFile(dir: string, name: string, seed: number): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify({ templates: [0, 1].map((k) => ({ embedding: Array.from(unitVector(seed * 10 + k)), quality: 0.9, model: 'fr_feature' })) }));
  return path;
}

test('a person enrolled once reaches every box of the site; a box away catches up from the compacted log and confirms the erasure; a new box reads only the live entries', { timeout: 180_000 }, async (t) => {
  const broker = await Mosquitto.start();
  t.after(() => broker.dispose());
  const dir = mkdtempSync(join(tmpdir(), 'fg-feed-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const central = centralKeyFiles(dir);
  const boxDir = (d: string) => {
    const p = join(dir, d);
    mkdirSync(p, { recursive: true });
    return p;
  };
  const start = (device: string) => FeedBox.start({ dir: boxDir(device), device, site: 'hq', url: broker.url, centralKey: central.publicKey });
  const boxes = new Map<string, FeedBox>();
  for (const d of ['gate-1', 'gate-2']) boxes.set(d, await start(d));
  t.after(async () => {
    for (const b of boxes.values()) await b.stop();
  });
  const configPath = join(dir, 'central.yaml');
  const writeConfig = (devices: string[], more: Record<string, unknown> = {}) =>
    writeFileSync(
      configPath,
      stringify({
        broker: { url: broker.url, client_id: 'central-test' },
        pinning: 'provisioned',
        keys: { ...Object.fromEntries([...boxes].map(([d, b]) => [`facegate/${d}`, b.jwk])), ...more },
        replay: { command_key: central.privateFile },
        feed: { database: join(dir, 'central-feed.db'), sites: { hq: devices.map((d) => `facegate/${d}`) } },
      }),
    );
  writeConfig(['gate-1', 'gate-2']);
  const feed = async (...args: string[]) => {
    const r = await runCli(['central', 'feed', ...args, '--config', configPath, '--site', 'hq', '--json']);
    return { ...r, answer: r.stdout ? (JSON.parse(r.stdout) as Record<string, unknown>) : undefined };
  };
  const persons = (b: FeedBox) => b.gallery.store.listPersons().persons;
  for (const b of boxes.values()) await until('the box to connect', () => b.stack.bridge.connected);

  // A local enrolment on gate-1 before any feed: it stays the box's own.
  const local = await boxes.get('gate-1')!.persons.enrolTemplates({ name: 'Local Lee', externalId: 'LOC-1', group: 'staff' }, [{ embedding: unitVector(999), quality: 0.9, source: 'desk.jpg', model: 'fr_feature' }], { actor: 'cli:test', role: 'admin' });

  for (const [i, id] of ['EMP-1', 'EMP-2', 'EMP-3'].entries()) {
    const r = await feed('enrol', '--person-id', id, '--name', `Person ${i + 1}`, '--group', 'staff', '--templates', templatesFile(dir, id, i + 1));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.answer?.seq, i + 2, 'after the key entry of the site, entry 1');
  }
  for (const b of boxes.values()) await until('the key and three entries applied', () => b.feed.counts.applied === 4);
  for (const [d, b] of boxes) {
    const fromFeed = persons(b).filter((p) => b.persons.sourceOf(p.id).kind === 'feed');
    assert.deepEqual(fromFeed.map((p) => p.externalId).sort(), ['EMP-1', 'EMP-2', 'EMP-3'], d);
    assert.deepEqual(fromFeed.map((p) => b.gallery.store.countTemplates(p.id)), [2, 2, 2]);
    // Through the audit of every enrolment, named after the feed.
    assert.equal(b.audit.recent(50).filter((e) => e.actor === 'feed:hq' && e.action === 'person.enrol' && e.outcome === 'ok').length, 3);
  }
  assert.deepEqual(boxes.get('gate-1')!.persons.sourceOf(local.id), { kind: 'local' });
  assert.equal(persons(boxes.get('gate-1')!).length, 4, 'the local person beside the feed');

  // A feed enrolment may not take over the local person's external id.
  const clash = await feed('enrol', '--person-id', 'LOC-1', '--name', 'Someone Else', '--templates', templatesFile(dir, 'LOC-1', 7));
  assert.equal(clash.code, 0);
  await until('gate-1 past the clash', () => boxes.get('gate-1')!.feed.counts.applied === 5);
  assert.equal(boxes.get('gate-1')!.feed.counts.refused.local_person, 1);
  assert.equal(persons(boxes.get('gate-1')!).find((p) => p.externalId === 'LOC-1')?.name, 'Local Lee');
  await until('gate-2 past it too', () => boxes.get('gate-2')!.feed.counts.applied === 5);

  let status = await feed('status', '--wait-s', '3');
  assert.equal(status.code, 0, status.stdout + status.stderr);

  // gate-2 goes away; a rename, an erasure and a new person meanwhile.
  await boxes.get('gate-2')!.stop();
  boxes.delete('gate-2');
  assert.equal((await feed('update', '--person-id', 'EMP-1', '--name', 'Person One')).code, 0);
  const erased = await feed('erase', '--person-id', 'EMP-2');
  assert.equal(erased.code, 0);
  assert.equal((await feed('enrol', '--person-id', 'EMP-5', '--name', 'Person 5', '--templates', templatesFile(dir, 'EMP-5', 5))).code, 0);
  await until('gate-1 to apply all', () => boxes.get('gate-1')!.feed.counts.applied === 8);
  assert.equal(persons(boxes.get('gate-1')!).find((p) => p.externalId === 'EMP-1')?.name, 'Person One');
  assert.equal(persons(boxes.get('gate-1')!).some((p) => p.externalId === 'EMP-2'), false);

  status = await feed('status', '--wait-s', '2');
  assert.equal(status.code, 1, 'an erasure gate-2 has not confirmed');
  const standing = (status.answer!.boxes as { box: string; applied: number; unconfirmed: number[] }[]).find((b) => b.box === 'gate-2')!;
  assert.equal(standing.applied, 5);
  assert.deepEqual(standing.unconfirmed, [erased.answer!.seq]);
  const human = await runCli(['central', 'feed', 'status', '--config', configPath, '--site', 'hq', '--wait-s', '2']);
  assert.match(human.stdout, /erasures not confirmed by: gate-2/);

  // Back: it reads the compacted log (one entry per person, the erasure) and confirms.
  const back = await start('gate-2');
  boxes.set('gate-2', back);
  await until('gate-2 to catch up', () => back.feed.counts.applied === 8);
  assert.equal(back.feed.counts.outcomes.applied, 3, 'the rename, the erasure and the new person: the superseded entries were compacted away');
  // LOC-1 is gate-1's own person only: on gate-2 the feed's LOC-1 is enrolled.
  assert.deepEqual(persons(back).map((p) => p.name).sort(), ['Person 3', 'Person 5', 'Person One', 'Someone Else']);
  await until('gate-2 to report', async () => (await feed('status', '--wait-s', '2')).code === 0);

  // A new box on the site: the site's key wrapped again for it in its place (no person written
  // again), and it reads nothing older.
  // Its key is made and provisioned before it first starts, as an installer does (facegate keys init, export-public).
  const gate3Key = ensureDeviceKey(join(boxDir('gate-3'), 'device.key')).key.publicJwk;
  writeConfig(['gate-1', 'gate-2', 'gate-3'], { 'facegate/gate-3': { ...gate3Key } });
  const resealed = await feed('enrol', '--person-id', 'EMP-6', '--name', 'Person 6', '--templates', templatesFile(dir, 'EMP-6', 6));
  assert.equal(resealed.code, 0, resealed.stderr);
  assert.equal(resealed.answer!.rewrapped, 1, "the site's key wrapped again in its place for gate-3");
  assert.equal(resealed.answer!.rotated, false);
  const gate3 = await start('gate-3');
  boxes.set('gate-3', gate3);
  await until('gate-3 to hold everyone', () => persons(gate3).length === 5);
  assert.deepEqual(persons(gate3).map((p) => p.externalId).sort(), ['EMP-1', 'EMP-3', 'EMP-5', 'EMP-6', 'LOC-1']);
  const head = resealed.answer!.seq as number;
  await until('every box at the head', () => [...boxes.values()].every((b) => b.feed.counts.applied === head));
  // The log holds the key and one entry per person (the erasure every box confirmed left it at the
  // status that saw so): what a new box walks, not the history of 9.
  assert.equal(head, 9);
  assert.deepEqual(gate3.feed.counts.outcomes, { applied: 6, passed: 0, already: 0, held: gate3.feed.counts.outcomes.held });
  // Entries the central signed again while compacting reach the boxes that applied them as no news, not as replays.
  for (const b of boxes.values()) assert.equal(b.feed.counts.refused.replayed, 0);
  assert.equal(persons(boxes.get('gate-1')!).length, 5, 'the local person and the four of the feed');
  status = await feed('status', '--wait-s', '3');
  assert.equal(status.code, 0, JSON.stringify(status.answer));

  // The box says which person is whose: `person list` on gate-1's gallery file.
  const list = await runCli(['person', 'list', '--json', '--gallery', join(dir, 'gate-1', 'gallery.db'), '--key-file', join(dir, 'gate-1', 'gallery.key')]);
  assert.equal(list.code, 0, list.stderr);
  const sources = Object.fromEntries(list.stdout.trim().split('\n').map((l) => JSON.parse(l) as { external_id: string; source: string }).map((p) => [p.external_id, p.source]));
  assert.deepEqual(sources, { 'LOC-1': 'local', 'EMP-1': 'feed:hq', 'EMP-3': 'feed:hq', 'EMP-5': 'feed:hq', 'EMP-6': 'feed:hq' });

  // gate-2 taken off the site (still online, still subscribed): the next command rotates the
  // site's key, and gate-2 passes over what follows, unable to read it; it keeps what it had.
  writeConfig(['gate-1', 'gate-3']);
  const after = await feed('enrol', '--person-id', 'EMP-7', '--name', 'Person 7', '--templates', templatesFile(dir, 'EMP-7', 8));
  assert.equal(after.code, 0, after.stderr);
  assert.equal(after.answer!.rotated, true);
  const head2 = after.answer!.seq as number;
  await until('every box at the new head', () => [...boxes.values()].every((b) => b.feed.counts.applied === head2));
  for (const d of ['gate-1', 'gate-3']) assert.ok(persons(boxes.get(d)!).some((p) => p.externalId === 'EMP-7'), d);
  const gone = boxes.get('gate-2')!;
  assert.equal(persons(gone).some((p) => p.externalId === 'EMP-7'), false, 'the box taken off reads no one enrolled after');
  assert.equal(persons(gone).length, 5, 'what it had, it keeps');
  assert.equal(gone.feed.counts.refused.unreadable, 0);
});

test('central feed commands refuse bad input with a coded error and publish nothing', { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-feed-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const central = centralKeyFiles(dir);
  mkdirSync(join(dir, 'box'));
  const box = { kty: 'OKP', crv: 'Ed25519', x: (centralKeyFiles(join(dir, 'box')).publicKey.export({ format: 'jwk' }) as { x: string }).x };
  // 32 bytes a JWK may hold that are no point of the curve: nothing can be sealed to them.
  const notAPoint = { kty: 'OKP', crv: 'Ed25519', x: Buffer.alloc(32, 9).toString('base64url') };
  const configPath = join(dir, 'central.yaml');
  // A broker no one listens on: a refusal is decided before any connection is tried.
  writeFileSync(configPath, stringify({ broker: { url: 'mqtt://127.0.0.1:9' }, keys: { 'facegate/gate-1': box, 'facegate/gate-9': notAPoint }, replay: { command_key: central.privateFile }, feed: { database: join(dir, 'feed.db'), sites: { hq: ['facegate/gate-1'], odd: ['facegate/gate-9'] } } }));
  const run = (...args: string[]) => runCli(['central', 'feed', ...args, '--config', configPath]);
  const good = templatesFile(dir, 'good', 1);
  const nan = join(dir, 'nan.json');
  writeFileSync(nan, JSON.stringify({ templates: [{ embedding: [...Array.from(unitVector(1)).slice(0, 511), 'NaN'], quality: 0.9, model: 'm' }] }));
  const short = join(dir, 'short.json');
  writeFileSync(short, JSON.stringify({ templates: [{ embedding: Array.from(unitVector(1)).slice(0, 100), quality: 0.9, model: 'm' }] }));
  const cases: [string[], RegExp][] = [
    [['enrol', '--site', 'nowhere', '--person-id', 'E1', '--name', 'N', '--templates', good], /FG_ERR_FEED_SITE/],
    [['enrol', '--site', 'hq', '--person-id', 'bad id!', '--name', 'N', '--templates', good], /FG_ERR_PERSON_INVALID/],
    [['enrol', '--site', 'hq', '--person-id', 'E1', '--name', 'Eve\x1b[2J', '--templates', good], /FG_ERR_PERSON_INVALID/],
    [['enrol', '--site', 'hq', '--person-id', 'E1', '--name', 'N', '--templates', nan], /FG_ERR_FEED_INVALID/],
    [['enrol', '--site', 'hq', '--person-id', 'E1', '--name', 'N', '--templates', short], /FG_ERR_FEED_INVALID.*512/],
    [['enrol', '--site', 'hq', '--person-id', 'E1', '--name', 'N', '--templates', join(dir, 'missing.json')], /FG_ERR_FEED_INVALID/],
    [['enrol', '--site', 'hq', '--person-id', 'E1', '--name', 'N', '--templates', good, '--boxes', 'gate-9'], /FG_ERR_FEED_INVALID/],
    [['enrol', '--site', 'hq', '--person-id', 'E1', '--name', 'N'], /FG_ERR_FEED_INVALID/],
    [['update', '--site', 'hq', '--person-id', 'E1', '--name', 'N'], /FG_ERR_PERSON_NOT_FOUND/],
    [['erase', '--site', 'hq', '--person-id', 'E1'], /FG_ERR_PERSON_NOT_FOUND/],
    [['status', '--site', 'hq', '--wait-s', '999'], /FG_ERR_USAGE/],
    [['enrol', '--site', 'odd', '--person-id', 'E1', '--name', 'N', '--templates', good], /FG_ERR_FEED_BOX_KEY/],
  ];
  for (const [args, code] of cases) {
    const r = await run(...args);
    assert.notEqual(r.code, 0, args.join(' '));
    assert.match(r.stderr, code, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.includes('\x1b'), false, 'no escape reaches the terminal');
  }
  // The broker away: the entry is kept and the exit says so.
  const away = await run('enrol', '--site', 'hq', '--person-id', 'E1', '--name', 'N', '--templates', good, '--json');
  assert.equal(away.code, 1);
  assert.match(away.stderr, /FG_ERR_FEED_BROKER/);
  assert.equal((JSON.parse(away.stdout) as { pending: number }).pending, 2, 'the key entry and the person');
});
