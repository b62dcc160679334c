import '../support/fast-tier.js';
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { gallerySealerForProofs } from '../../daemon/attendance/proof-sealer.js';
import { Gallery } from '../../daemon/gallery/gallery.js';
import { createKeyFile, replacementKeyFile } from '../../daemon/gallery/key-source.js';
import { rotateKeys } from '../../daemon/service/rotate-keys.js';
import { loadSodium } from '../../daemon/gallery/sodium.js';
import { verifyGallery } from '../../daemon/service/verify-sealed.js';
import { Timeline } from '../../daemon/track/timeline.js';
import { ArrivalStore } from '../../daemon/attendance/arrivals.js';
import { FeedKeys } from '../../daemon/service/feed-records.js';
import { keyOptions, memoryLogger, storePerson, tempDir } from './helpers.js';

/** One attendance day with a sealed check-in proof, written as the attendance stage writes it. */
function addProof(g: Gallery, personId: string, recordId: string, jpeg: Buffer): void {
  g.db
    .prepare(
      `INSERT INTO attendance_days (person_id, date, record_id, day_json, last_seen_ms, last_seen_camera, check_out_settled, summarized, closes_ms)
       VALUES (?, '2026-11-20', ?, '{}', 0, 'gate', 0, 0, 0)`,
    )
    .run(personId, recordId);
  const sealed = gallerySealerForProofs(g.sealer).seal({ recordId, personId, kind: 'check_in' }, jpeg);
  g.db.prepare("INSERT INTO attendance_proofs (record_id, kind, at_ms, sealed) VALUES (?, 'check_in', 0, ?)").run(recordId, Buffer.from(sealed));
}

/** A gallery file with its key file in a temporary folder, and a way to open it (again, after a rotation). */
async function galleryOnDisk(t: TestContext) {
  const sodium = await loadSodium();
  const d = tempDir(t);
  const keyFile = d.path('gallery.key');
  createKeyFile(sodium, keyFile);
  const open = () => Gallery.open({ path: d.path('facegate.db'), keys: keyOptions(keyFile), logger: memoryLogger().logger, create: true });
  return { sodium, keyFile, open };
}

test('keys rotate --reencrypt re-seals attendance proofs too, and verify checks them', async (t) => {
  const { sodium, keyFile, open } = await galleryOnDisk(t);
  const g = await open();
  const { person } = storePerson(g, { name: 'Ada Lovelace', externalId: 'EMP-1', group: 'staff' });
  addProof(g, person.id, 'rec-1', Buffer.from('JPEG of a check-in'));
  assert.equal(verifyGallery(g.db, g.sealer).damaged.length, 0);

  const replacement = replacementKeyFile(sodium, keyFile);
  const result = rotateKeys({ db: g.db, sodium, oldKek: g.kek, unlocked: g.key, newKek: replacement.kek, reencrypt: true, install: replacement.install, now: () => new Date() });
  g.close();
  assert.ok(result.resealed >= 4, 'the person cells and the proof');

  const again = await open();
  t.after(() => again.close());
  const { sealed } = again.db.prepare("SELECT sealed FROM attendance_proofs WHERE record_id = 'rec-1'").get() as { sealed: Buffer };
  const plain = gallerySealerForProofs(again.sealer).open({ recordId: 'rec-1', personId: person.id, kind: 'check_in' }, sealed);
  assert.equal(Buffer.from(plain).toString(), 'JPEG of a check-in');
  assert.equal(verifyGallery(again.db, again.sealer).damaged.length, 0);

  // A flipped byte in a proof is reported with its record and person.
  sealed[sealed.length - 1]! ^= 1;
  again.db.prepare("UPDATE attendance_proofs SET sealed = ? WHERE record_id = 'rec-1'").run(sealed);
  const damaged = verifyGallery(again.db, again.sealer).damaged;
  assert.deepEqual(damaged.map((r) => [r.table, r.column, r.rowId, r.personId]), [['thumbnails', 'attendance_check_in', 'rec-1', person.id]]);
});

test("keys rotate --reencrypt re-seals the timeline's face crops too, verify checks them, and a crop moved to another row does not open", async (t) => {
  const { sodium, keyFile, open } = await galleryOnDisk(t);
  const g = await open();
  const liveness = { score: 0, blink: 0, structure: 0, passive: 0, surround: 0, screen: 0, stereo: 0 } as never;
  const face = Buffer.from('JPEG of a stranger');
  const id = new Timeline(g.db, g.sealer).record({ type: 'unknown', camera: 'gate', track: 1, t: 1, atMs: 0, anon_id: 'anon-1', score: 0.2, live: false, antispoof: null, liveness, face_px: 80, thumbnail: face })!;
  new Timeline(g.db, g.sealer).record({ type: 'too_small', camera: 'gate', track: 2, t: 1, atMs: 1, reason: 'face 20 px high' });
  assert.equal(verifyGallery(g.db, g.sealer).damaged.length, 0);

  const replacement = replacementKeyFile(sodium, keyFile);
  const result = rotateKeys({ db: g.db, sodium, oldKek: g.kek, unlocked: g.key, newKek: replacement.kek, reencrypt: true, install: replacement.install, now: () => new Date() });
  g.close();
  assert.equal(result.resealed, 1, 'the one crop');

  const again = await open();
  t.after(() => again.close());
  assert.ok(new Timeline(again.db, again.sealer).crop(id)!.equals(face), 'the crop opens under the new key');
  assert.equal(verifyGallery(again.db, again.sealer).damaged.length, 0);
  // The crop copied onto the other row: bound to its own row, it is reported, not shown as someone else's.
  again.db.prepare('UPDATE timeline SET crop = (SELECT crop FROM timeline WHERE id = ?) WHERE id <> ?').run(id, id);
  assert.deepEqual(verifyGallery(again.db, again.sealer).damaged.map((r) => [r.table, r.column]), [['timeline', 'crop']]);
});

