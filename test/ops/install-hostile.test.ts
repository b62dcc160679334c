// install.sh against what a hostile party can put in its way, run as the shipped scripts/install.sh
// under --prefix with --no-system:
// - the daemon's user owns the state folder, so a compromised daemon can plant symbolic links
//   there for root's upgrade to follow;
// - a release tarball and its SHA256SUMS come over a network: cut short, changed, signed by
//   someone else, renamed, or holding entries that reach out of the release (`..`, absolute paths,
//   links out, devices, hard links, setuid files);
// - its arguments are typed, pasted and scripted: paths with spaces, `..` or newlines, options in
//   odd places or without their value.
// Each is refused with a non-zero exit and a coded message, and nothing outside the prefix is
// written. The releases here are made of regular files whose Node and code are this checkout's
// (a wrapper and two one-line modules), signed by a minisign key made for the test and packed by
// scripts/release.sh --pack, so that a good one installs for real.
import '../support/cli-tier.js';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { arch, tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { SQLITE_PACKAGE } from '../../daemon/store/sqlite.js';
import { FUZZ_SEED, fuzzParameters } from '../support/fuzz.js';

const ROOT = resolve('.');
const CPU = arch() === 'arm64' ? 'arm64' : 'x64';
const INSTALL = join(ROOT, 'scripts/install.sh');
const skip = spawnSync('sh', ['-c', 'command -v minisign']).status === 0 ? false : 'needs minisign (scripts/test-deps.sh installs it)';

interface Work {
  dir: string;
  prefix: string;
  state: string;
  /** TMPDIR of every install.sh run: what it unpacks goes there, and must be gone after. */
  tmp: string;
  pub: string;
  key: string;
  current(): string;
}

function must(cmd: string, args: string[], options: { cwd?: string } = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...options });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

function keypair(dir: string, name: string): { pub: string; key: string } {
  const pub = join(dir, `${name}.pub`);
  const key = join(dir, `${name}.key`);
  // -W: no password, as a throwaway key for a test may be; a real release key has one.
  must('minisign', ['-G', '-W', '-p', pub, '-s', key]);
  return { pub, key };
}

function work(t: { after(fn: () => void): void }): Work {
  const dir = mkdtempSync(join(tmpdir(), 'fg-install-hostile-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const prefix = join(dir, 'box');
  const tmp = join(dir, 'tmp');
  mkdirSync(tmp);
  // On a Node older than the pinned one this checkout's SQLite binding is the alias that
  // daemon/store/sqlite.ts picks; install.sh loads it by the name a release carries it under.
  mkdirSync(join(dir, 'node-path'));
  if (SQLITE_PACKAGE !== 'better-sqlite3') symlinkSync(join(ROOT, 'node_modules', SQLITE_PACKAGE), join(dir, 'node-path/better-sqlite3'));
  return { dir, prefix, tmp, state: join(prefix, 'var/lib/facegate'), ...keypair(dir, 'release'), current: () => readlinkSync(join(prefix, 'opt/facegate/current')) };
}

/**
 * A staged release of regular files only (a tarball of it passes install.sh's entry checks) that
 * runs here: its `node` a wrapper of this Node, its CLI and config loader this checkout's dist/.
 */
function stubRelease(w: Work, build: string, extra: Record<string, string> = {}): string {
  const id = `0.1.0-${build}`;
  const dir = join(w.dir, `out-${build}`, `facegate-${id}-linux-${CPU}`);
  mkdirSync(join(dir, 'node/bin'), { recursive: true });
  writeFileSync(join(dir, 'node/bin/node'), `#!/bin/sh\nNODE_PATH='${w.dir}/node-path:${ROOT}/node_modules' exec '${process.execPath}' "$@"\n`, { mode: 0o755 });
  mkdirSync(join(dir, 'dist/daemon/cli'), { recursive: true });
  mkdirSync(join(dir, 'dist/daemon/config'), { recursive: true });
  writeFileSync(join(dir, 'dist/daemon/cli/main.js'), `import ${JSON.stringify(pathToFileURL(join(ROOT, 'dist/daemon/cli/main.js')).href)};\n`);
  writeFileSync(join(dir, 'dist/daemon/config/load.js'), `export * from ${JSON.stringify(pathToFileURL(join(ROOT, 'dist/daemon/config/load.js')).href)};\n`);
  cpSync(join(ROOT, 'config'), join(dir, 'config'), { recursive: true });
  cpSync(join(ROOT, 'systemd'), join(dir, 'systemd'), { recursive: true });
  cpSync(INSTALL, join(dir, 'install.sh'));
  const release = { name: 'facegate', version: '0.1.0', build, id, node: process.version, platform: `linux-${CPU}`, schema: '1' };
  writeFileSync(join(dir, 'RELEASE'), Object.entries(release).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  for (const [path, text] of Object.entries(extra)) writeFileSync(join(dir, path), text);
  return dir;
}

/** The tarball, SHA256SUMS (signed with `key`) and install.sh beside it, as scripts/release.sh makes them. */
function pack(w: Work, release: string, key: { key?: string; pub?: string } = w): string {
  const args = ['--pack', release, ...(key.key ? ['--key', key.key] : []), ...(key.pub ? ['--pubkey', key.pub] : [])];
  must('bash', [join(ROOT, 'scripts/release.sh'), ...args], { cwd: ROOT });
  return `${release}.tar.gz`;
}

function run(w: Work, script: string, args: string[]) {
  const r = spawnSync('bash', [script, ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, TMPDIR: w.tmp } });
  return { code: r.status, out: (r.stdout ?? '') + (r.stderr ?? '') };
}
const box = (w: Work) => ['--prefix', w.prefix, '--no-system'];

/** Every path under `dir` (but `skip`) with its kind, size and mode: what a run must not change. */
function snapshot(dir: string, skip: string[]): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name);
      if (skip.includes(path)) continue;
      const st = lstatSync(path);
      out.push(`${relative(dir, path)} ${st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'dir' : 'file'} ${st.size} ${(st.mode & 0o7777).toString(8)}`);
      if (st.isDirectory()) walk(path);
    }
  };
  walk(dir);
  return out;
}

