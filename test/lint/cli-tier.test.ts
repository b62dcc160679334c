// The CLI tier (test/support/cli-tier.ts): a file of the tier runs beside another, so none of its
// imports may reach what runs in real time: the daemon, in this process or spawned, a broker, a
// camera, a database server or a browser. And a file is in one tier at most: the runner puts it in
// the first whose marker it imports, and the others' promises would go unkept.
import '../support/fast-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { importsOf } from '../../scripts/import-graph.mjs';

const ROOT = resolve(import.meta.dirname, '../..');
const MARKER = join(ROOT, 'test/support/cli-tier.ts');
/** What starts something that runs in real time, by the repository file or the package that does. */
const LIVE_FILES = [
  'daemon/app.ts',
  'test/ops/daemon-harness.ts',
  'test/support/mosquitto.ts',
  'test/support/chromium.ts',
  'test/support/postgres.ts',
  'test/support/fake-camera.ts',
  'test/support/debian-box.ts',
].map((f) => join(ROOT, f));
const LIVE_PACKAGES = ['puppeteer-core', 'mqtt', 'pg'];

const testFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? testFiles(join(dir, e.name)) : e.name.endsWith('.test.ts') ? [join(dir, e.name)] : []));

/**
 * What a test file and the test helpers it imports load: the files and the packages. The daemon's
 * own modules start nothing when loaded (the command line's list reaches every one of them), so the
 * walk stays in test/: what a test starts, it starts there, through a helper or the daemon's App.
 */
const parsed = new Map<string, ReturnType<typeof importsOf>>();
const importsOnce = (f: string) => parsed.get(f) ?? parsed.set(f, importsOf(f, { typeOnly: false })).get(f)!;

function reach(file: string): { files: Set<string>; packages: Set<string> } {
  const TESTS = join(ROOT, 'test') + sep;
  const files = new Set([file]);
  const packages = new Set<string>();
  for (const f of files) {
    if (!f.startsWith(TESTS) || !/\.tsx?$/.test(f)) continue;
    const { files: next, modules } = importsOnce(f);
    for (const n of next) files.add(n);
    for (const m of modules) packages.add(m);
  }
  return { files, packages };
}

test('a file of the CLI tier reaches nothing that runs in real time: no daemon, broker, camera, database server or browser', () => {
  const tier = testFiles(join(ROOT, 'test')).filter((f) => importsOnce(f).files.includes(MARKER));
  assert.ok(tier.length >= 30, `the tier holds ${tier.length} files`);
  const wrong = tier.flatMap((f) => {
    const { files, packages } = reach(f);
    const live = [...LIVE_FILES.filter((l) => files.has(l)).map((l) => relative(ROOT, l)), ...LIVE_PACKAGES.filter((p) => packages.has(p))];
    return live.length ? [`${relative(ROOT, f)}: ${live.join(', ')}`] : [];
  });
  assert.deepEqual(wrong, []);
});

test('the rule sees what it guards: a daemon test and a browser test are outside the tier', () => {
  const { files } = reach(join(ROOT, 'test/ops/daemon.test.ts'));
  assert.ok(LIVE_FILES.some((l) => files.has(l)), 'test/ops/daemon.test.ts reaches the daemon');
  assert.ok(reach(join(ROOT, 'test/web/browser.test.ts')).packages.has('puppeteer-core'));
});

test('a file imports one tier marker at most', () => {
  const MARKERS = ['fast-tier.ts', 'offline-tier.ts', 'cli-tier.ts', 'paced-tier.ts'].map((m) => join(ROOT, 'test/support', m));
  const twice = testFiles(join(ROOT, 'test')).flatMap((f) => {
    const marked = MARKERS.filter((m) => importsOnce(f).files.includes(m));
    return marked.length > 1 ? [`${relative(ROOT, f)}: ${marked.map((m) => relative(ROOT, m)).join(', ')}`] : [];
  });
  assert.deepEqual(twice, []);
});
