import { ExitCode, isFacegateError } from '../base/errors.js';
import { ConfigError } from '../base/config-types.js';
import { UsageError, type CliIo, type CommandInfo } from './command.js';
import type { CommandCatalog } from './catalog.js';
import { aliasRows, commandGroups, commandHelp, groupHelp } from './help.js';
import { packageVersion } from '../base/paths.js';
import { errorText } from './terminal-text.js';

function findCommand(commands: readonly CommandInfo[], argv: string[]): { command: CommandInfo; words: readonly string[]; rest: string[] } | undefined {
  // Each command's words and its aliases' (`person enrol` is `person add`), longest match first, so
  // that `person add` wins over a hypothetical `person`.
  const names = commands.flatMap((command) => [command.words, ...(command.aliases ?? [])].map((words) => ({ command, words })));
  names.sort((a, b) => b.words.length - a.words.length);
  for (const { command, words } of names) {
    if (words.every((w, i) => argv[i] === w)) return { command, words, rest: argv.slice(words.length) };
  }
  return undefined;
}

function help(commands: readonly CommandInfo[]): string {
  const width = Math.max(...commands.map((c) => c.words.join(' ').length));
  const lines = [...commands.map((c) => `  ${c.words.join(' ').padEnd(width)}  ${c.summary}`), ...aliasRows(commands, width)];
  return ['usage: facegate COMMAND [ARGS]', '       facegate --version', '', 'commands:', ...lines, '', "Run 'facegate COMMAND --help' for a command's options and an example."].join('\n') + '\n';
}

/** `facegate ARGV...`: the command `argv` names, chosen from `catalog` and loaded only once chosen; its exit code. */
export async function main(argv: string[], io: CliIo, catalog: CommandCatalog): Promise<number> {
  const { commands } = catalog;
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.stdout(help(commands));
    return argv.length === 0 ? ExitCode.USAGE : ExitCode.OK;
  }
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V' || argv[0] === 'version')) {
    io.stdout(`facegate ${packageVersion()}\n`);
    return ExitCode.OK;
  }
  const found = findCommand(commands, argv);
  if (!found && commandGroups(commands).includes(argv[0]!)) {
    // `facegate person` or `facegate person --help`: the group's commands, as git and docker list them.
    const asked = argv.length === 2 && (argv[1] === '--help' || argv[1] === '-h');
    if (asked) {
      io.stdout(groupHelp(argv[0]!, commands));
      return ExitCode.OK;
    }
    if (argv.length === 1) {
      io.stderr(groupHelp(argv[0]!, commands));
      return ExitCode.USAGE;
    }
    io.stderr(`FG_ERR_USAGE: unknown command '${argv.join(' ')}' — run 'facegate ${argv[0]!} --help' for the list\n`);
    return ExitCode.USAGE;
  }
  if (!found) {
    io.stderr(`FG_ERR_USAGE: unknown command '${argv.join(' ')}' — run 'facegate --help' for the list\n`);
    return ExitCode.USAGE;
  }
  const { command, words, rest } = found;
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(commandHelp(command));
    return ExitCode.OK;
  }
  try {
    return await (await catalog.load(command)).run(rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`${e.lineFor(words)}\n`);
      return ExitCode.USAGE;
    }
    if (isFacegateError(e)) {
      io.stderr(`${errorText(e)}\n`);
      if (e instanceof ConfigError) return ExitCode.CONFIG;
      return ExitCode.FAILED;
    }
    throw e; // a bug: let Node print the stack
  }
}
