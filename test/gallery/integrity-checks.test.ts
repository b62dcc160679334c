// The pure consistency rules of daemon/gallery/integrity.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { orphanReason, sameLookupHash } from '../../daemon/gallery/integrity.js';

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
