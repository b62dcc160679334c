// What a newcomer's `npm ci` says before it installs anything: the lock file read against
// package.json's overrides, with no network and an empty cache (a dry run installs nothing and
// runs no script). An `npm warn` block there (an override that npm also applied to a peer) opens
// every fresh install and reads as a failure.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

test('npm ci on a fresh clone prints no npm warning while it reads the lock file', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-npm-ci-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const f of ['package.json', 'package-lock.json']) copyFileSync(f, join(dir, f));
  const r = spawnSync('npm', ['ci', '--dry-run', '--ignore-scripts', '--offline', '--no-audit', '--no-fund', '--cache', join(dir, 'cache')], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  const out = r.stdout + r.stderr;
  assert.equal(r.status, 0, out.slice(-2000));
  assert.deepEqual(out.split('\n').filter((l) => /^npm (warn|WARN|error|ERR)/.test(l)), [], 'npm warned');
  assert.match(out, /added \d+ packages/);
});
