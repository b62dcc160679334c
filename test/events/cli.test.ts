import '../support/cli-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, statSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compactVerify, importJWK, type JWK } from 'jose';
import { ensureDeviceKey } from '../../daemon/events/device-key.js';
import { createSigner } from '../../daemon/events/signing.js';
import { runCli } from '../support/cli.js';

/** The built CLI as its own process. */
async function cli(argv: string[]) {
  const r = await runCli(argv);
  return { code: r.code, out: r.stdout, err: r.stderr };
}

test('keys export-public prints the JWK that verifies the device signatures', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-key-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'keys', 'device.key');
  const { key, created } = ensureDeviceKey(path);
  assert.ok(created);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  const before = readFileSync(path, 'utf8');
  assert.equal(ensureDeviceKey(path).created, false, 'an existing key is kept');
  assert.equal(readFileSync(path, 'utf8'), before, 'and never overwritten');

  const r = await cli(['keys', 'export-public', '--key-file', path]);
  assert.equal(r.code, 0, r.err);
  const jwk = JSON.parse(r.out) as JWK;
  assert.deepEqual(Object.keys(jwk).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x']);
  assert.ok(!('d' in jwk), 'no private part');
  const jws = createSigner(key).signJson({ hello: 'central' });
  const { protectedHeader } = await compactVerify(jws, await importJWK(jwk, 'EdDSA'));
  assert.equal(protectedHeader.kid, jwk.kid);
  const pem = await cli(['keys', 'export-public', '--key-file', path, '--pem']);
  assert.match(pem.out, /^-----BEGIN PUBLIC KEY-----/);
});

test('keys export-public: a missing or group-readable key is a clear error, exit 1', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-key-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const missing = await cli(['keys', 'export-public', '--key-file', join(dir, 'nope.key')]);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /^FG_ERR_DEVICE_KEY_MISSING: no device key at .* — run `facegate keys init` first\n$/);
  const path = join(dir, 'device.key');
  ensureDeviceKey(path);
  chmodSync(path, 0o644);
  const open = await cli(['keys', 'export-public', '--key-file', path]);
  assert.equal(open.code, 1);
  assert.match(open.err, /FG_ERR_DEVICE_KEY_PERMISSIONS: .*chmod 600/);
});
