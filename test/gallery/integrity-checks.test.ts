// The consistency rules of daemon/gallery/integrity.ts and the cell places and seals they rest on.
import '../support/fast-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { orphanReason, sameLookupHash } from '../../daemon/gallery/integrity.js';
import { Sealer, TamperError, type CellRef } from '../../daemon/gallery/seal.js';
import { externalIdHash, galleryCellRef, PERSON_ROW_FORMAT } from '../../daemon/gallery/sealed-cells.js';
import { loadSodium } from '../../daemon/gallery/sodium.js';

test('a lookup hash matches only the hash of its own sealed external id, and absence only absence', () => {
  const h = (b: number) => new Uint8Array(32).fill(b);
  assert.equal(sameLookupHash(h(1), Buffer.from(h(1))), true);
  assert.equal(sameLookupHash(null, null), true);
  assert.equal(sameLookupHash(h(1), h(2)), false);
  assert.equal(sameLookupHash(h(1), null), false, 'hash removed while the sealed id is there');
  assert.equal(sameLookupHash(null, h(1)), false, 'hash left while the sealed id is gone');
  assert.equal(sameLookupHash(h(1), h(1).subarray(0, 16)), false);
});

test('a template is matched only under an authentic person; otherwise it says whether the row is gone or fails', () => {
  const rows = { authentic: new Set(['a']), present: new Set(['a', 'b']) };
  assert.equal(orphanReason('a', rows), null);
  assert.equal(orphanReason('b', rows), 'person_not_authentic');
  assert.equal(orphanReason('c', rows), 'no_person');
});

test('only the name cell of a person binds the row format; other cells keep their place alone', () => {
  assert.equal(galleryCellRef('persons', 'name', 'p', 'p').rowFormat, PERSON_ROW_FORMAT);
  assert.equal(galleryCellRef('persons', 'grp', 'p', 'p').rowFormat, undefined);
  assert.equal(galleryCellRef('templates', 'embedding', 1, 'p').rowFormat, undefined);
});

test('a name sealed with the row format opens only with it; NULL cells and absent external ids', async () => {
  const sodium = await loadSodium();
  const sealer = new Sealer(sodium, sodium.crypto_aead_xchacha20poly1305_ietf_keygen());
  const current = galleryCellRef('persons', 'name', 'p', 'p');
  const legacy: CellRef = { table: 'persons', column: 'name', rowId: 'p', personId: 'p' };
  const sealed = sealer.sealText(current, 'Ada');
  assert.equal(sealer.openText(current, sealed), 'Ada');
  assert.throws(() => sealer.open(legacy, sealed), (e: unknown) => e instanceof TamperError && e.kind === 'unopened');
  assert.throws(
    () => sealer.open(galleryCellRef('persons', 'grp', 'p', 'p'), null),
    (e: unknown) => e instanceof TamperError && e.kind === 'null' && e.code === 'FG_ERR_GALLERY_TAMPER' && /empty \(NULL\)/.test(e.message),
  );
  const lookup = new TamperError(galleryCellRef('persons', 'external_id_hash', 'p', 'p'), 'lookup');
  assert.equal(lookup.code, 'FG_ERR_GALLERY_LOOKUP');
  assert.match(lookup.hint ?? '', /nothing was changed/);
  assert.equal(externalIdHash(sealer, null), null);
  assert.equal(externalIdHash(sealer, ''), null, 'no external id has no lookup hash');
  assert.ok(externalIdHash(sealer, 'EMP-1')?.equals(Buffer.from(sealer.hashExternalId('EMP-1'))));
  sealer.dispose();
});
