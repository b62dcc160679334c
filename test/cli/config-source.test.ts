// Where a command's config comes from: --config, FACEGATE_CONFIG, the installed file, the defaults.
import '../support/fast-tier.js';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { configSource, loadFromSource } from '../../daemon/cli/command.js';
import { loadConfigFile } from '../../daemon/config/load.js';

test('--config, else FACEGATE_CONFIG, else the installed config where there is one; an empty FACEGATE_CONFIG asks for the defaults', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-config-source-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const installed = join(dir, 'config.yaml');
  assert.equal(configSource(undefined, {}, installed), undefined, 'nothing installed: the defaults');
  writeFileSync(installed, 'cameras: []\n');
  assert.deepEqual(configSource(undefined, {}, installed), { path: installed, from: 'the installed config' });
  assert.deepEqual(configSource(undefined, { FACEGATE_CONFIG: '/srv/site.yaml' }, installed), { path: '/srv/site.yaml', from: 'FACEGATE_CONFIG' });
  assert.deepEqual(configSource('/x.yaml', { FACEGATE_CONFIG: '/srv/site.yaml' }, installed), { path: '/x.yaml', from: '--config' });
  assert.equal(configSource(undefined, { FACEGATE_CONFIG: '' }, installed), undefined);
});

test('a config that cannot be read says how it was found and what to do', () => {
  for (const [from, hint] of [
    ['--config', /--config/],
    ['FACEGATE_CONFIG', /check FACEGATE_CONFIG, or give --config FILE/],
    ['the installed config', /give --config FILE, or make \/nope\/config.yaml readable/],
  ] as const) {
    assert.throws(
      () => loadFromSource({ path: '/nope/config.yaml', from }, loadConfigFile),
      (e: Error & { code?: string; hint?: string }) => e.code === 'FG_ERR_CONFIG_UNREADABLE' && e.message.includes(`(from ${from})`) && hint.test(e.hint ?? ''),
      from,
    );
  }
});
