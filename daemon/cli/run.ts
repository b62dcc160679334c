import { ExitCode, isFacegateError } from '../base/errors.js';
import { ConfigError } from '../base/config-types.js';
import { UsageError, type CliIo, type Command } from './command.js';
import { COMMANDS } from './commands.js';
import { aliasRows, commandGroups, commandHelp, groupHelp } from './help.js';
import { packageVersion } from '../base/paths.js';
import { errorText } from './terminal-text.js';

function findCommand(argv: string[]): { command: Command; words: readonly string[]; rest: string[] } | undefined {
  // Each command's words and its aliases' (`person enrol` is `person add`), longest match first, so
  // that `person add` wins over a hypothetical `person`.
  const names = COMMANDS.flatMap((command) => [command.words, ...(command.aliases ?? [])].map((words) => ({ command, words })));
  names.sort((a, b) => b.words.length - a.words.length);
  for (const { command, words } of names) {
    if (words.every((w, i) => argv[i] === w)) return { command, words, rest: argv.slice(words.length) };
  }
  return undefined;
}

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.words.join(' ').length));
  const lines = [...COMMANDS.map((c) => `  ${c.words.join(' ').padEnd(width)}  ${c.summary}`), ...aliasRows(COMMANDS, width)];
  return ['usage: facegate COMMAND [ARGS]', '       facegate --version', '', 'commands:', ...lines, '', "Run 'facegate COMMAND --help' for a command's options and an example."].join('\n') + '\n';
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.stdout(help());
    return argv.length === 0 ? ExitCode.USAGE : ExitCode.OK;
  }
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V' || argv[0] === 'version')) {
    io.stdout(`facegate ${packageVersion()}\n`);
    return ExitCode.OK;
  }
  const found = findCommand(argv);
  if (!found && commandGroups(COMMANDS).includes(argv[0]!)) {
    // `facegate person` or `facegate person --help`: the group's commands, as git and docker list them.
    const asked = argv.length === 2 && (argv[1] === '--help' || argv[1] === '-h');
    if (asked) {
      io.stdout(groupHelp(argv[0]!, COMMANDS));
      return ExitCode.OK;
    }
    if (argv.length === 1) {
      io.stderr(groupHelp(argv[0]!, COMMANDS));
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
    return await command.run(rest, io);
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
