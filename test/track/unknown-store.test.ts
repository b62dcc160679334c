// Unknown persons in the state file: a real SQLite file, the gallery's real sealer and key rotation.
import '../support/fast-tier.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultConfig } from '../../daemon/config/load.js';
import { Gallery } from '../../daemon/gallery/gallery.js';
import { createKeyFile, replacementKeyFile } from '../../daemon/gallery/key-source.js';
import { rotateKeys } from '../../daemon/service/rotate-keys.js';
import { loadSodium } from '../../daemon/gallery/sodium.js';
import { verifyGallery } from '../../daemon/service/verify-sealed.js';
import { purgeExpired } from '../../daemon/service/retention.js';
import { openDatabase } from '../../daemon/store/database.js';
import { daemonUnknowns, UnknownStore } from '../../daemon/track/unknown-store.js';
import { UnknownRegistry } from '../../daemon/track/unknowns.js';
import { fileBytes, floatBytes, keyOptions, leaks, memoryLogger, near, tempDir, unitVector } from '../gallery/helpers.js';

const DAY_MS = 86_400_000;
const T0 = Date.parse('2027-06-01T12:00:00Z');

async function site(t: Parameters<typeof tempDir>[0]) {
  const sodium = await loadSodium();
  const d = tempDir(t);
  const keyFile = d.path('gallery.key');
  createKeyFile(sodium, keyFile);
  const log = memoryLogger();
  const clock = { ms: T0 };
  const dbPath = d.path('state.db');
  const open = () => Gallery.open({ path: dbPath, keys: keyOptions(keyFile), logger: log.logger, create: true });
  const registry = (g: Gallery, days = 30, retentionS = 86_400) =>
    daemonUnknowns({
      track: { unknown_similarity: 0.5, unknown_retention_s: retentionS, best_k: 3 },
      retention: { unknown_thumbnail_days: days },
      db: g.db,
      sealer: g.sealer,
      logger: log.logger,
      now: () => clock.ms,
    });
  return { sodium, keyFile, dbPath, open, registry, clock, log };
}

const stranger = unitVector(41);
const framesOf = (base: Float32Array, seeds: number[]) => seeds.map((s) => ({ embedding: near(base, s, 0.9), quality: s / 10 }));
const rowOf = (g: Gallery, id: string) => g.db.prepare('SELECT first_seen_ms, last_seen_ms FROM unknown_persons WHERE anon_id = ?').get(id) as { first_seen_ms: number; last_seen_ms: number } | undefined;

test('unknowns: the same stranger keeps their anonymous id across a restart on the same state file', async (t) => {
  const s = await site(t);
  const g1 = await s.open();
  const reg1 = s.registry(g1);
  const frames = framesOf(stranger, [3, 5, 4, 1]);
  const kept = frames.filter((f) => f.quality >= 0.3).map((f) => Float32Array.from(f.embedding));
  const id = reg1.assign(stranger, { camera: 'gate', t: 12.5 }, frames);
  reg1.setThumbnail(id, Buffer.from('JPEG of a stranger'));
  const other = reg1.assign(unitVector(42), { camera: 'gate', t: 13 }, framesOf(unitVector(42), [2]));
  assert.notEqual(other, id);
  g1.close();

  s.clock.ms += 3_600_000;
  const g2 = await s.open();
  t.after(() => g2.close());
  const reg2 = s.registry(g2);
  assert.equal(reg2.size, 2);
  // Track time 0 (a new process) is not what dates the cluster: the wall clock is.
  assert.equal(reg2.assign(near(stranger, 7, 0.8), { camera: 'gate', t: 0 }), id);
  const back = reg2.get(id)!;
  assert.equal(back.thumbnail?.toString(), 'JPEG of a stranger');
  assert.deepEqual(back.frames.map((f) => Math.round(f.quality * 10)), [5, 4, 3]);
  assert.deepEqual(back.frames.map((f) => [...f.embedding]).sort(), kept.map((e) => [...e]).sort());
  assert.deepEqual(rowOf(g2, id), { first_seen_ms: T0, last_seen_ms: T0 + 3_600_000 });
  assert.deepEqual(reg2.list().find((u) => u.id === id)!.sightings, [{ camera: 'gate', at: (T0 + 3_600_000) / 1000 }, { camera: 'gate', at: T0 / 1000 }], 'sightings kept across the restart, dated by the wall clock');
  assert.equal(reg2.assign(unitVector(43), { camera: 'gate', t: 0 }), reg2.assign(unitVector(43), { camera: 'gate', t: 0 }), 'a new stranger gets a new id, kept');
  assert.equal(reg2.size, 3);
});

