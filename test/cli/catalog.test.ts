// The CLI loads only the command it runs (daemon/cli/catalog.ts): the build's index names each
// command's module; without an index, or with one that is wrong, every command is loaded and the
// right one runs.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { COMMAND_INDEX_FILE, commandCatalog } from '../../daemon/cli/catalog.js';
import type { CommandInfo } from '../../daemon/cli/command.js';
import { COMMANDS } from '../../daemon/cli/commands.js';
import { CLI_MAIN } from '../support/cli.js';

const DIST_CLI = join(CLI_MAIN, '..');
const info = (c: CommandInfo) => ({ words: c.words, aliases: c.aliases, summary: c.summary, usage: c.usage });

test("the build's index lists every command in order, as it is, and each entry loads that command from its own module", async () => {
  const index = JSON.parse(readFileSync(join(DIST_CLI, COMMAND_INDEX_FILE), 'utf8')) as { commands: Array<CommandInfo & { module: string }> };
  assert.deepEqual(index.commands.map(info), COMMANDS.map(info));
  // A group's own module, never the list of every command.
  for (const e of index.commands) assert.doesNotMatch(e.module, /(^|\/)(commands|index)\.js$/, `${e.words.join(' ')} comes from ${e.module}`);
  const catalog = await commandCatalog(pathToFileURL(join(DIST_CLI, COMMAND_INDEX_FILE)));
  for (const c of catalog.commands) assert.deepEqual(info(await catalog.load(c)), info(c));
});

test('with no index, a damaged one or an entry that leads elsewhere, every command is loaded and the one asked for runs', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-catalog-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const built = JSON.parse(readFileSync(join(DIST_CLI, COMMAND_INDEX_FILE), 'utf8')) as { commands: Array<Record<string, unknown>> };
  const at = (name: string, body: string) => {
    writeFileSync(join(dir, name), body);
    return pathToFileURL(join(dir, name));
  };
  const stale = built.commands.map((e) => (e.words as string[]).join(' ') === 'person list' ? { ...e, export: 'personShowCommand' } : e);
  const outside = built.commands.map((e) => ({ ...e, module: '/etc/passwd' }));
  const cases: Array<[string, URL]> = [
    ['no index', pathToFileURL(join(dir, 'none.json'))],
    ['not JSON', at('garbage.json', '{"commands": [')],
    ['no commands', at('empty.json', '{"commands": []}')],
    ['a module outside the build', at('outside.json', JSON.stringify({ commands: outside }))],
  ];
  for (const [what, url] of cases) {
    const catalog = await commandCatalog(url);
    assert.deepEqual(catalog.commands.map(info), COMMANDS.map(info), what);
    const list = await catalog.load(catalog.commands.find((c) => c.words.join(' ') === 'person list')!);
    assert.equal(list.words.join(' '), 'person list', what);
  }
  // An entry whose export is another command's: that command is never run in its place. Its modules
  // are the built ones, so this index sits beside them.
  const staleFile = join(DIST_CLI, `stale-${process.pid}.json`);
  writeFileSync(staleFile, JSON.stringify({ commands: stale }));
  t.after(() => rmSync(staleFile, { force: true }));
  const catalog = await commandCatalog(pathToFileURL(staleFile));
  const list = await catalog.load(catalog.commands.find((c) => c.words.join(' ') === 'person list')!);
  assert.equal(list.words.join(' '), 'person list');
});

/** The built CLI copied beside the real node_modules, with `poisoned` (paths under dist/) made to throw when loaded. */
function poisonedBuild(dir: string, poisoned: string[]): string {
  const root = join(CLI_MAIN, '..', '..', '..', '..');
  cpSync(join(root, 'dist'), join(dir, 'dist'), { recursive: true });
  cpSync(join(root, 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  for (const p of poisoned) writeFileSync(join(dir, 'dist', p), `throw new Error('loaded ${p}');\n`);
  return join(dir, 'dist', 'daemon', 'cli', 'main.js');
}

function run(main: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [main, ...args], { env: { ...process.env, FACEGATE_CONFIG: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('the built CLI loads only the command it runs: with the daemon, the central consumer and the models made to fail on loading, the other commands still answer', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-catalog-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const main = poisonedBuild(dir, ['daemon/app.js', 'central/consumer.js', 'daemon/vision/analyzer.js']);
  const version = await run(main, ['--version']);
  assert.equal(version.code, 0, version.stderr);
  assert.match(version.stdout, /^facegate \d/);
  for (const args of [['--help'], ['daemon', '--help'], ['person', '--help'], ['validate-config', '--help'], ['user', 'list', '--help']]) {
    const r = await run(main, args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stdout, /^usage: facegate /, args.join(' '));
  }
  const config = join(dir, 'config.yaml');
  writeFileSync(config, 'cameras: []\n');
  const valid = await run(main, ['validate-config', config]);
  assert.equal(valid.code, 0, valid.stderr);
  // The poison works: the commands that need those modules load them, and fail on them here (on
  // linking, where a module imports a name the poison does not export, or when it runs).
  const daemon = await run(main, ['daemon', '--config', config]);
  assert.notEqual(daemon.code, 0);
  assert.match(daemon.stderr, /app\.js/);
  const analyze = await run(main, ['analyze', join(dir, 'none.jpg')]);
  assert.notEqual(analyze.code, 0);
  assert.match(analyze.stderr, /analyzer\.js/);
});
