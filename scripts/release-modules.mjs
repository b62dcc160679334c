#!/usr/bin/env node
// The runtime dependencies a release carries (scripts/release.sh), run on the pinned Node: the
// packages the daemon loads, resolved from package.json as Node resolves them, copied out of a
// checkout that `npm ci` built for that Node, less what that Node and this box never load.
//
//   node scripts/release-modules.mjs SRC DEST     copy SRC/node_modules's runtime packages to DEST
//   node scripts/release-modules.mjs --native SRC  print the folders of those packages that compile
//                                                  a native module when installed (node-gyp)
//
// Copying, it prints one line per package left out and the bytes kept. scripts/release.sh installs
// SRC with `npm ci --ignore-scripts` (the Node-API 9 SQLite binding's install script compiles
// SQLite for minutes, and the release leaves it out) and then builds what --native names: a kept
// package whose own install script would have run stops it here, rather than ship unbuilt.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const native = process.argv[2] === '--native';
const [src, dest] = process.argv.slice(native ? 3 : 2);
if (!src || (!dest && !native)) {
  console.error('usage: node scripts/release-modules.mjs SRC DEST | --native SRC');
  process.exit(2);
}

/**
 * Packages in the dependency tree that nothing loads on the pinned Node, and why. Their own
 * dependencies go too unless something kept needs them.
 */
const LEFT_OUT = new Map([
  // The Node-API 9 SQLite binding, for a machine still on Node 20 (daemon/store/sqlite.ts picks).
  ['better-sqlite3-napi9', 'the Node-API 9 SQLite binding: the pinned Node loads better-sqlite3'],
  // The models' source: `npm run models` checked, rewrote and wrote them to models/onnx.
  ['faceplugin-face-recognition-js', 'the models come from it once, into models/onnx'],
  // C++ headers, read only while compiling a native module.
  ['nan', 'headers for compiling native modules'],
  ['node-addon-api', 'headers for compiling native modules'],
]);
const leftOut = (name) => LEFT_OUT.has(name) || name.startsWith('@types/');

if (Number(process.versions.napi) < 10) {
  console.error(`error: this Node (${process.version}, Node-API ${process.versions.napi}) is not the pinned one: the release leaves out the Node-API 9 SQLite binding`);
  process.exit(1);
}

const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));

/** The folder `name` resolves to from package folder `from`, as Node's require looks it up. */
function resolvePackage(name, from) {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === src || dirname(dir) === dir) return undefined;
  }
}

// Every package the kept runtime dependencies reach, by folder.
const root = readJson(join(src, 'package.json'));
const kept = new Set();
const queue = Object.keys({ ...root.dependencies, ...root.optionalDependencies }).map((name) => [name, src]);
const skipped = new Set();
while (queue.length > 0) {
  const [name, from] = queue.shift();
  if (leftOut(name)) {
    skipped.add(name);
    continue;
  }
  const dir = resolvePackage(name, from);
  if (!dir) {
    const manifest = readJson(join(from, 'package.json'));
    // An optional or peer dependency for another system (sharp's other platforms) is simply absent.
    if (manifest.optionalDependencies?.[name] || manifest.peerDependencies?.[name] || from === src) continue;
    console.error(`error: ${name}, a dependency of ${relative(src, from) || 'facegate'}, is not installed in ${src}`);
    process.exit(1);
  }
  if (kept.has(dir)) continue;
  kept.add(dir);
  const manifest = readJson(join(dir, 'package.json'));
  for (const dep of Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies, ...manifest.peerDependencies })) queue.push([dep, dir]);
}

if (native) {
  const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall'];
  const builds = [];
  for (const dir of [...kept].sort()) {
    const manifest = readJson(join(dir, 'package.json'));
    const scripts = INSTALL_SCRIPTS.filter((name) => manifest.scripts?.[name]);
    // Denied in package.json (onnxruntime-node's download of CUDA libraries): npm ci skips it too.
    if (root.allowScripts?.[manifest.name] === false) continue;
    if (scripts.length > 0) {
      console.error(`error: ${manifest.name} runs an install script (${scripts.join(', ')}) that the release's modules do not run`);
      console.error(`fix:   build it in scripts/release.sh beside the node-gyp packages, or deny it in package.json "allowScripts" if the release does without it`);
      process.exit(1);
    }
    // What npm runs for a package with a binding.gyp and no install script of its own: node-gyp rebuild.
    if (existsSync(join(dir, 'binding.gyp')) && manifest.gypfile !== false) builds.push(dir);
  }
  for (const dir of builds) console.log(dir);
  process.exit(0);
}

