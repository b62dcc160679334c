#!/usr/bin/env node
// The one test command (`npm test`): every test/**/*.test.ts through Node's own test runner, with
// tsx compiling the tests on the fly. Arguments narrow the run to files or folders under test/.
// It builds dist/ first: the tests spawn the CLI and the daemon from dist/, as systemd runs them,
// so a stale dist/ would test yesterday's code.
//
// `--built`: the named tests themselves, and the daemon modules they load in-process, compiled by
// tsc (the compiler and options of dist/) into .built/ and run as plain JavaScript, without tsx:
// for tests of error paths and hostile input that drive daemon modules in their own process, where
// what tsc emits and what tsx runs could differ unseen.
//
// `--fast` (`npm run test:fast`): only the fast tier, the files that import test/support/fast-tier.ts
// (which makes starting a process or loading a model throw in them, in every run), several files
// at a time, one per core, and without building dist/, which only a spawned CLI or daemon reads.
// `--list-fast` prints that tier's files and runs nothing.
//
// The offline tier: the files that import test/support/offline-tier.ts (the models and FFmpeg on
// files, no socket, no other process, no deadline in wall-clock time) run one per core after the
// fast tier, in `npm test` only. Then the CLI tier, the files that import test/support/cli-tier.ts
// (the built CLI's one-shot commands and short processes, nothing that runs in real time), one per
// core too; every other file runs one at a time after them, and the paced tier's files (those that
// import test/support/paced-tier.ts: paced by real time, waiting far more than they compute) one at
// a time beside those.
import { cpSync, readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { Buffer } from 'node:buffer';
import { spawn, spawnSync } from 'node:child_process';
import { importsOf } from './import-graph.mjs';

function collect(path, out) {
  if (statSync(path).isDirectory()) {
    for (const name of readdirSync(path).sort()) collect(join(path, name), out);
  } else if (path.endsWith('.test.ts')) {
    out.push(path);
  }
  return out;
}

const ROOT = resolve(import.meta.dirname, '..');
const OWN_FLAGS = ['--built', '--fast', '--list-fast'];
const builtMode = process.argv.includes('--built');
const listFast = process.argv.includes('--list-fast');
const fastMode = listFast || process.argv.includes('--fast');
const roots = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const passThrough = process.argv.slice(2).filter((a) => a.startsWith('--') && !OWN_FLAGS.includes(a));
const FAST_MARKER = join(ROOT, 'test', 'support', 'fast-tier.ts');
const OFFLINE_MARKER = join(ROOT, 'test', 'support', 'offline-tier.ts');
const CLI_MARKER = join(ROOT, 'test', 'support', 'cli-tier.ts');
const PACED_MARKER = join(ROOT, 'test', 'support', 'paced-tier.ts');
// Each file's imports are parsed once, whichever tiers ask.
const parsed = new Map();
const imports = (f, marker) => {
  if (!parsed.has(f)) parsed.set(f, importsOf(f, { typeOnly: false }).files);
  return parsed.get(f).includes(marker);
};
const isFast = (f) => imports(f, FAST_MARKER);
const files = (roots.length ? roots : ['test'])
  .flatMap((r) => collect(resolve(r), []))
  .filter((f) => !fastMode || isFast(f));
if (listFast) {
  for (const f of files) console.log(relative(ROOT, f));
  process.exit(0);
}
if (files.length === 0) {
  console.error(`no${fastMode ? ' fast-tier' : ''} test files found under`, roots.join(' ') || 'test/');
  process.exit(1);
}
if (!fastMode) {
  const built = spawnSync(process.execPath, [join(import.meta.dirname, 'build.mjs')], { stdio: 'inherit' });
  if (built.status !== 0) {
    console.error('the build failed: no test was run');
    process.exit(built.status ?? 1);
  }
}
let runner = ['--import', 'tsx'];
/** The file the runner is given for a test file: the test itself, or tsc's JavaScript of it under --built. */
const toRun = builtMode ? (f) => join(ROOT, '.built', relative(ROOT, f)).replace(/\.ts$/, '.js') : (f) => f;
if (builtMode) {
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const compiled = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.json'), '--outDir', join(ROOT, '.built'), '--sourceMap', 'false'], { stdio: 'inherit' });
  if (compiled.status !== 0) {
    console.error('compiling the tests failed: no test was run');
    process.exit(compiled.status ?? 1);
  }
  // The console's page files beside its compiled server, as npm run build puts them in dist/: the
  // console's routes read them when they are built.
  cpSync(join(ROOT, 'daemon', 'web', 'static'), join(ROOT, '.built', 'daemon', 'web', 'static'), { recursive: true });
  // The tests' own helpers that are not TypeScript (the fake RTSP camera's GStreamer server), beside
  // the compiled modules that start them.
  cpSync(join(ROOT, 'test', 'support'), join(ROOT, '.built', 'test', 'support'), { recursive: true, filter: (from) => !from.endsWith('.ts') });
  runner = [];
}
const runFiles = files.map(toRun);
// --test-force-exit: a test that fails half-way may leave a child process or a socket open; the
// file's process must still end, or the whole run waits on it for ever. --test-timeout: a test
// that waits for ever (a promise nothing settles) fails with its name after 10 minutes instead of
// holding the whole run; a test that needs longer says so in its own options. The limit also
// applies to each file as a whole: the offline tier's files play hundreds of clips, beside another
// such file, and get the 30 minutes their longest tests ask for.
const testArgs = (list, concurrency, timeoutMs) => [...runner, '--test', `--test-concurrency=${concurrency}`, '--test-force-exit', `--test-timeout=${timeoutMs}`, '--test-reporter=spec', ...passThrough, ...list];
/**
 * One run of the test runner: its exit status, and its report when `held` (a run beside another:
 * printed whole when it ends, not mixed line by line into the other's). Never synchronous: a run
 * beside it must have its report read meanwhile, or it stops on a full pipe.
 */
const runTests = (list, concurrency, { timeoutMs = 600_000, held = false } = {}) =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, testArgs(list, concurrency, timeoutMs), { stdio: held ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
    const report = [];
    child.stdout?.on('data', (d) => report.push(d));
    child.stderr?.on('data', (d) => report.push(d));
    child.on('close', (code) => resolve({ status: code ?? 1, report: Buffer.concat(report) }));
  });
