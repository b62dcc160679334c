import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';

const ROOT = resolve('.');
const built = existsSync(join(ROOT, 'dist/daemon/cli/main.js'));
const skip = built ? false : 'needs a built checkout (npm run build)';

function install(script: string, args: string[]) {
  const r = spawnSync('bash', [script, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout + r.stderr };
}

/**
 * A checkout to install from: built code and config copied, node_modules and models linked (the
 * real 470 MB are not copied for a test).
 */
function checkout(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fg-src-'));
  for (const item of ['package.json', 'dist', 'config', 'systemd', 'scripts']) cpSync(join(ROOT, item), join(dir, item), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  symlinkSync(join(ROOT, 'models'), join(dir, 'models'));
  return dir;
}

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

test('install.sh --dry-run prints every step on this box and changes nothing', { skip }, () => {
  const before = existsSync('/etc/facegate');
  const r = install('scripts/install.sh', ['--dry-run']);
  assert.equal(r.code, 0, r.out);
  for (const what of [/facegate\.example\.yaml|config\.yaml kept/, /unit .*facegate\.service/, /keys|gallery key/, /group facegate/]) assert.match(r.out, what);
  assert.match(r.out, /dry run: \d+ step\(s\) would change this box; nothing was changed/);
  assert.doesNotMatch(r.out, /^doing:/m);
  assert.equal(existsSync('/etc/facegate'), before, 'a dry run creates nothing');
});

test('install.sh is idempotent: the second run and a dry run after it change nothing, keys are kept', { skip, timeout: 60_000 }, () => {
  const src = checkout();
  const prefix = mkdtempSync(join(tmpdir(), 'fg-root-'));
  mkdirSync(join(prefix, 'etc'), { recursive: true });
  const script = join(src, 'scripts/install.sh');
  const args = ['--prefix', prefix, '--no-system'];

  const dry = install(script, [...args, '--dry-run']);
  assert.equal(dry.code, 0, dry.out);
  assert.match(dry.out, /would: copy facegate/);
  assert.equal(existsSync(join(prefix, 'opt/facegate')), false);

  const first = install(script, args);
  assert.equal(first.code, 0, first.out);
  assert.match(first.out, /done: [1-9]\d* step\(s\) changed this box/);
  const etc = join(prefix, 'etc/facegate');
  assert.equal(statSync(join(etc, 'gallery.key')).mode & 0o777, 0o600);
  assert.equal(statSync(join(etc, 'device.key')).mode & 0o777, 0o600);
  assert.equal(statSync(etc).mode & 0o777, 0o750);
  assert.ok(existsSync(join(prefix, 'etc/systemd/system/facegate.service')));
  assert.equal(readFileSync(join(etc, 'config.yaml'), 'utf8'), readFileSync(join(ROOT, 'config/facegate.example.yaml'), 'utf8'));
  const keys = [sha(join(etc, 'gallery.key')), sha(join(etc, 'device.key'))];

  const second = install(script, args);
  assert.equal(second.code, 0, second.out);
  assert.match(second.out, /done: 0 step\(s\) changed this box/, second.out);
  assert.match(second.out, /keys exist .* \(never overwritten\)/);
  const again = install(script, [...args, '--dry-run']);
  assert.match(again.out, /dry run: 0 step\(s\) would change this box/, again.out);
  assert.deepEqual([sha(join(etc, 'gallery.key')), sha(join(etc, 'device.key'))], keys);
});

test('install.sh refuses an unbuilt checkout with the fix', () => {
  const src = mkdtempSync(join(tmpdir(), 'fg-unbuilt-'));
  cpSync(join(ROOT, 'scripts'), join(src, 'scripts'), { recursive: true });
  const r = install(join(src, 'scripts/install.sh'), ['--dry-run']);
  assert.equal(r.code, 1);
  assert.match(r.out, /error: .*dist is missing/);
  assert.match(r.out, /fix: {3}run 'npm ci'/);
});