const cpu = process.arch;
/** Top folders and files no package loads at run time: documentation, tests, sources, maps. */
const JUNK_DIRS = new Set(['test', 'tests', '__tests__', 'docs', 'doc', 'example', 'examples', '.github', 'benchmark', 'benchmarks', 'coverage']);
const JUNK_FILE = /(\.d\.[cm]?ts|\.map|\.md|\.markdown|\.ts|\.mts|\.cts|\.gyp|\.gypi|\.cc|\.cpp|\.h|\.c)$|^(\.npmignore|\.eslintrc.*|\.editorconfig|\.travis\.yml|\.prettierrc.*|tsconfig.*\.json|CHANGELOG.*|HISTORY.*|Makefile)$/i;
const KEEP_FILE = /^(licen[cs]e|notice|copying|authors)/i;

function prune(dir, pkgDir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name === 'node_modules' && dir === pkgDir) continue; // nested packages: copied on their own
      // Only at a package's top: yaml, for one, loads its own dist/doc/.
      if (dir === pkgDir && JUNK_DIRS.has(entry.name)) rmSync(path, { recursive: true, force: true });
      else prune(path, pkgDir);
    } else if (JUNK_FILE.test(entry.name) && !KEEP_FILE.test(entry.name)) {
      rmSync(path, { force: true });
    }
  }
}

/** A native package: only the compiled module for this system is loaded; its C++ sources and build files are not. */
function pruneNative(dir) {
  if (!existsSync(join(dir, 'binding.gyp')) && !existsSync(join(dir, 'prebuilds')) && !existsSync(join(dir, 'bin'))) return;
  for (const name of ['src', 'deps', 'binding.gyp', 'script']) rmSync(join(dir, name), { recursive: true, force: true });
  const build = join(dir, 'build');
  if (existsSync(build)) {
    const release = join(build, 'Release');
    const modules = existsSync(release) ? readdirSync(release).filter((name) => name.endsWith('.node')) : [];
    for (const name of readdirSync(build)) if (name !== 'Release') rmSync(join(build, name), { recursive: true, force: true });
    if (existsSync(release)) for (const name of readdirSync(release)) if (!modules.includes(name)) rmSync(join(release, name), { recursive: true, force: true });
    if (modules.length === 0) rmSync(build, { recursive: true, force: true });
  }
  // better-sqlite3's prebuilt bindings: the one for glibc on this CPU.
  const prebuilds = join(dir, 'prebuilds');
  if (existsSync(prebuilds)) for (const name of readdirSync(prebuilds)) if (!name.startsWith(`linux-${cpu}`)) rmSync(join(prebuilds, name), { recursive: true, force: true });
  // onnxruntime-node's library for every system: this one's is loaded.
  const bin = join(dir, 'bin');
  if (existsSync(bin)) {
    for (const napi of readdirSync(bin).filter((name) => name.startsWith('napi-v'))) {
      for (const os of readdirSync(join(bin, napi))) if (os !== 'linux') rmSync(join(bin, napi, os), { recursive: true, force: true });
      const linux = join(bin, napi, 'linux');
      if (existsSync(linux)) for (const arch of readdirSync(linux)) if (arch !== cpu) rmSync(join(linux, arch), { recursive: true, force: true });
    }
  }
}

rmSync(dest, { recursive: true, force: true });
mkdirSync(dest, { recursive: true });
for (const dir of [...kept].sort()) {
  const rel = relative(join(src, 'node_modules'), dir);
  const to = join(dest, rel);
  cpSync(dir, to, { recursive: true, verbatimSymlinks: true, filter: (from) => from === dir || relative(dir, from).split('/')[0] !== 'node_modules' });
  pruneNative(to);
  prune(to, to);
}

function bytes(path) {
  const s = statSync(path);
  if (!s.isDirectory()) return s.size;
  return readdirSync(path).reduce((sum, name) => sum + bytes(join(path, name)), 0);
}
for (const name of [...skipped].sort()) console.log(`left out: ${name} (${LEFT_OUT.get(name) ?? 'type declarations'})`);
console.log(`modules: ${kept.size} packages, ${(bytes(dest) / 1024 / 1024).toFixed(1)} MB`);