test("keys rotate --reencrypt re-seals unverified arrivals' face crops too, verify checks them, and a damaged one is reported with its arrival and person", async (t) => {
  const { sodium, keyFile, open } = await galleryOnDisk(t);
  const g = await open();
  const arrivals = new ArrivalStore(g.db, g.sealer);
  const id = '019a0000-0000-7000-8000-000000000001';
  arrivals.keep({ id, personId: 'p-1', group: null, date: '2026-11-20', camera: 'gate', track: 1, atMs: 0, assurance: 'recognised', required: 'live', liveness: {}, missing: [] });
  arrivals.addCrop({ id, personId: 'p-1', crops: 0 }, Buffer.from('JPEG of an arrival'));
  arrivals.addCrop({ id, personId: 'p-1', crops: 1 }, Buffer.from('another JPEG of it'));
  assert.equal(verifyGallery(g.db, g.sealer).damaged.length, 0);

  const replacement = replacementKeyFile(sodium, keyFile);
  const result = rotateKeys({ db: g.db, sodium, oldKek: g.kek, unlocked: g.key, newKek: replacement.kek, reencrypt: true, install: replacement.install, now: () => new Date() });
  g.close();
  assert.equal(result.resealed, 2, 'the two crops');

  const again = await open();
  t.after(() => again.close());
  const reopened = new ArrivalStore(again.db, again.sealer);
  assert.equal(reopened.crop({ id, personId: 'p-1' }, 2)!.toString(), 'another JPEG of it');
  assert.equal(verifyGallery(again.db, again.sealer).damaged.length, 0);
  // The first crop put in the second's place: bound to its number, it is reported, not shown.
  again.db.prepare('UPDATE attendance_arrival_crops SET sealed = (SELECT sealed FROM attendance_arrival_crops WHERE n = 1) WHERE n = 2').run();
  assert.deepEqual(verifyGallery(again.db, again.sealer).damaged.map((r) => [r.table, r.column, r.rowId, r.personId]), [['thumbnails', 'arrival_crop_2', id, 'p-1']]);
  assert.throws(() => reopened.crop({ id, personId: 'p-1' }, 2));
});

test("keys rotate --reencrypt re-seals the gallery feed's kept content keys too, verify checks them, and a key copied onto another key's row does not open", async (t) => {
  const { sodium, keyFile, open } = await galleryOnDisk(t);
  const g = await open();
  const key = sodium.crypto_aead_xchacha20poly1305_ietf_keygen();
  const keys = new FeedKeys(g.db, g.sealer);
  keys.put('hq', 'k'.repeat(22), key, 1, 0);
  keys.put('hq', 'n'.repeat(22), null, 2, 0);
  keys.put('hq', 'm'.repeat(22), sodium.crypto_aead_xchacha20poly1305_ietf_keygen(), 3, 0);
  assert.equal(verifyGallery(g.db, g.sealer).damaged.length, 0);

  const replacement = replacementKeyFile(sodium, keyFile);
  const result = rotateKeys({ db: g.db, sodium, oldKek: g.kek, unlocked: g.key, newKek: replacement.kek, reencrypt: true, install: replacement.install, now: () => new Date() });
  g.close();
  assert.equal(result.resealed, 2, 'the two keys held');

  const again = await open();
  t.after(() => again.close());
  const kept = new FeedKeys(again.db, again.sealer);
  assert.deepEqual(kept.keyOf('hq', 'k'.repeat(22)), key, 'the key opens under the new data key');
  assert.equal(kept.keyOf('hq', 'n'.repeat(22)), null);
  again.db.prepare('UPDATE feed_keys SET sealed = (SELECT sealed FROM feed_keys WHERE key_id = ?) WHERE key_id = ?').run('k'.repeat(22), 'm'.repeat(22));
  assert.deepEqual(verifyGallery(again.db, again.sealer).damaged.map((r) => [r.table, r.column]), [['feed_keys', 'sealed']]);
  assert.throws(() => kept.keyOf('hq', 'm'.repeat(22)), /feed_keys.sealed .* failed authentication/);
});
