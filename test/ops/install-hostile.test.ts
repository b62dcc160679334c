// install.sh against what a hostile party can put in its way. The daemon's user owns the state
// folder, so a compromised daemon can plant symbolic links there for root's upgrade to follow.
// Each runs the shipped scripts/install.sh under --prefix with --no-system on a release that runs
// here: its Node is this one, its dist/ and node_modules this checkout's (links: only their being
// there and loading matters to install.sh).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { arch, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { SQLITE_PACKAGE } from '../../daemon/store/sqlite.js';

const ROOT = resolve('.');
const CPU = arch() === 'arm64' ? 'arm64' : 'x64';

interface Work {
  dir: string;
  prefix: string;
  state: string;
  current(): string;
}

function work(t: { after(fn: () => void): void }): Work {
  const dir = mkdtempSync(join(tmpdir(), 'fg-install-hostile-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const prefix = join(dir, 'box');
  return { dir, prefix, state: join(prefix, 'var/lib/facegate'), current: () => readlinkSync(join(prefix, 'opt/facegate/current')) };
}

/** A release folder as scripts/release.sh stages one, whose parts run on this machine. */
function runnableRelease(w: Work, build: string): string {
  const id = `0.1.0-${build}`;
  const dir = join(w.dir, `facegate-${id}-linux-${CPU}`);
  mkdirSync(join(dir, 'node/bin'), { recursive: true });
  symlinkSync(process.execPath, join(dir, 'node/bin/node'));
  symlinkSync(join(ROOT, 'dist'), join(dir, 'dist'));
  // install.sh loads each native module by its name from the release; on a Node older than the
  // pinned one this checkout's SQLite binding is the alias daemon/store/sqlite.ts picks.
  mkdirSync(join(dir, 'node_modules'));
  for (const name of readdirSync(join(ROOT, 'node_modules'))) symlinkSync(join(ROOT, 'node_modules', name), join(dir, 'node_modules', name));
  if (SQLITE_PACKAGE !== 'better-sqlite3') symlinkSync(join(ROOT, 'node_modules', SQLITE_PACKAGE), join(dir, 'node_modules/better-sqlite3'));
  cpSync(join(ROOT, 'config'), join(dir, 'config'), { recursive: true });
  cpSync(join(ROOT, 'systemd'), join(dir, 'systemd'), { recursive: true });
  cpSync(join(ROOT, 'scripts/install.sh'), join(dir, 'install.sh'));
  const release = { name: 'facegate', version: '0.1.0', build, id, node: process.version, platform: `linux-${CPU}`, schema: '1' };
  writeFileSync(join(dir, 'RELEASE'), Object.entries(release).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  return dir;
}

function install(w: Work, release: string, args: string[] = []) {
  const r = spawnSync('bash', [join(release, 'install.sh'), '--prefix', w.prefix, '--no-system', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: (r.stdout ?? '') + (r.stderr ?? '') };
}

/** A folder and a file of root's, with a mode and bytes the test checks were left alone. */
function rootsOwn(w: Work) {
  const folder = join(w.dir, 'etc-of-root');
  mkdirSync(folder);
  chmodSync(folder, 0o755);
  writeFileSync(join(folder, 'shadow'), 'root:*:19000:0:99999:7:::\n');
  chmodSync(join(folder, 'shadow'), 0o640);
  return {
    folder,
    file: join(folder, 'shadow'),
    untouched(what: string) {
      assert.equal(statSync(folder).mode & 0o777, 0o755, `${what}: root's folder kept its mode`);
      assert.deepEqual(readdirSync(folder), ['shadow'], `${what}: nothing was written into root's folder`);
      assert.equal(readFileSync(join(folder, 'shadow'), 'utf8'), 'root:*:19000:0:99999:7:::\n', `${what}: root's file kept its bytes`);
      assert.equal(statSync(join(folder, 'shadow')).mode & 0o777, 0o640, `${what}: root's file kept its mode`);
    },
  };
}

test('upgrade: a link the daemon planted in its folder (the backups folder, the copy, the state file, its -wal) is refused before anything changes, and what it points to is left as it was', { timeout: 300_000 }, (t) => {
  const w = work(t);
  const a = runnableRelease(w, 'a');
  const b = runnableRelease(w, 'b');
  const first = install(w, a);
  assert.equal(first.code, 0, first.out);
  const db = join(w.state, 'facegate.db');
  writeFileSync(db, 'the state file');
  const target = rootsOwn(w);

  const plants: [string, string][] = [
    [join(w.state, 'backups'), target.folder],
    [join(w.state, 'backups/facegate.db.before-0.1.0-b'), target.file],
    [`${db}-wal`, target.file],
    [`${db}-shm`, target.file],
  ];
  for (const [link, to] of plants) {
    if (link.includes('/backups/')) mkdirSync(join(w.state, 'backups'), { recursive: true });
    symlinkSync(to, link);
    const r = install(w, b);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, new RegExp(`^error: FG_ERR_STATE_SYMLINK: ${link.replace(/[.+]/g, '\\$&')} is a symbolic link`, 'm'));
    assert.match(r.out, /^fix: {3}nothing more was changed; .*remove it/m);
    target.untouched(`a link at ${link}`);
    assert.equal(w.current(), 'releases/0.1.0-a', 'the upgrade stopped before the switch');
    rmSync(link);
  }

  // With the links gone, the upgrade keeps its copy as a file of its own.
  const upgraded = install(w, b);
  assert.equal(upgraded.code, 0, upgraded.out);
  assert.equal(w.current(), 'releases/0.1.0-b');
  const copy = join(w.state, 'backups/facegate.db.before-0.1.0-b');
  assert.ok(lstatSync(copy).isFile());
  assert.equal(readFileSync(copy, 'utf8'), 'the state file');
  target.untouched('the upgrade');
  assert.ok(!existsSync(join(w.prefix, 'etc-of-root')));
});
