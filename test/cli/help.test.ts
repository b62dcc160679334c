import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { COMMANDS } from '../../daemon/cli/commands.js';
import { commandExample, commandOptions, helpTableCommands } from '../../daemon/cli/help.js';
import { main } from '../../daemon/cli/run.js';
import { ExitCode } from '../../daemon/base/errors.js';
import { runCli } from '../support/cli.js';

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
