import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../support/cli.js';

test('keys init also makes the device signing key (0600, never replaced), which export-public prints', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'facegate-keys-'));
  const made = await runCli(['keys', 'init', '--key-file', join(dir, 'gallery.key'), '--json']);
  assert.equal(made.code, 0, made.stderr);
  assert.deepEqual(JSON.parse(made.stdout), { key_file: join(dir, 'gallery.key'), device_key_file: join(dir, 'device.key'), device_key_created: true });
  assert.equal(statSync(join(dir, 'device.key')).mode & 0o777, 0o600);
  const deviceKey = readFileSync(join(dir, 'device.key'));
  const jwk = await runCli(['keys', 'export-public', '--key-file', join(dir, 'device.key')]);
  assert.equal(jwk.code, 0, jwk.stderr);
  assert.equal(JSON.parse(jwk.stdout).crv, 'Ed25519');
  // A second init refuses the existing gallery key and leaves both keys as they were.
  const again = await runCli(['keys', 'init', '--key-file', join(dir, 'gallery.key')]);
  assert.equal(again.code, 1);
  assert.deepEqual(readFileSync(join(dir, 'device.key')), deviceKey);
});
