import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
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
 * A checkout to install from: built code and config copied, node_modules hard-linked where the
 * temporary folder is on the same file system (the checkout's 460 MB, devDependencies included,
 * are not copied for a test; install.sh copies the runtime ones out of them), models linked. Not
 * a link to node_modules: through one, `npm ls --omit=dev` counts every package as a runtime one.
 */
function checkout(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fg-src-'));
  for (const item of ['package.json', 'package-lock.json', '.npmrc', 'dist', 'config', 'systemd', 'scripts']) cpSync(join(ROOT, item), join(dir, item), { recursive: true });
  const modules = realpathSync(join(ROOT, 'node_modules'));
  if (spawnSync('cp', ['-al', modules, join(dir, 'node_modules')]).status !== 0) cpSync(modules, join(dir, 'node_modules'), { recursive: true, verbatimSymlinks: true });
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

/** Every package folder under `root`/node_modules, nested ones included, as package-lock.json names them. */
function packagePaths(root: string): string[] {
  const paths: string[] = [];
  const walk = (rel: string) => {
    for (const entry of readdirSync(join(root, rel), { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name === '.bin') continue;
      const path = `${rel}/${entry.name}`;
      if (entry.name.startsWith('@')) walk(path);
      else {
        paths.push(path);
        if (existsSync(join(root, path, 'node_modules'))) walk(`${path}/node_modules`);
      }
    }
  };
  walk('node_modules');
  return paths;
}

/** Bytes under a folder, links not followed. */
function sizeOf(path: string): number {
  const s = lstatSync(path);
  if (!s.isDirectory()) return s.size;
  return readdirSync(path).reduce((sum, name) => sum + sizeOf(join(path, name)), 0);
}

test('install.sh is idempotent: the second run and a dry run after it change nothing, keys are kept', { skip, timeout: 300_000 }, (t) => {
  const src = checkout();
  t.after(() => rmSync(src, { recursive: true, force: true }));
  const prefix = mkdtempSync(join(tmpdir(), 'fg-root-'));
  t.after(() => rmSync(prefix, { recursive: true, force: true }));
  mkdirSync(join(prefix, 'etc'), { recursive: true });
  const script = join(src, 'scripts/install.sh');
  // The machine's Node stands in for the pinned one (fetching that is the registry's traffic).
  const args = ['--prefix', prefix, '--no-system', '--node', process.execPath];

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

  // Only runtime dependencies reached /opt: none of the devDependencies (TypeScript, ESLint, the
  // test broker, the demo photos), and every runtime one loads, since the CLI imports them all.
  const app = join(prefix, 'opt/facegate');
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string>; devDependencies: Record<string, string> };
  // npm marks `dev` what only devDependencies need (@types/node, say, is also a runtime one's).
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  const installed = packagePaths(app);
  assert.deepEqual(installed.filter((path) => lock.packages[path]?.dev === true), [], 'a devDependency reached the install');
  assert.deepEqual(installed.filter((path) => !lock.packages[path]), [], 'a package the lock file does not know');
  for (const name of ['typescript', 'eslint', 'tsx', 'aedes', 'fast-check', '@vladmandic/face-api']) assert.ok(!installed.includes(`node_modules/${name}`), name);
  assert.deepEqual(Object.keys(manifest.dependencies).filter((name) => !installed.includes(`node_modules/${name}`)), [], 'a runtime dependency is missing');
  const bin = join(prefix, 'usr/local/bin/facegate');
  assert.equal(readFileSync(bin, 'utf8'), `#!/bin/sh\nexec ${join(app, 'node/bin/node')} ${join(app, 'dist/daemon/cli/main.js')} "$@"\n`);
  assert.equal(spawnSync(join(app, 'node/bin/node'), ['--version'], { encoding: 'utf8' }).stdout.trim(), process.version);
  const version = spawnSync(bin, ['--version'], { encoding: 'utf8', cwd: tmpdir() });
  assert.equal(version.stdout, `facegate ${manifest.version}\n`, version.stderr);
  const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);
  console.log(`# install size: ${mb(sizeOf(app))} MB in opt/facegate, of which node_modules ${mb(sizeOf(join(app, 'node_modules')))} MB (${installed.length} packages); the checkout's node_modules: ${mb(sizeOf(join(ROOT, 'node_modules/')))} MB`);

  const second = install(script, args);
  assert.equal(second.code, 0, second.out);
  assert.match(second.out, /done: 0 step\(s\) changed this box/, second.out);
  assert.match(second.out, /keys exist .* \(never overwritten\)/);
  const again = install(script, [...args, '--dry-run']);
  assert.match(again.out, /dry run: 0 step\(s\) would change this box/, again.out);
  assert.deepEqual([sha(join(etc, 'gallery.key')), sha(join(etc, 'device.key'))], keys);
});

test('install.sh --app-only lays out /opt/facegate and its launcher only: no config, keys or unit (what the image takes)', { skip, timeout: 300_000 }, (t) => {
  const src = checkout();
  t.after(() => rmSync(src, { recursive: true, force: true }));
  const prefix = mkdtempSync(join(tmpdir(), 'fg-root-'));
  t.after(() => rmSync(prefix, { recursive: true, force: true }));
  const r = install(join(src, 'scripts/install.sh'), ['--prefix', prefix, '--no-system', '--app-only', '--node', process.execPath]);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /--app-only: no config, keys or unit/);
  assert.deepEqual(readdirSync(prefix).sort(), ['opt', 'usr']);
  assert.ok(existsSync(join(prefix, 'opt/facegate/node/bin/node')));
});

test('install.sh stops with the fix when the native modules do not load on the Node it installs (a checkout built with another Node)', { skip, timeout: 300_000 }, (t) => {
  const src = checkout();
  t.after(() => rmSync(src, { recursive: true, force: true }));
  const prefix = mkdtempSync(join(tmpdir(), 'fg-root-'));
  t.after(() => rmSync(prefix, { recursive: true, force: true }));
  // A node of another ABI, as far as install.sh can tell: it runs, and no native module loads in it.
  const other = join(prefix, 'other-node');
  writeFileSync(other, '#!/bin/sh\n[ "$1" = --version ] && { echo v99.0.0; exit 0; }\necho "NODE_MODULE_VERSION mismatch" >&2; exit 1\n', { mode: 0o755 });
  const r = install(join(src, 'scripts/install.sh'), ['--prefix', prefix, '--no-system', '--node', other]);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /error: the native modules in .*node_modules do not load on Node v99\.0\.0/);
  assert.match(r.out, /fix: {3}build the checkout with the pinned Node: 'scripts\/pinned-checkout\.sh DIR'/);
  assert.ok(!existsSync(join(prefix, 'etc/facegate/gallery.key')), 'no keys made after the failure');
});

test('install.sh refuses an unbuilt checkout with the fix', () => {
  const src = mkdtempSync(join(tmpdir(), 'fg-unbuilt-'));
  cpSync(join(ROOT, 'scripts'), join(src, 'scripts'), { recursive: true });
  const r = install(join(src, 'scripts/install.sh'), ['--dry-run']);
  assert.equal(r.code, 1);
  assert.match(r.out, /error: .*dist is missing/);
  assert.match(r.out, /fix: {3}run 'npm ci'/);
});

test('install.sh --help prints its header comment and nothing of the script', () => {
  const r = install('scripts/install.sh', ['--help']);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /^Provisions a Debian\/Ubuntu edge box/);
  assert.match(r.out, /--dry-run {8}print every step/);
  assert.doesNotMatch(r.out, /set -euo|^#/m);
});
