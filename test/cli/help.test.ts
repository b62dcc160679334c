import '../support/cli-tier.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import type { CommandRoute } from '../../daemon/cli/command.js';
import { COMMAND_ROUTES, loadCommands } from '../../daemon/cli/commands.js';
import { commandExample, commandGroups, commandOptions, helpTableCommands } from '../../daemon/cli/help.js';
import { main } from '../../daemon/cli/run.js';
import { ExitCode } from '../../daemon/base/errors.js';
import { CLI_MAIN, runCli } from '../support/cli.js';

const COMMANDS = await loadCommands(COMMAND_ROUTES);

/** The real CLI entry (run.ts's main) with its output kept. */
async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env: {} });
  return { code, stdout, stderr };
}

test('facegate --version prints the package version and exits 0 (the installed executable too)', async () => {
  const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
  const r = await runCli(['--version']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `facegate ${version}\n`);
  assert.equal((await cli(['-V'])).stdout, `facegate ${version}\n`);
  const extra = await cli(['--version', 'scan']);
  assert.equal(extra.code, ExitCode.USAGE, '--version takes nothing after it');
  assert.match(extra.stderr, /^FG_ERR_USAGE: /);
});

test("every command's --help lists each of its options with what it does, and one example of itself", async () => {
  for (const command of COMMANDS) {
    const words = command.words.join(' ');
    const r = await cli([...command.words, '--help']);
    assert.equal(r.code, 0, words);
    assert.equal(r.stderr, '');
    assert.ok(r.stdout.startsWith(`usage: facegate ${words} ${command.usage}\n\n${command.summary}\n\noptions:\n`), `${words}:\n${r.stdout}`);
    for (const option of commandOptions(command)) {
      assert.ok(option.text, `${words}: ${option.flag} has no line in daemon/cli/help.ts`);
      assert.ok(r.stdout.includes(`  ${option.flag} `) && r.stdout.includes(option.text), `${words}: ${option.flag} missing from --help`);
    }
    assert.match(r.stdout, /\n {2}-h, --help +this help\n/);
    const example = commandExample(command);
    assert.ok(example, `${words} has no example in daemon/cli/help.ts`);
    assert.match(example, new RegExp(`(^|\\s)facegate ${words}( |$)`), `${words}: the example runs another command: ${example}`);
    assert.ok(r.stdout.endsWith(`\nexample:\n  ${example}\n`), words);
    // The example's options are ones the command names.
    const named = new Set(commandOptions(command).map((o) => o.flag.split(' ')[0]));
    for (const flag of example.match(/ --[a-z-]+/g) ?? []) assert.ok(named.has(flag.trim()), `${words}: the example uses ${flag.trim()}, which its usage does not name`);
  }
  assert.deepEqual(helpTableCommands().sort(), COMMANDS.map((c) => c.words.join(' ')).sort(), 'no help row for a command that is gone');
});