/** Refused as install.sh refuses: a non-zero exit, `error: CODE: …` and `fix: …`, no shell error of its own. */
function assertRefused(r: { code: number | null; out: string }, code: RegExp | string, what: string): void {
  assert.ok(r.code === 1 || r.code === 2, `${what}: exit ${r.code}\n${r.out}`);
  const codeText = typeof code === 'string' ? code : code.source;
  assert.match(r.out, new RegExp(`^error: ${codeText}: \\S`, 'm'), `${what}\n${r.out}`);
  assert.match(r.out, /^fix: {3}\S/m, `${what}\n${r.out}`);
  assert.doesNotMatch(r.out, /install\.sh: line \d+|unbound variable|command not found|syntax error/, `${what}\n${r.out}`);
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

test('upgrade: a link the daemon planted in its folder (the backups folder, the copy, the state file, its -wal and -shm) is refused before anything changes, and what it points to is left as it was', { skip, timeout: 300_000 }, (t) => {
  const w = work(t);
  const a = pack(w, stubRelease(w, 'a'));
  const b = pack(w, stubRelease(w, 'b'));
  const first = run(w, INSTALL, [a, '--pubkey', w.pub, ...box(w)]);
  assert.equal(first.code, 0, first.out);
  const db = join(w.state, 'facegate.db');
  writeFileSync(db, 'the state file');
  const target = rootsOwn(w);
  // The upgrade as a box runs it: the installed release's install.sh, with the key it carries.
  const upgrade = () => run(w, join(w.prefix, 'opt/facegate/current/install.sh'), [b, ...box(w)]);

  const plants: [string, string][] = [
    [join(w.state, 'backups'), target.folder],
    [join(w.state, 'backups/facegate.db.before-0.1.0-b'), target.file],
    [`${db}-wal`, target.file],
    [`${db}-shm`, target.file],
  ];
  for (const [link, to] of plants) {
    if (link.includes('/backups/')) mkdirSync(join(w.state, 'backups'), { recursive: true });
    symlinkSync(to, link);
    const r = upgrade();
    assertRefused(r, 'FG_ERR_STATE_SYMLINK', link);
    assert.ok(r.out.includes(`error: FG_ERR_STATE_SYMLINK: ${link} is a symbolic link`), r.out);
    target.untouched(`a link at ${link}`);
    assert.equal(w.current(), 'releases/0.1.0-a', 'the upgrade stopped before the switch');
    rmSync(link);
  }

  // With the links gone, the upgrade keeps its copy as a file of its own.
  const upgraded = upgrade();
  assert.equal(upgraded.code, 0, upgraded.out);
  assert.equal(w.current(), 'releases/0.1.0-b');
  const copy = join(w.state, 'backups/facegate.db.before-0.1.0-b');
  assert.ok(lstatSync(copy).isFile());
  assert.equal(readFileSync(copy, 'utf8'), 'the state file');
  target.untouched('the upgrade');
  assert.deepEqual(readdirSync(w.tmp), [], 'the unpacked tarballs are gone');
});

test('a signed release installs from its tarball; another build under an installed id is refused (FG_ERR_RELEASE_ID_TAKEN); a release folder, unsigned, only with --allow-unsigned', { skip, timeout: 300_000 }, (t) => {
  const w = work(t);
  const release = stubRelease(w, 'a');
  const tarball = pack(w, release);
  assert.ok(existsSync(join(dirname(tarball), 'SHA256SUMS.minisig')) && existsSync(join(dirname(tarball), 'install.sh')));
  // A first install, as a site makes it: the install.sh beside the tarball, with the key it trusts.
  const first = run(w, join(dirname(tarball), 'install.sh'), [tarball, '--pubkey', w.pub, ...box(w)]);
  assert.equal(first.code, 0, first.out);
  assert.match(first.out, new RegExp(`^ok: {4}release 0\\.1\\.0-a from ${basename(tarball).replace(/[.+]/g, '\\$&')}, signed: SHA256SUMS verified`, 'm'));
  assert.equal(w.current(), 'releases/0.1.0-a');
  assert.equal(readFileSync(join(w.prefix, 'opt/facegate/current/facegate-release.pub'), 'utf8'), readFileSync(w.pub, 'utf8'), 'the release carries its key');
  // Again: the same bytes change nothing.
  const again = run(w, join(w.prefix, 'opt/facegate/current/install.sh'), [tarball, ...box(w)]);
  assert.equal(again.code, 0, again.out);
  assert.match(again.out, /done: 0 step\(s\) changed this box/);

  // Another build under the same id, signed as well: refused, the installed copy kept.
  const installed = snapshot(join(w.prefix, 'opt/facegate/releases/0.1.0-a'), []);
  const other = join(w.dir, 'other');
  mkdirSync(other);
  cpSync(release, join(other, basename(release)), { recursive: true });
  writeFileSync(join(other, basename(release), 'dist/daemon/cli/main.js'), 'process.exit(70);\n');
  const clash = run(w, join(w.prefix, 'opt/facegate/current/install.sh'), [pack(w, join(other, basename(release))), ...box(w)]);
  assertRefused(clash, 'FG_ERR_RELEASE_ID_TAKEN', 'another build under an installed id');
  assert.deepEqual(snapshot(join(w.prefix, 'opt/facegate/releases/0.1.0-a'), []), installed);
  assert.equal(readFileSync(join(w.prefix, 'opt/facegate/releases/0.1.0-a/dist/daemon/cli/main.js'), 'utf8').startsWith('import '), true);

  // A release folder no signature covers: refused, unless the operator says it is theirs.
  const folder = stubRelease(w, 'b');
  assertRefused(run(w, join(folder, 'install.sh'), box(w)), 'FG_ERR_RELEASE_UNSIGNED', 'an unpacked folder');
  assert.equal(w.current(), 'releases/0.1.0-a');
  const own = run(w, join(folder, 'install.sh'), [...box(w), '--allow-unsigned']);
  assert.equal(own.code, 0, own.out);
  assert.match(own.out, /^warn: {2}--allow-unsigned: release 0\.1\.0-b is installed from the folder/m);
  assert.deepEqual(readdirSync(w.tmp), []);
});

// --- damaged and hostile tarballs -----------------------------------------------------------------

interface Entry {
  name: string;
  type: '0' | '1' | '2' | '3' | '5' | '6';
  mode: number;
  body?: Buffer;
  link?: string;
}

/** A POSIX ustar archive, gzipped: whatever entries a hostile party writes, no tar program in the way. */
function ustar(entries: Entry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const h = Buffer.alloc(512);
    const put = (text: string, at: number, len: number) => {
      const bytes = Buffer.from(text, 'utf8');
      assert.ok(bytes.length <= len, `ustar field too long: ${text}`);
      bytes.copy(h, at);
    };
    const octal = (n: number, len: number) => n.toString(8).padStart(len - 1, '0') + '\0';
    const body = e.body ?? Buffer.alloc(0);
    put(e.name, 0, 100);
    put(octal(e.mode, 8), 100, 8);
    put(octal(0, 8), 108, 8);
    put(octal(0, 8), 116, 8);
    put(octal(body.length, 12), 124, 12);
    put(octal(0, 12), 136, 12);
    h.fill(' ', 148, 156);
    put(e.type, 156, 1);
    put(e.link ?? '', 157, 100);
    put('ustar\0', 257, 6);
    put('00', 263, 2);
    put('root', 265, 32);
    put('root', 297, 32);
    put(octal(e.type === '3' ? 1 : 0, 8), 329, 8);
    put(octal(e.type === '3' ? 3 : 0, 8), 337, 8);
    let sum = 0;
    for (const byte of h) sum += byte;
    put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
    blocks.push(h, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

/** The entries of a staged release folder, as tar would write them, under `top`. */
function entriesOf(folder: string, top = basename(folder)): Entry[] {
  const out: Entry[] = [{ name: `${top}/`, type: '5', mode: 0o755 }];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name);
      const st = lstatSync(path);
      const rel = `${top}/${relative(folder, path)}`;
      if (st.isDirectory()) {
        out.push({ name: `${rel}/`, type: '5', mode: st.mode & 0o777 });
        walk(path);
      } else {
        out.push({ name: rel, type: '0', mode: st.mode & 0o777, body: readFileSync(path) });
      }
    }
  };
  walk(folder);
  return out;
}