test('unknowns: a track withdrawn (recognised after all) leaves the state file with its face; an anonymous person others joined keeps only theirs', async (t) => {
  const s = await site(t);
  const g1 = await s.open();
  const reg1 = s.registry(g1);
  // Alone: the anonymous person was only the enrolled person's track, and is gone from the file.
  const enrolledFace = unitVector(44);
  const alone = reg1.join(enrolledFace, { camera: 'gate', t: 1 }, framesOf(enrolledFace, [6, 5]));
  reg1.setThumbnail(alone.id, Buffer.from('JPEG of an employee'));
  assert.equal(reg1.withdraw(alone), 'removed');
  assert.equal(rowOf(g1, alone.id), undefined);
  // Joined a stranger seen before: the row keeps the stranger's frames and sighting only.
  const first = reg1.join(stranger, { camera: 'gate', t: 2 }, framesOf(stranger, [3]));
  s.clock.ms += 60_000;
  const second = reg1.join(near(stranger, 8, 0.7), { camera: 'yard', t: 3 }, framesOf(stranger, [9, 7]));
  reg1.setThumbnail(second.id, Buffer.from('JPEG of the second track'));
  assert.equal(reg1.withdraw(second), 'kept');
  g1.close();

  const g2 = await s.open();
  t.after(() => g2.close());
  const reg2 = s.registry(g2);
  assert.equal(reg2.has(alone.id), false);
  const back = reg2.get(first.id)!;
  assert.deepEqual(back.frames.map((f) => Math.round(f.quality * 10)), [3]);
  assert.equal(back.thumbnail, null);
  assert.deepEqual(reg2.list()[0]!.sightings, [{ camera: 'gate', at: T0 / 1000 }]);
});

test('unknowns: no embedding, sum or thumbnail is in the state file or its -wal in plaintext', async (t) => {
  const s = await site(t);
  const g = await s.open();
  t.after(() => g.close());
  const reg = s.registry(g);
  const frames = framesOf(stranger, [9, 8, 7]);
  const copies = frames.map((f) => Buffer.from(floatBytes(f.embedding)));
  const id = reg.assign(stranger, { camera: 'gate', t: 0 }, frames);
  reg.setThumbnail(id, Buffer.from('JPEG of a stranger at the gate'));
  const bytes = fileBytes(s.dbPath);
  assert.ok(bytes.includes(Buffer.from(id)), 'the anonymous id is the row key, in clear');
  for (const c of copies) assert.equal(leaks(bytes, c), false, 'a best-frame embedding is in the file');
  assert.equal(leaks(bytes, floatBytes(stranger)), false, 'the fused embedding is in the file');
  assert.equal(leaks(bytes, Buffer.from(Float64Array.from(stranger).buffer)), false, 'the running sum is in the file');
  assert.equal(bytes.includes(Buffer.from('JPEG of a stranger')), false, 'the thumbnail is in the file');
});

test('unknowns: keys rotate --reencrypt re-seals them (they stay readable); verify checks them and names a damaged one', async (t) => {
  const s = await site(t);
  const g = await s.open();
  const reg = s.registry(g);
  const frames = framesOf(stranger, [6, 5]);
  const before = frames.map((f) => [...f.embedding]);
  const id = reg.assign(stranger, { camera: 'gate', t: 0 }, frames);
  reg.setThumbnail(id, Buffer.from('JPEG'));
  const cellsBefore = verifyGallery(g.db, g.sealer).checked.cells;
  const replacement = replacementKeyFile(s.sodium, s.keyFile);
  const result = rotateKeys({ db: g.db, sodium: s.sodium, oldKek: g.kek, unlocked: g.key, newKek: replacement.kek, reencrypt: true, install: replacement.install, now: () => new Date() });
  g.close();
  assert.equal(result.resealed, cellsBefore);

  const again = await s.open();
  t.after(() => again.close());
  const report = verifyGallery(again.db, again.sealer);
  assert.equal(report.damaged.length, 0);
  assert.equal(report.checked.cells, cellsBefore);
  const back = s.registry(again).get(id)!;
  assert.deepEqual(back.frames.map((f) => [...f.embedding]), before);
  assert.equal(back.thumbnail?.toString(), 'JPEG');

  // A cluster's cell moved onto another row or flipped no longer opens: reported, and left out at load.
  const other = s.registry(again).assign(unitVector(44), { camera: 'gate', t: 0 }, framesOf(unitVector(44), [2]));
  const { frames: sealed } = again.db.prepare('SELECT frames FROM unknown_persons WHERE anon_id = ?').get(other) as { frames: Buffer };
  again.db.prepare('UPDATE unknown_persons SET frames = ? WHERE anon_id = ?').run(sealed, id);
  assert.deepEqual(
    verifyGallery(again.db, again.sealer).damaged.map((r) => [r.table, r.column, r.rowId, r.personId]),
    [['unknown_persons', 'frames', id, id]],
  );
  const loaded = new UnknownStore(again.db, again.sealer, s.log.logger).load();
  assert.deepEqual(loaded.damaged, [id]);
  assert.deepEqual(loaded.clusters.map((c) => c.id), [other]);
  assert.ok(s.log.lines.some((l) => l.includes('unknown person failed authentication')));
});

