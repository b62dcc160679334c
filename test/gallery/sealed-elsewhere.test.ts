import '../support/fast-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gallerySealerForProofs } from '../../daemon/attendance/proof-sealer.js';
import { Gallery } from '../../daemon/gallery/gallery.js';
import { createKeyFile, replacementKeyFile } from '../../daemon/gallery/key-source.js';
import { rotateKeys } from '../../daemon/ops/rotate-keys.js';
import { loadSodium } from '../../daemon/gallery/sodium.js';
import { verifyGallery } from '../../daemon/ops/verify-sealed.js';
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

test('keys rotate --reencrypt re-seals attendance proofs too, and verify checks them', async (t) => {
  const sodium = await loadSodium();
  const d = tempDir(t);
  const keyFile = d.path('gallery.key');
  createKeyFile(sodium, keyFile);
  const open = () => Gallery.open({ path: d.path('facegate.db'), keys: keyOptions(keyFile), logger: memoryLogger().logger, create: true });
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