test('facegate --help names --version and points at the per-command help', async () => {
  const r = await cli(['--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /facegate --version/);
  assert.match(r.stdout, /'facegate COMMAND --help' for a command's options and an example/);
});

test("each route's words and aliases are its command's own, and no two routes share a name", () => {
  const names = COMMAND_ROUTES.flatMap((r) => [r.words, ...(r.aliases ?? [])].map((w) => w.join(' ')));
  assert.equal(new Set(names).size, names.length, 'a name chooses one command');
  COMMAND_ROUTES.forEach((route, i) => {
    const command = COMMANDS[i]!;
    assert.deepEqual([command.words, command.aliases ?? []], [route.words, route.aliases ?? []], `the route ${route.words.join(' ')} loads ${command.words.join(' ')}`);
  });
});

test('the command line loads the one command it runs: none for --version, the chosen one for its --help and its run, the group for the group', async () => {
  const loaded: string[] = [];
  const routes: CommandRoute[] = COMMAND_ROUTES.map((r) => ({ ...r, load: () => (loaded.push(r.words.join(' ')), r.load()) }));
  const run = async (argv: string[]) => {
    loaded.length = 0;
    await main(argv, { stdout: () => {}, stderr: () => {}, env: {} }, routes);
    return [...new Set(loaded)].sort();
  };
  assert.deepEqual(await run(['--version']), []);
  assert.deepEqual(await run(['person', 'list', '--help']), ['person list']);
  assert.deepEqual(await run(['person', 'enrol', '--help']), ['person add'], 'an alias loads its command');
  assert.deepEqual(await run(['compare', '--no-such-option']), ['compare']);
  assert.deepEqual(await run(['no-such-command']), []);
  assert.deepEqual(await run(['user', '--help']), ['user add', 'user list', 'user passwd', 'user remove', 'user role']);
  assert.equal((await run(['--help'])).length, COMMAND_ROUTES.length, 'the whole list needs every summary');
});

test('every command group answers --help with its commands, and alone with the same list as a usage error', async () => {
  const groups = commandGroups(COMMANDS);
  assert.ok(groups.includes('person') && groups.includes('keys'), `groups: ${groups.join(', ')}`);
  for (const group of groups) {
    const members = COMMANDS.filter((c) => c.words.length > 1 && c.words[0] === group);
    for (const flag of ['--help', '-h']) {
      const r = await cli([group, flag]);
      assert.equal(r.code, ExitCode.OK, `${group} ${flag}: ${r.stderr}`);
      assert.equal(r.stderr, '', `${group} ${flag} writes nothing on stderr`);
      assert.ok(r.stdout.startsWith(`usage: facegate ${group} COMMAND [ARGS]\n`), `${group} ${flag}:\n${r.stdout}`);
      for (const c of members) assert.ok(r.stdout.includes(`  ${c.words.join(' ')} `) && r.stdout.includes(c.summary), `${group} ${flag} lists ${c.words.join(' ')}`);
    }
    const alone = await cli([group]);
    assert.equal(alone.code, ExitCode.USAGE, `${group} alone is a usage error`);
    assert.match(alone.stderr, new RegExp(`^usage: facegate ${group} COMMAND`), `${group} alone shows the list on stderr`);
    const wrong = await cli([group, 'no-such-command']);
    assert.equal(wrong.code, ExitCode.USAGE, `${group} no-such-command`);
    assert.match(wrong.stderr, new RegExp(`^FG_ERR_USAGE: unknown command '${group} no-such-command' — run 'facegate ${group} --help'`), wrong.stderr);
  }
  // The installed executable answers the same.
  const built = await runCli(['person', '--help']);
  assert.equal(built.code, 0, built.stderr);
  assert.match(built.stdout, /^usage: facegate person COMMAND/, built.stdout);
});

/** The built CLI with its stdout a pipe whose reading end is closed before it writes (`facegate ... | head -0`). */
function runWithClosedStdout(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_MAIN, ...args], { env: { ...process.env, FACEGATE_CONFIG: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

test('a closed stdout pipe ends a command quietly with exit 0, without a stack trace', async () => {
  for (const args of [['--help'], ['person', '--help'], ['events', 'tail', '--help'], ['--version']]) {
    const r = await runWithClosedStdout(args);
    assert.equal(r.stderr, '', `facegate ${args.join(' ')} with stdout closed says nothing: ${r.stderr}`);
    assert.equal(r.code, 0, `facegate ${args.join(' ')} with stdout closed exits 0`);
  }
});

test("an unknown option: a usage error (exit 2) naming it, the command's option it most likely meant, its usage and its --help", async () => {
  const add = COMMANDS.find((c) => c.words.join(' ') === 'person add')!;
  const typo = await runCli(['person', 'add', '--name', 'Ann', '--imgae', 'ann.jpg']);
  assert.equal(typo.code, ExitCode.USAGE, typo.stderr);
  assert.equal(typo.stderr, `FG_ERR_USAGE: unknown option --imgae (did you mean --image?) — usage: facegate person add ${add.usage}; 'facegate person add --help' explains each option\n`);
  const short = await runCli(['identify', '--key', '/etc/facegate/gallery.key', 'door.jpg']);
  assert.match(short.stderr, /^FG_ERR_USAGE: unknown option --key \(did you mean --key-file\?\) — /, 'the one option it begins');
  // Nothing near: no guess. An option of another command is not one of this command's.
  for (const [args, unknown] of [[['analyze', '--frobnicate', 'x.jpg'], '--frobnicate'], [['doctor', '--force=yes'], '--force'], [['person', 'list', '-x'], '-x']] as const) {
    const r = await runCli([...args]);
    assert.equal(r.code, ExitCode.USAGE, r.stderr);
    assert.ok(r.stderr.startsWith(`FG_ERR_USAGE: unknown option ${unknown} — usage: facegate ${args[0]} `), r.stderr);
    assert.doesNotMatch(r.stderr, /did you mean|To specify a positional/);
  }
  // Every command, through the same one place.
  for (const command of COMMANDS) {
    const words = command.words.join(' ');
    const r = await cli([...command.words, '--no-such-option']);
    assert.equal(r.code, ExitCode.USAGE, `${words}: ${r.stderr}`);
    assert.equal(r.stderr, `FG_ERR_USAGE: unknown option --no-such-option — usage: facegate ${words} ${command.usage}; 'facegate ${words} --help' explains each option\n`, words);
  }
});

test("a command's own usage errors name the whole command, its usage and its --help", async () => {
  const r = await runCli(['person', 'add', '--name']);
  assert.equal(r.code, ExitCode.USAGE);
  assert.match(r.stderr, /^FG_ERR_USAGE: Option '--name <value>' argument missing — usage: facegate person add \(--name NAME/);
  const none = await runCli(['identify']);
  assert.equal(none.code, ExitCode.USAGE);
  assert.match(none.stderr, /^FG_ERR_USAGE: no image given — usage: facegate identify IMAGE\.\.\. .*; 'facegate identify --help' explains each option\n$/);
});