// Files that start daemons, brokers and cameras would contend for the cores and ports, and some
// wait for what happens in real time, so they run one at a time. The other tiers' files share
// nothing but the CPU: in a full run they go first, one per core, each tier on its own so that a
// fast file never waits on a model-bound one. The offline tier's files are the suite's longest
// (each plays hundreds of clips through the models on one thread): one per core they take 12
// minutes instead of 18 on the 2-core machine. A file of the CLI tier alone keeps 1.3 of the 2
// cores busy on average (a Node starting for each command, and waits on the disk between): two side
// by side still finish in well under twice the time of one.
const fast = fastMode ? runFiles : builtMode ? [] : files.filter(isFast);
const marked = (marker) => files.filter((f) => imports(f, marker)).map(toRun);
// The offline and CLI tiers hold only in a full run of the sources (`npm test`); the paced tier
// runs beside the files that run one at a time under --built too.
const offline = fastMode || builtMode ? [] : marked(OFFLINE_MARKER);
const cli = fastMode || builtMode ? [] : marked(CLI_MARKER);
const paced = fastMode ? [] : marked(PACED_MARKER);
const serial = runFiles.filter((f) => !fast.includes(f) && !offline.includes(f) && !cli.includes(f) && !paced.includes(f));
const NONE = { status: 0, report: Buffer.alloc(0) };
const runs = [
  fast.length ? await runTests(fast, availableParallelism()) : NONE,
  offline.length ? await runTests(offline, availableParallelism(), { timeoutMs: 30 * 60_000 }) : NONE,
  cli.length ? await runTests(cli, availableParallelism()) : NONE,
];
// The paced tier's files wait on real time: run one at a time beside the files that run one at a
// time, their waits overlap that tier's work. On the 2-core machine the two took 28.5 minutes one
// after the other, and take 17–18 side by side: each keeps about one core busy or less.
const besideSerial = paced.length ? runTests(paced, 1, { held: true }) : Promise.resolve(NONE);
runs.push(serial.length ? await runTests(serial, 1) : NONE);
const pacedRun = await besideSerial;
if (paced.length) process.stdout.write(Buffer.concat([Buffer.from('\n# the paced tier, run beside the files above\n'), pacedRun.report]));
runs.push(pacedRun);
process.exit(runs.find((r) => r.status !== 0)?.status ?? 0);
