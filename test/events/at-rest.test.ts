// Nothing the gallery seals appears in clear in the state file, its WAL or its shared memory once
// events about a person wait in the outbox; what is published is still the signed payload.
import '../support/fast-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { compactVerify, importJWK } from 'jose';
import { ensureDeviceKey } from '../../daemon/events/device-key.js';
import { Outbox } from '../../daemon/events/outbox.js';
import { createSigner } from '../../daemon/events/signing.js';
import { uuidv7Generator } from '../../daemon/base/uuidv7.js';
import { EventWriter } from '../../daemon/events/writer.js';
import { Gallery } from '../../daemon/gallery/gallery.js';
import { createKeyFile } from '../../daemon/gallery/key-source.js';
import { loadSodium } from '../../daemon/gallery/sodium.js';
import { verifyGallery } from '../../daemon/service/verify-sealed.js';
import { keyOptions, memoryLogger, storePerson, tempDir } from '../gallery/helpers.js';

const NAME = 'Zebulon Plantedname';
const EXTERNAL_ID = 'EXT-PLANTED-7731';
const GROUP = 'planted-night-shift';

test('outbox: external id and group are sealed in the state file, WAL and -shm; the published payload is the signed one', async (t) => {
  const d = tempDir(t);
  createKeyFile(await loadSodium(), d.path('gallery.key'));
  const gallery = await Gallery.open({ path: d.path('state.db'), keys: keyOptions(d.path('gallery.key')), logger: memoryLogger().logger, create: true });
  t.after(() => gallery.close());
  const { person } = storePerson(gallery, { name: NAME, externalId: EXTERNAL_ID, group: GROUP });
  const key = ensureDeviceKey(d.path('device.key')).key;
  const outbox = new Outbox(gallery.db, { maxEvents: 1000, maxBytes: 1 << 20 }, gallery.sealer);
  const writer = new EventWriter({ outbox, signer: createSigner(key), deviceId: 'gate-1', baseTopic: 'facegate/gate-1', timeZone: 'UTC', newId: uuidv7Generator(), now: Date.now, logger: memoryLogger().logger });
  for (let i = 0; i < 20; i++) {
    writer.write('attendance', {
      record_id: `r${i}`, person_id: person.id, external_id: EXTERNAL_ID, group: GROUP, date: '2026-01-12', shift: null,
      check_in: '2026-01-12T08:00:00Z', check_out: null, type: 'check_in', camera: 'door', status: 'on_time', source: 'entry', assurance: 'live', liveness: null,
      late_minutes: 0, early_minutes: 0, overtime_minutes: 0, worked_minutes: null,
    });
  }

  // The database is still open: the events are in the WAL, as after a crash.
  const files = ['state.db', 'state.db-wal', 'state.db-shm'].filter((f) => existsSync(d.path(f)));
  assert.ok(files.includes('state.db-wal'));
  for (const f of files) {
    const bytes = readFileSync(d.path(f)).toString('latin1');
    for (const planted of [NAME, EXTERNAL_ID, GROUP]) assert.ok(!bytes.includes(planted), `${planted} in clear in ${f}`);
  }

  const rows = outbox.readAfter(0, 100);
  assert.equal(rows.length, 20);
  const body = JSON.parse(rows[0]!.payload.toString()) as { external_id: string; group: string; jws: string };
  assert.deepEqual([body.external_id, body.group], [EXTERNAL_ID, GROUP]);
  const { payload } = await compactVerify(body.jws, await importJWK(key.publicJwk, 'EdDSA'));
  const { jws: _jws, ...signed } = body;
  assert.deepEqual(JSON.parse(new TextDecoder().decode(payload)), signed, 'the signature covers what is published');

  const report = verifyGallery(gallery.db, gallery.sealer);
  assert.deepEqual(report.damaged, []);
  assert.ok(report.checked.cells >= 20 + 3, 'verify opens the outbox payloads too');
});
