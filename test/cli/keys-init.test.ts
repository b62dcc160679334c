import '../support/cli-tier.js';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Gallery } from '../../daemon/gallery/gallery.js';
import { createKeyFile } from '../../daemon/gallery/key-source.js';
import { loadSodium } from '../../daemon/gallery/sodium.js';
import { runCli } from '../support/cli.js';
import { keyOptions, memoryLogger } from '../gallery/helpers.js';

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

test('a --key-file that is not there: for a new gallery the next step is keys init with that file; for one that exists, the key it was made with', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'facegate-keys-'));
  const absent = join(dir, 'absent.key');
  const photo = join(dir, 'photo.jpg');
  writeFileSync(photo, 'read before the gallery is opened; never decoded here');
  const fresh = await runCli(['person', 'add', '--name', 'Ann', '--image', photo, '--gallery', join(dir, 'new.db'), '--key-file', absent]);
  assert.equal(fresh.code, 1, fresh.stderr);
  assert.equal(fresh.stderr, `FG_ERR_GALLERY_KEY_MISSING: no key for gallery ${join(dir, 'new.db')}: tried key file ${absent} — make it with 'facegate keys init --key-file ${absent}', or check the path\n`);
  assert.equal(existsSync(join(dir, 'new.db')), false, 'no gallery made without a key');

  const key = join(dir, 'gallery.key');
  createKeyFile(await loadSodium(), key);
  (await Gallery.open({ path: join(dir, 'made.db'), keys: keyOptions(key), logger: memoryLogger().logger, create: true })).close();
  const made = await runCli(['person', 'list', '--gallery', join(dir, 'made.db'), '--key-file', absent]);
  assert.equal(made.code, 1, made.stderr);
  assert.match(made.stderr, /^FG_ERR_GALLERY_KEY_MISSING: no key for gallery .*made\.db: tried key file .*absent\.key — give the key this gallery was made with; nothing was changed\n$/);
  assert.equal(existsSync(absent), false);
});
