// install.sh's checks that stop it before it changes anything, each with its code and fix. The
// install itself, upgrades, rollbacks and uninstall run from a real release in release.test.ts
// (under --prefix) and release-rootfs.test.ts (stock Debian root file systems); signed tarballs,
// hostile ones and hostile arguments in install-hostile.test.ts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { arch, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';

const ROOT = resolve('.');
const CPU = arch() === 'arm64' ? 'arm64' : 'x64';

function install(script: string, args: string[]) {
  const r = spawnSync('bash', [script, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout + r.stderr };
}

/** A folder that looks like an unpacked release: RELEASE, install.sh, and a `node` that answers `version`. */
function fakeRelease(t: { after(fn: () => void): void }, fields: Record<string, string>, nodeAnswers = 'v24.21.0'): string {
  const dir = mkdtempSync(join(tmpdir(), 'fg-fake-release-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const release = { name: 'facegate', version: '0.1.0', build: 'test', id: '0.1.0-test', node: 'v24.21.0', platform: `linux-${CPU}`, schema: '11', ...fields };
  writeFileSync(join(dir, 'RELEASE'), Object.entries(release).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  cpSync(join(ROOT, 'scripts/install.sh'), join(dir, 'install.sh'));
  mkdirSync(join(dir, 'node/bin'), { recursive: true });
  writeFileSync(join(dir, 'node/bin/node'), `#!/bin/sh\n[ "$1" = --version ] && { echo ${nodeAnswers}; exit 0; }\necho "cannot load better-sqlite3" >&2; exit 1\n`, { mode: 0o755 });
  return dir;
}

function refused(t: { after(fn: () => void): void }, release: string, code: string, fix: RegExp): void {
  const prefix = mkdtempSync(join(tmpdir(), 'fg-root-'));
  t.after(() => rmSync(prefix, { recursive: true, force: true }));
  // --allow-unsigned: a folder made here; the checks below come after where it came from.
  const r = install(join(release, 'install.sh'), ['--prefix', prefix, '--no-system', '--allow-unsigned']);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, new RegExp(`^error: ${code}: `, 'm'));
  assert.match(r.out, fix);
  // Stopped before any change: nothing installed, no keys made.
  assert.deepEqual(readdirSync(prefix).filter((name) => name !== 'var'), [], r.out);
  assert.ok(!existsSync(join(prefix, 'opt/facegate')));
}

test('install.sh refuses a RELEASE without a valid id (FG_ERR_RELEASE_INVALID)', (t) => {
  refused(t, fakeRelease(t, { id: '../../etc' }), 'FG_ERR_RELEASE_INVALID', /fix: {3}use a release made by scripts\/release\.sh/);
});

test('install.sh refuses a release for another CPU (FG_ERR_RELEASE_PLATFORM)', (t) => {
  refused(t, fakeRelease(t, { platform: 'linux-riscv64' }), 'FG_ERR_RELEASE_PLATFORM', /fix: {3}download the release for linux-/);
});

test("install.sh refuses a release whose Node does not run here, or whose native modules do not load (FG_ERR_RELEASE_NODE)", (t) => {
  refused(t, fakeRelease(t, {}, ''), 'FG_ERR_RELEASE_NODE', /does not run on this box \(it answered: nothing\)[\s\S]*fix: {3}check the C library/);
  refused(t, fakeRelease(t, {}), 'FG_ERR_RELEASE_NODE', /native modules of release 0\.1\.0-test do not load[\s\S]*fix: {3}the release is damaged/);
});

test('install.sh refuses a folder that is neither a release nor a checkout (FG_ERR_RELEASE_INVALID)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-neither-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(join(ROOT, 'scripts/install.sh'), join(dir, 'install.sh'));
  const r = install(join(dir, 'install.sh'), ['--dry-run']);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /^error: FG_ERR_RELEASE_INVALID: .* holds neither a release/m);
});

test('install.sh from a checkout: --dry-run says it builds the release with the pinned Node first, and changes nothing; a build of the checkout is unsigned, so only with --allow-unsigned', () => {
  const r = install(join(ROOT, 'scripts/install.sh'), ['--dry-run', '--allow-unsigned']);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /^would: build the release with the pinned Node \(scripts\/release\.sh --dir-only\), then run its install\.sh --dry-run --allow-unsigned/m);
  assert.match(r.out, /nothing was changed/);
  const unsigned = install(join(ROOT, 'scripts/install.sh'), ['--dry-run']);
  assert.equal(unsigned.code, 1, unsigned.out);
  assert.match(unsigned.out, /^error: FG_ERR_RELEASE_UNSIGNED: a release built from this checkout is not signed\nfix: {3}add --allow-unsigned/m);
});

test('install.sh given a tarball: without minisign (FG_ERR_RELEASE_VERIFY_TOOL) or a public key to check it with (FG_ERR_RELEASE_PUBKEY), refused before it is read', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-no-key-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // install.sh alone, with no facegate-release.pub beside it, as one downloaded beside a release.
  cpSync(join(ROOT, 'scripts/install.sh'), join(dir, 'install.sh'));
  const tarball = join(dir, `facegate-0.1.0-test-linux-${CPU}.tar.gz`);
  writeFileSync(tarball, 'not read');
  const prefix = join(dir, 'box');
  const noKey = install(join(dir, 'install.sh'), [tarball, '--prefix', prefix, '--no-system']);
  assert.equal(noKey.code, 1, noKey.out);
  assert.match(noKey.out, /^error: FG_ERR_RELEASE_PUBKEY: no public key to check the release's signature with\nfix: {3}give --pubkey FILE/m);
  // A PATH with what install.sh runs before the check, and no minisign.
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  for (const tool of ['mkdir', 'basename', 'dirname', 'stat', 'mktemp', 'cp', 'rm']) {
    const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    symlinkSync(found, join(bin, tool));
  }
  const r = spawnSync('/bin/bash', [join(dir, 'install.sh'), tarball, '--prefix', prefix, '--no-system'], { encoding: 'utf8', env: { PATH: bin } });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /^error: FG_ERR_RELEASE_VERIFY_TOOL: minisign is not installed.*\nfix: {3}apt-get install minisign/m);
  assert.ok(!existsSync(join(prefix, 'opt')));
});

test('install.sh refuses bad options with FG_ERR_USAGE', (t) => {
  const release = fakeRelease(t, {});
  for (const [args, what] of [
    [['--purge'], /--purge goes with --uninstall/],
    [['--keep', '1'], /--keep needs a number of releases of at least 2/],
    [['--start-timeout', 'soon'], /--start-timeout needs whole seconds/],
  ] as const) {
    const r = install(join(release, 'install.sh'), [...args, '--dry-run']);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /^error: FG_ERR_USAGE: /m);
    assert.match(r.out, what);
  }
  assert.equal(install(join(release, 'install.sh'), ['--bogus']).code, 2);
});

test('install.sh --help prints its header comment and nothing of the script', () => {
  const r = install('scripts/install.sh', ['--help']);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /^Installs facegate on a Debian box from a release/);
  assert.match(r.out, /--uninstall {25}remove the software/);
  assert.doesNotMatch(r.out, /set -euo|^#/m);
});
