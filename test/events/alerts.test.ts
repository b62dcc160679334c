import '../support/fast-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Value } from '@sinclair/typebox/value';
import { unknownAlertBody } from '../../daemon/events/alerts.js';
import { UnknownAlertPayload } from '../../contract/alerts.js';

const envelope = { id: '019b4f52-0a10-7000-8000-4c5d6e7f8091', device: 'g', time: '2026-01-12T09:31:40+01:00', jws: 'x' };

test('unknown alerts attach the crop only under the size cap, with its sha256', () => {
  const small = new Uint8Array(randomBytes(1000));
  const withImage = unknownAlertBody({ camera: 'gate', anonymousId: 'anon-1', facePx: 96.4, jpeg: small }, 48);
  assert.equal(withImage.image, Buffer.from(small).toString('base64'));
  assert.equal(withImage.image_sha256, createHash('sha256').update(small).digest('hex'));
  assert.equal(withImage.face_px, 96);
  assert.ok(Value.Check(UnknownAlertPayload, { ...envelope, ...withImage }));
  const big = unknownAlertBody({ camera: 'gate', anonymousId: 'anon-1', facePx: 96, jpeg: new Uint8Array(49 * 1024 + 1) }, 48);
  assert.deepEqual([big.image, big.image_sha256], [undefined, null]);
  assert.equal(unknownAlertBody({ camera: 'gate', anonymousId: 'a', facePx: 1, jpeg: small }, 0).image, undefined);
});
