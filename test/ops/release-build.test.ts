// How scripts/release.sh builds a release from a checkout: it reuses the checkout's `npm ci` (the
// code built with its tools) and installs the runtime modules for the pinned Node once, without
// the dev tools and without the install scripts, keeping them for the next release. The pinned
// npm is the real one behind a recorder of its arguments, and npm is told to stay offline
// (`npm_config_offline`): the packages come from npm's cache, where this checkout's `npm ci` left
// them. The release built is checked by release.sh itself (its native modules load, `--version`
// answers) and is installed for real by test/ops/release.test.ts.
import '../support/cli-tier.js';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';

const ROOT = resolve('.');
const PINNED = join(ROOT, '.pinned');
const hasPinned = existsSync(join(PINNED, 'node/bin/node')) && existsSync(join(PINNED, 'npm/bin/npm-cli.js'));
const needsPinned = hasPinned ? false : 'needs the pinned Node and npm in .pinned (scripts/node-runtime.sh .pinned/node; scripts/node-runtime.sh --npm .pinned/npm)';

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, cwd = ROOT) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd, env: { ...process.env, ...env }, timeout: 600_000 });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

test('release: the runtime modules are installed once for the pinned Node (npm ci --omit=dev --ignore-scripts, one npm call, no full second npm ci), and the next release calls npm not at all; npm unable to get a package stops it with the log and the fix, keeping nothing', { skip: needsPinned, timeout: 900_000 }, (t) => {
  const work = mkdtempSync(join(tmpdir(), 'fg-release-build-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  // The pinned Node as it is; its npm behind a recorder of each call's arguments.
  cpSync(join(PINNED, 'node'), join(work, 'pinned/node'), { recursive: true });
  cpSync(join(PINNED, 'npm'), join(work, 'pinned/npm'), { recursive: true });
  const calls = join(work, 'npm-calls.ndjson');
  const cli = join(work, 'pinned/npm/bin/npm-cli.js');
  writeFileSync(cli, `#!/usr/bin/env node\nrequire('node:fs').appendFileSync(${JSON.stringify(calls)}, JSON.stringify(process.argv.slice(2)) + '\\n');\nrequire('../lib/cli.js')(process);\n`);
  chmodSync(cli, 0o755);
  // The machine's own ~/.npmrc is not the project's: its settings (and npm's warnings on them) stay
  // out. A nodedir that is not the pinned Node's, as `npm run release` hands one down from a user's
  // ~/.npmrc, must not reach node-gyp (the module would be built for another Node) nor make npm warn.
  const userconfig = join(work, 'npmrc');
  writeFileSync(userconfig, '');
  const npmCalls = () => (existsSync(calls) ? readFileSync(calls, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as string[]) : []);
  const release = (build: string, env: NodeJS.ProcessEnv = {}) =>
    run('bash', [join(ROOT, 'scripts/release.sh'), '--work', join(work, 'pinned'), '--out', join(work, 'out'), '--build', build, '--dir-only'], { npm_config_offline: 'true', npm_config_userconfig: userconfig, npm_config_nodedir: join(work, 'not-node-headers'), ...env });
  const buildLog = () => readFileSync(join(work, 'pinned/release-build.log'), 'utf8');

  // npm cannot get a package (offline, its cache empty): the release stops, says where to look and
  // what to do, and keeps no half-made set of modules.
  const unreachable = release('t0', { npm_config_cache: join(work, 'empty-cache') });
  assert.equal(unreachable.code, 1, unreachable.stdout + unreachable.stderr);
  assert.equal(unreachable.stderr, `error: installing the runtime modules for Node v${readFileSync(join(ROOT, 'scripts/node-runtime.sh'), 'utf8').match(/^NODE_VERSION="(.*)"$/m)![1]} failed (see ${join(work, 'pinned/release-build.log')})\nfix:   fix what the log names (npm fetches from the registry only what its cache lacks), then run this again\n`);
  assert.match(buildLog(), /ENOTCACHED/);
  assert.deepEqual(readdirSync(join(work, 'pinned/modules')).filter((name) => !name.endsWith('.new')), [], 'no set of modules kept');
  rmSync(calls);

  const first = release('t1');
  if (first.code !== 0 && /ENOTCACHED/.test(buildLog())) {
    t.skip("npm's cache lacks a runtime package: run `npm run release` once with the registry reachable");
    return;
  }
  assert.equal(first.code, 0, first.stdout + first.stderr);
  // One npm call, the production install without install scripts; nothing else under npm.
  assert.deepEqual(npmCalls(), [['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund']]);
  assert.match(first.stdout, /^modules: built for Node v\S+ in .*\/modules\/node-v\S+ \(\d+ s; reused by the next release\)$/m);
  assert.ok(!existsSync(join(work, 'pinned/src')), 'no copy of the checkout with its own full install');
  // Nothing a newcomer would read as a failure, on the terminal or in the log.
  assert.doesNotMatch(first.stdout + first.stderr, /warn|ERR!/i);
  assert.doesNotMatch(buildLog(), /npm warn|npm ERR!/i);
  const staged = /^staged: (.*) \(facegate /m.exec(first.stdout)![1]!;
  // unix-dgram compiled for the pinned Node (release.sh loaded it from the staged folder), and
  // better-sqlite3 13 in, which npm on Node 20 leaves out of the checkout.
  for (const path of ['node_modules/unix-dgram/build/Release/unix_dgram.node', 'node_modules/better-sqlite3/lib/index.js']) assert.ok(existsSync(join(staged, path)), `${path} is not in the release`);
  for (const absent of ['node_modules/better-sqlite3-napi9', 'node_modules/typescript', 'node_modules/esbuild']) assert.ok(!existsSync(join(staged, absent)), `${absent} is in the release`);

  const second = release('t2');
  assert.equal(second.code, 0, second.stdout + second.stderr);
  assert.equal(npmCalls().length, 1, 'the second release called npm');
  assert.match(second.stdout, /^modules: reused .*\/modules\/node-v\S+ \(built for Node v\S+ from this package-lock\.json\)$/m);
});

test('release-modules.mjs --native names the kept packages node-gyp builds, skips the ones denied or prebuilt, and stops at an install script it would not run', { skip: needsPinned }, (t) => {
  const src = mkdtempSync(join(tmpdir(), 'fg-release-native-'));
  t.after(() => rmSync(src, { recursive: true, force: true }));
  const pkg = (name: string, manifest: object, files: string[] = []) => {
    const dir = join(src, 'node_modules', name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', ...manifest }));
    for (const file of files) writeFileSync(join(dir, file), '');
  };
  const root = (dependencies: Record<string, string>) =>
    writeFileSync(join(src, 'package.json'), JSON.stringify({ name: 'facegate', dependencies, allowScripts: { denied: false } }));
  pkg('gyp', {}, ['binding.gyp']);
  pkg('prebuilt', { gypfile: false }, ['binding.gyp']);
  pkg('denied', { scripts: { postinstall: 'node fetch.js' } });
  pkg('plain', {});
  pkg('scripted', { scripts: { install: 'prebuild-install || node-gyp rebuild' } }, ['binding.gyp']);
  const native = () => run(join(PINNED, 'node/bin/node'), [join(ROOT, 'scripts/release-modules.mjs'), '--native', src]);

  root({ gyp: '1', prebuilt: '1', denied: '1', plain: '1' });
  const ok = native();
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout, `${join(src, 'node_modules/gyp')}\n`);

  root({ gyp: '1', scripted: '1' });
  const stopped = native();
  assert.equal(stopped.code, 1, stopped.stdout);
  assert.equal(stopped.stdout, '');
  assert.match(stopped.stderr, /^error: scripted runs an install script \(install\) that the release's modules do not run\nfix: {3}build it in scripts\/release\.sh beside the node-gyp packages, or deny it in package\.json "allowScripts" if the release does without it\n$/);
});