/** A folder with the tarball under `name` and a SHA256SUMS for it, signed with `key` (or none). */
function shipped(w: Work, name: string, bytes: Buffer, options: { key?: string; sums?: string } = {}): string {
  const dir = mkdtempSync(join(w.dir, 'shipped-'));
  writeFileSync(join(dir, name), bytes);
  writeFileSync(join(dir, 'SHA256SUMS'), options.sums ?? `${createHash('sha256').update(bytes).digest('hex')}  ${name}\n`);
  if (options.key) must('minisign', ['-S', '-s', options.key, '-m', join(dir, 'SHA256SUMS')]);
  return join(dir, name);
}

/** A seeded generator of numbers in [0, 1): the same damage on every run, another with FUZZ_SEED. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = Math.imul(s ^ (s >>> 15), 1 | s);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32;
  };
}

test(`damaged and hostile release tarballs are refused with a code before anything is unpacked or installed (seed ${FUZZ_SEED})`, { skip, timeout: 300_000 }, (t) => {
  const w = work(t);
  const outside = join(w.dir, 'outside');
  mkdirSync(outside);
  const release = stubRelease(w, 'a');
  const top = basename(release);
  const name = `${top}.tar.gz`;
  const clean = entriesOf(release);
  const good = ustar(clean);
  const random = prng(FUZZ_SEED);
  const other = keypair(w.dir, 'other');
  const signedSums = (bytes: Buffer) => `${createHash('sha256').update(bytes).digest('hex')}  ${name}\n`;
  const hostile = (...extra: Entry[]) => ustar([...clean, ...extra]);
  const file = (entryName: string, mode = 0o644): Entry => ({ name: entryName, type: '0', mode, body: Buffer.from('#!/bin/sh\necho owned\n') });

  // The archive writer itself makes a release install.sh takes: what follows is refused for the damage alone.
  const fine = run(w, INSTALL, [shipped(w, name, good, { key: w.key }), '--pubkey', w.pub, ...box(w)]);
  assert.equal(fine.code, 0, fine.out);
  rmSync(w.prefix, { recursive: true });

  const cutAt = 20 + Math.floor(random() * (good.length - 40));
  const flips = Array.from({ length: 4 }, () => 10 + Math.floor(random() * (good.length - 10)));
  const flipped = (at: number) => {
    const copy = Buffer.from(good);
    copy[at] = copy[at]! ^ (1 + Math.floor(random() * 255));
    return copy;
  };
  const otherId = stubRelease(w, 'b');
  const cases: [string, string[], string][] = [
    [`cut short at byte ${cutAt}`, [shipped(w, name, good.subarray(0, cutAt), { key: w.key, sums: signedSums(good) })], 'FG_ERR_RELEASE_CHECKSUM'],
    [`cut short at byte ${cutAt}, unsigned and no sums`, [rmSums(shipped(w, name, good.subarray(0, cutAt))), '--allow-unsigned'], 'FG_ERR_RELEASE_TARBALL'],
    ...flips.map((at): [string, string[], string] => [`a byte flipped at ${at}`, [shipped(w, name, flipped(at), { key: w.key, sums: signedSums(good) })], 'FG_ERR_RELEASE_CHECKSUM']),
    ...flips.map((at): [string, string[], string] => [`a byte flipped at ${at}, unsigned and no sums`, [rmSums(shipped(w, name, flipped(at))), '--allow-unsigned'], 'FG_ERR_RELEASE_TARBALL']),
    ['not gzip at all', [shipped(w, name, Buffer.from('MZ\0\0 not a tarball'), { key: w.key })], 'FG_ERR_RELEASE_TARBALL'],
    ['an empty file', [shipped(w, name, Buffer.alloc(0), { key: w.key })], 'FG_ERR_RELEASE_TARBALL'],
    ['an entry with ..', [shipped(w, name, hostile(file(`${top}/../../outside/evil`)), { key: w.key })], 'FG_ERR_RELEASE_TARBALL'],
    ['an entry with .. inside the release', [shipped(w, name, hostile(file(`${top}/dist/../RELEASE.2`)), { key: w.key })], 'FG_ERR_RELEASE_TARBALL'],
    ['an absolute path', [shipped(w, name, hostile(file(`${outside}/evil`)), { key: w.key })], 'FG_ERR_RELEASE_TARBALL'],
    ['an entry beside the release folder', [shipped(w, name, hostile(file('evil.sh')), { key: w.key })], 'FG_ERR_RELEASE_TARBALL'],
    ['a link to an absolute path', [shipped(w, name, hostile({ name: `${top}/lib`, type: '2', mode: 0o777, link: outside }), { key: w.key })], 'FG_ERR_RELEASE_TARBALL'],
    ['a link out with ..', [shipped(w, name, hostile({ name: `${top}/dist/up`, type: '2', mode: 0o777, link: '../../..' }), { key: w.key })], 'FG_ERR_RELEASE_TARBALL'],
    ['a link out, then a file written through it', [shipped(w, name, hostile({ name: `${top}/up`, type: '2', mode: 0o777, link: '../outside' }, file(`${top}/up/evil`)), { key: w.key })], 'FG_ERR_RELEASE_TARBALL'],
    ['a hard link', [shipped(w, name, hostile({ name: `${top}/hard`, type: '1', mode: 0o644, link: `${top}/RELEASE` }), { key: w.key })], 'FG_ERR_RELEASE_TARBALL'],
    ['a character device', [shipped(w, name, hostile({ name: `${top}/null`, type: '3', mode: 0o666 }), { key: w.key })], 'FG_ERR_RELEASE_TARBALL'],
    ['a FIFO', [shipped(w, name, hostile({ name: `${top}/fifo`, type: '6', mode: 0o644 }), { key: w.key })], 'FG_ERR_RELEASE_TARBALL'],
    ['a setuid file', [shipped(w, name, hostile(file(`${top}/node/bin/su`, 0o4755)), { key: w.key })], 'FG_ERR_RELEASE_TARBALL'],
    ['a name with a newline', [shipped(w, name, hostile(file(`${top}/evil\nname`)), { key: w.key })], 'FG_ERR_RELEASE_TARBALL'],
    ["another release's folder under this one's name", [shipped(w, name, ustar(entriesOf(otherId)), { key: w.key })], 'FG_ERR_RELEASE_TARBALL'],
    ["another release's RELEASE in this one's folder", [shipped(w, name, ustar(entriesOf(otherId, top)), { key: w.key })], 'FG_ERR_RELEASE_INVALID'],
    ["another release's tarball renamed as this one", [shipped(w, name, ustar(entriesOf(otherId)), { key: w.key, sums: `${createHash('sha256').update(ustar(entriesOf(otherId))).digest('hex')}  ${basename(otherId)}.tar.gz\n` })], 'FG_ERR_RELEASE_CHECKSUM'],
    ['a tarball not named as a release', [shipped(w, 'facegate-latest.tar.gz', good, { key: w.key })], 'FG_ERR_RELEASE_TARBALL'],
    ['SHA256SUMS changed after it was signed', [appendTo(shipped(w, name, good, { key: w.key }), `${'0'.repeat(64)}  extra.tar.gz\n`)], 'FG_ERR_RELEASE_SIGNATURE'],
    ['SHA256SUMS signed by another key', [shipped(w, name, good, { key: other.key })], 'FG_ERR_RELEASE_SIGNATURE'],
    ['a signature that is not one', [garble(shipped(w, name, good, { key: w.key }))], 'FG_ERR_RELEASE_SIGNATURE'],
    ['no signature', [shipped(w, name, good)], 'FG_ERR_RELEASE_UNSIGNED'],
    ['no SHA256SUMS', [rmSums(shipped(w, name, good))], 'FG_ERR_RELEASE_UNSIGNED'],
  ];
  const skipped = [w.prefix, w.tmp];
  const before = snapshot(w.dir, skipped);
  for (const [what, args, code] of cases) {
    const r = run(w, INSTALL, [...args, ...(args.includes('--allow-unsigned') ? [] : ['--pubkey', w.pub]), ...box(w)]);
    assertRefused(r, code, `${what} (seed ${FUZZ_SEED})`);
    assert.deepEqual(readdirSync(outside), [], `${what}: nothing written outside the release (seed ${FUZZ_SEED})`);
    assert.deepEqual(readdirSync(w.tmp), [], `${what}: nothing left unpacked (seed ${FUZZ_SEED})`);
    assert.ok(!existsSync(join(w.prefix, 'opt')) && !existsSync(join(w.prefix, 'etc')), `${what}: nothing installed (seed ${FUZZ_SEED})\n${r.out}`);
  }
  assert.deepEqual(snapshot(w.dir, skipped), before, 'nothing written outside the prefix');
});

function rmSums(tarball: string): string {
  rmSync(join(dirname(tarball), 'SHA256SUMS'));
  return tarball;
}
function appendTo(tarball: string, line: string): string {
  writeFileSync(join(dirname(tarball), 'SHA256SUMS'), readFileSync(join(dirname(tarball), 'SHA256SUMS'), 'utf8') + line);
  return tarball;
}
function garble(tarball: string): string {
  writeFileSync(join(dirname(tarball), 'SHA256SUMS.minisig'), 'untrusted comment: x\nRWQ\n\x1b[31mtrusted comment: y\nzz\n');
  return tarball;
}

// --- hostile arguments ---------------------------------------------------------------------------

test(`install.sh's arguments: paths with spaces, .. or newlines, options in odd places or without their value, each refused with a code and nothing written outside the prefix (seed ${FUZZ_SEED}, 150 cases)`, { skip, timeout: 300_000 }, (t) => {
  const w = work(t);
  const tarball = pack(w, stubRelease(w, 'a'));
  const fifo = join(w.dir, 'fifo');
  must('mkfifo', [fifo]);
  const notAKey = join(w.dir, 'not-a-key.pub');
  writeFileSync(notAKey, 'untrusted comment: none\nnot base64 at all\n');
  // Units that keep their order inside: an option and its value. The base invocation is a good one.
  const base: string[][] = [[tarball], ['--pubkey', w.pub], ['--prefix', w.prefix], ['--no-system']];
  const neutral: string[][] = [['--dry-run'], ['--keep', '3'], ['--start-timeout', '30'], ['--sums', join(dirname(tarball), 'SHA256SUMS')]];
  const hostilePath = fc.constantFrom(
    join(w.dir, 'with space', 'x'),
    join(w.dir, 'new\nline'),
    `${w.dir}/../escaped`,
    `${w.dir}/./x`,
    'relative/path',
    join(w.dir, 'hash#mark'),
    join(w.dir, 'amp&ersand'),
    join(w.dir, "quote'"),
    join(w.dir, '$(touch pwned)'),
    join(w.dir, '\x1b[31mred'),
  );
  // Each poison alone makes the invocation wrong; with the base it can only be refused. One that
  // gives an option (or the tarball) a bad value takes the place of the good one, whatever the order.
  type Poison = { replace?: string; units: string[][]; last?: string[] };
  const poison: fc.Arbitrary<Poison> = fc.oneof(
    hostilePath.map((p) => ({ replace: '--prefix', units: [['--prefix', p]] })),
    fc.constantFrom('', '-', '--', '-x', '--dry-run').map((v) => ({ replace: '--prefix', units: [['--prefix', v]] })),
    hostilePath.map((p) => ({ replace: tarball, units: [[`${p}.tar.gz`]] })),
    fc.constantFrom(w.dir, fifo, '/dev/null', join(dirname(tarball), 'SHA256SUMS'), w.pub, '').map((p) => ({ replace: tarball, units: [[p]] })),
    fc.constant<Poison>({ units: [[tarball]] }),
    fc.constantFrom('--prefix', '--pubkey', '--keep', '--start-timeout', '--sums').map((o) => ({ units: [], last: [o] })),
    fc.constantFrom('--prefix=' + w.prefix, '--PREFIX', '-p', '\u2014prefix', '--allow_unsigned', '--no-system=1', '-').map((o) => ({ units: [[o]] })),
    fc.constantFrom(['--keep', '1'], ['--keep', '0'], ['--keep', '07'], ['--keep', '2x'], ['--start-timeout', '1e3'], ['--start-timeout', '3 0']).map((u) => ({ replace: u[0], units: [[...u]] })),
    fc.constant<Poison>({ units: [['--uninstall']] }),
    fc.constant<Poison>({ units: [['--purge']] }),
    fc.constantFrom(notAKey, join(w.dir, 'missing.pub'), fifo).map((k) => ({ replace: '--pubkey', units: [['--pubkey', k]] })),
    fc.constantFrom(join(w.dir, 'missing-sums'), '/dev/null', fifo).map((s) => ({ replace: '--sums', units: [['--sums', s]] })),
  );
  const skipped = [w.prefix, w.tmp];
  const before = snapshot(w.dir, skipped);
  let runs = 0;
  fc.assert(
    fc.property(fc.array(poison, { minLength: 1, maxLength: 3 }), fc.subarray(neutral), fc.infiniteStream(fc.double({ min: 0, max: 1, noNaN: true })), (poisons, extras, order) => {
      runs++;
      const replaced = new Set(poisons.map((p) => p.replace));
      const units = [...base, ...extras].filter((u) => !replaced.has(u[0])).concat(poisons.flatMap((p) => p.units));
      // Options in odd places: the units in any order, the tarball among them.
      const keys = units.map(() => order.next().value);
      const args = units.map((u, i) => ({ u, k: keys[i]! })).sort((x, y) => x.k - y.k).flatMap((x) => x.u);
      const tail = poisons.find((p) => p.last)?.last ?? [];
      const r = run(w, INSTALL, [...args, ...tail]);
      const shown = JSON.stringify([...args, ...tail]);
      assertRefused(r, /FG_ERR_[A-Z_]+/, `install.sh ${shown}`);
      assert.deepEqual(readdirSync(w.tmp), [], `install.sh ${shown}: nothing left unpacked`);
      assert.ok(!existsSync(join(w.prefix, 'opt')), `install.sh ${shown}: nothing installed\n${r.out}`);
      assert.ok(!existsSync(join(dirname(w.dir), 'escaped')) && !existsSync('pwned'), `install.sh ${shown}: nothing made outside`);
    }),
    fuzzParameters(150),
  );
  assert.equal(runs, 150);
  assert.deepEqual(snapshot(w.dir, skipped), before, 'nothing written outside the prefix');
});
