import '../support/fast-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createKeyFile, findKek, readKeyFile, replacementKeyFile } from '../../daemon/gallery/key-source.js';
import { loadSodium } from '../../daemon/gallery/sodium.js';
import { FacegateError } from '../../daemon/base/errors.js';
import { galleryConfig, tempDir } from './helpers.js';

const code = (c: string) => (e: unknown) => e instanceof FacegateError && e.code === c;

test('keys init makes a 0600 key file and never overwrites one', async (t) => {
  const sodium = await loadSodium();
  const d = tempDir(t);
  const path = d.path('gallery.key');
  const kek = createKeyFile(sodium, path);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.equal(kek.kind, 'key');
  const before = readFileSync(path);
  assert.throws(() => createKeyFile(sodium, path), code('FG_ERR_KEY_EXISTS'));
  assert.deepEqual(readFileSync(path), before);
  const again = readKeyFile(path, 'key file');
  assert.deepEqual(again.kind === 'key' && again.key, kek.kind === 'key' && kek.key);
});

test('a key file readable by others is refused', async (t) => {
  const sodium = await loadSodium();
  const d = tempDir(t);
  const path = d.path('k');
  createKeyFile(sodium, path);
  chmodSync(path, 0o644);
  assert.throws(() => readKeyFile(path, 'key file'), code('FG_ERR_KEY_FILE_MODE'));
});

test('a file that holds no key is refused with its path', (t) => {
  const d = tempDir(t);
  const path = d.path('k');
  writeFileSync(path, 'hello', { mode: 0o600 });
  assert.throws(() => readKeyFile(path, 'key file'), code('FG_ERR_KEY_FORMAT'));
});

test('key sources are tried in the documented order: --key-file, credential, key file, passphrase', async (t) => {
  const sodium = await loadSodium();
  const d = tempDir(t);
  const credDir = d.path('');
  const credential = d.path('facegate-gallery-key');
  writeFileSync(credential, sodium.randombytes_buf(32));
  const keyFile = d.path('gallery.key');
  createKeyFile(sodium, keyFile);
  const override = d.path('other.key');
  createKeyFile(sodium, override);
  const gallery = galleryConfig({ key_file: keyFile });
  const env = { CREDENTIALS_DIRECTORY: credDir, FACEGATE_PASSPHRASE: 'correct horse' };

  assert.match(findKek({ gallery, env, keyFileOverride: override })!.origin, /other\.key/);
  assert.match(findKek({ gallery, env })!.origin, /systemd credential/);
  assert.match(findKek({ gallery, env: { FACEGATE_PASSPHRASE: 'x' } })!.origin, /key file .*gallery\.key/);
  const pass = findKek({ gallery: galleryConfig({ key_file: d.path('absent') }), env: { FACEGATE_PASSPHRASE: 'x' } });
  assert.equal(pass?.kind, 'passphrase');
  assert.equal(findKek({ gallery: galleryConfig({ key_file: d.path('absent') }), env: {} }), undefined);
});

test('a replacement key is made beside the key file and only replaces it on install', async (t) => {
  const sodium = await loadSodium();
  const d = tempDir(t);
  const path = d.path('gallery.key');
  createKeyFile(sodium, path);
  const old = readFileSync(path);
  const first = replacementKeyFile(sodium, path);
  assert.deepEqual(readFileSync(path), old);
  // An interrupted rotation is resumed with the same new key, not a third one.
  const second = replacementKeyFile(sodium, path);
  assert.deepEqual(first.kek.kind === 'key' && first.kek.key, second.kek.kind === 'key' && second.kek.key);
  second.install();
  assert.notDeepEqual(readFileSync(path), old);
  assert.equal(statSync(path).mode & 0o777, 0o600);
});
