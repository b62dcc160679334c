import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';

/** The part of the `semver` package (a dependency of several of ours; no types installed) used here. */
interface Semver {
  satisfies(version: string, range: string): boolean;
  minVersion(range: string): { version: string } | null;
}
const semver = createRequire(import.meta.url)('semver') as Semver;

interface LockEntry {
  version?: string;
  optional?: boolean;
  engines?: { node?: string; npm?: string };
}
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string; npm?: string } };
const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as { packages: Record<string, LockEntry> };
const ours = pkg.engines.node;

/**
 * The Node releases package.json claims, as x.y.0 from 18.0 to 40.40: every engines range in the
 * lock file draws its lines at a minor release (^20.9.0, >=21.1.0, ^22.13.0), so this grid finds
 * any release we claim and a package refuses.
 */
const claimed: string[] = [];
for (let major = 18; major <= 40; major++) {
  for (let minor = 0; minor <= 40; minor++) if (semver.satisfies(`${major}.${minor}.0`, ours)) claimed.push(`${major}.${minor}.0`);
}

test('package-lock.json carries the engines of package.json', () => {
  assert.deepEqual(lock.packages['']?.engines, pkg.engines);
  assert.ok(claimed.includes('20.19.0') && claimed.includes('22.13.0') && claimed.includes('24.0.0'), `claimed: ${claimed.join(' ')}`);
});

/**
 * No package is installed on a Node it says it does not support (npm ci would warn EBADENGINE).
 * better-sqlite3 13 (Node ≥ 22) is optional, like better-sqlite3-napi9, so npm leaves it out on
 * Node 20 without a word; the pinned Node that a release carries installs its own
 * (scripts/pinned-checkout.sh), and daemon/store/sqlite.ts loads the one this Node has.
 */
test("every package npm ci installs supports every Node that package.json's engines claim", () => {
  const misfits: string[] = [];
  const why: string[] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    // npm skips an optional package that does not fit this Node (and says nothing): it is not installed.
    if (path === '' || entry.optional || !entry.engines?.node) continue;
    const refused = claimed.find((v) => !semver.satisfies(v, entry.engines?.node ?? '*'));
    if (refused) {
      misfits.push(path);
      why.push(`${path}@${entry.version} wants node ${entry.engines.node}, not ${refused}`);
    }
  }
  assert.deepEqual(misfits, [], why.join('\n'));
});

test('better-sqlite3 13 supports every claimed Node that loads it (Node-API 10: Node ≥ 22.14); both bindings are optional', () => {
  assert.equal(lock.packages['node_modules/better-sqlite3']?.optional, true, 'better-sqlite3 13 is optional: npm would warn EBADENGINE on Node 20');
  assert.equal(lock.packages['node_modules/better-sqlite3-napi9']?.optional, true);
  const range = lock.packages['node_modules/better-sqlite3']?.engines?.node ?? '';
  const loading = claimed.filter((v) => semver.satisfies(v, '>=22.14.0'));
  assert.ok(loading.length > 0);
  for (const v of loading) assert.ok(semver.satisfies(v, range), `better-sqlite3 wants ${range}, not ${v}`);
  const napi9 = lock.packages['node_modules/better-sqlite3-napi9']?.engines?.node ?? '';
  for (const v of claimed.filter((c) => !semver.satisfies(c, '>=22.14.0'))) assert.ok(semver.satisfies(v, napi9), `better-sqlite3-napi9 wants ${napi9}, not ${v}`);
});