test('unknowns: retention purges clusters not seen for unknown_thumbnail_days; the daemon forgets them at start too', async (t) => {
  const s = await site(t);
  const g = await s.open();
  t.after(() => g.close());
  const reg = s.registry(g, 30, 100 * 86_400);
  const old = reg.assign(unitVector(50), { camera: 'gate', t: 0 }, framesOf(unitVector(50), [3]));
  s.clock.ms = T0 + 20 * DAY_MS;
  const recent = reg.assign(unitVector(51), { camera: 'gate', t: 0 }, framesOf(unitVector(51), [3]));
  const count = () => (g.db.prepare('SELECT COUNT(*) AS n FROM unknown_persons').get() as { n: number }).n;

  const retention = { ...defaultConfig().retention, unknown_thumbnail_days: 10 };
  const r = purgeExpired(g.db, retention, s.clock.ms);
  assert.equal(r.unknownPersons, 1);
  assert.equal(rowOf(g, old), undefined);
  assert.ok(rowOf(g, recent));
  assert.equal(purgeExpired(g.db, retention, s.clock.ms).unknownPersons, 0);

  // unknown_retention_s (1 day here) is shorter: a daemon starting 2 days later forgets the stranger, file included.
  s.clock.ms += 2 * DAY_MS;
  assert.equal(s.registry(g).size, 0);
  assert.equal(count(), 0);
});

test('unknowns: unknown_thumbnail_days 0 keeps nothing in the state file', async (t) => {
  const s = await site(t);
  const g = await s.open();
  t.after(() => g.close());
  const reg = s.registry(g, 0);
  const id = reg.assign(stranger, { camera: 'gate', t: 0 }, framesOf(stranger, [3]));
  assert.equal(reg.assign(near(stranger, 8, 0.8), { camera: 'gate', t: 0 }), id);
  assert.equal((g.db.prepare('SELECT COUNT(*) AS n FROM unknown_persons').get() as { n: number }).n, 0);
});

test('unknowns: a failed write is logged and the cluster lives on in memory (a camera never stops over it)', async (t) => {
  const s = await site(t);
  const g = await s.open();
  t.after(() => g.close());
  const db = openDatabase(`${s.dbPath}.other`);
  db.close();
  const reg = new UnknownRegistry({ similarity: 0.5, retentionS: 3600, maxFrames: 2 }, undefined, { clock: () => s.clock.ms / 1000, store: new UnknownStore(db, g.sealer, s.log.logger) });
  const id = reg.assign(stranger, { camera: 'gate', t: 0 }, framesOf(stranger, [3]));
  assert.equal(reg.assign(near(stranger, 9, 0.8), { camera: 'gate', t: 0 }), id);
  assert.ok(s.log.lines.some((l) => l.includes('unknown person not saved in the state file; kept in memory') && l.includes(id)));
  assert.equal(reg.take(id)?.frames.length, 1);
  assert.ok(s.log.lines.some((l) => l.includes('unknown person not removed')));
});

test('unknowns: a sightings column that is not what the daemon writes costs only the sightings, with a warning', async (t) => {
  const s = await site(t);
  const g1 = await s.open();
  const reg1 = s.registry(g1);
  const id = reg1.assign(stranger, { camera: 'gate', t: 0 }, framesOf(stranger, [3]));
  const other = reg1.assign(unitVector(42), { camera: 'yard', t: 0 }, framesOf(unitVector(42), [3]));
  for (const bad of ['not json', '{"camera":"gate"}', '[{"camera":7,"at_ms":1}]', '[{"camera":"gate","at_ms":"soon"}]', `[{"camera":"${'x'.repeat(201)}","at_ms":1}]`]) {
    g1.db.prepare('UPDATE unknown_persons SET sightings = ? WHERE anon_id = ?').run(bad, id);
    const reg = s.registry(g1);
    assert.equal(reg.size, 2, bad);
    assert.deepEqual(reg.list().find((u) => u.id === id)!.sightings, [], bad);
    assert.deepEqual(reg.list().find((u) => u.id === other)!.sightings, [{ camera: 'yard', at: T0 / 1000 }], bad);
  }
  assert.ok(s.log.lines.some((l) => l.includes(id) && l.includes('sightings unreadable')));
  g1.close();
});
