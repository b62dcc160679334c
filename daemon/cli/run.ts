import { ExitCode, isFacegateError } from '../base/errors.js';
import { ConfigError } from '../base/config-types.js';
import { UsageError, type CliIo, type CommandRoute } from './command.js';
import { COMMAND_ROUTES, loadCommands } from './commands.js';
import { aliasRows, commandGroups, commandHelp, groupHelp } from './help.js';
import { packageVersion } from '../base/paths.js';
import { errorText } from './terminal-text.js';

function findCommand(routes: readonly CommandRoute[], argv: string[]): { route: CommandRoute; words: readonly string[]; rest: string[] } | undefined {
  // Each command's words and its aliases' (`person enrol` is `person add`), longest match first, so
  // that `person add` wins over a hypothetical `person`.
  const names = routes.flatMap((route) => [route.words, ...(route.aliases ?? [])].map((words) => ({ route, words })));
  names.sort((a, b) => b.words.length - a.words.length);
  for (const { route, words } of names) {
    if (words.every((w, i) => argv[i] === w)) return { route, words, rest: argv.slice(words.length) };
  }
  return undefined;
}

/** The commands a group's help lists: those of the group, and those with an alias in it. */
const inGroup = (routes: readonly CommandRoute[], group: string) => routes.filter((r) => [r.words, ...(r.aliases ?? [])].some((w) => w[0] === group));

async function help(routes: readonly CommandRoute[]): Promise<string> {
  const commands = await loadCommands(routes);
  const width = Math.max(...commands.map((c) => c.words.join(' ').length));
  const lines = [...commands.map((c) => `  ${c.words.join(' ').padEnd(width)}  ${c.summary}`), ...aliasRows(commands, width)];
  return ['usage: facegate COMMAND [ARGS]', '       facegate --version', '', 'commands:', ...lines, '', "Run 'facegate COMMAND --help' for a command's options and an example."].join('\n') + '\n';
}

/** `facegate ARGV...`: the command `argv` names among `routes`, loaded once chosen; its exit code. */
export async function main(argv: string[], io: CliIo, routes: readonly CommandRoute[] = COMMAND_ROUTES): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.stdout(await help(routes));
    return argv.length === 0 ? ExitCode.USAGE : ExitCode.OK;
  }
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V' || argv[0] === 'version')) {
    io.stdout(`facegate ${packageVersion()}\n`);
    return ExitCode.OK;
  }
  const found = findCommand(routes, argv);
  if (!found && commandGroups(routes).includes(argv[0]!)) {
    // `facegate person` or `facegate person --help`: the group's commands, as git and docker list them.
    const asked = argv.length === 2 && (argv[1] === '--help' || argv[1] === '-h');
    if (asked || argv.length === 1) {
      const list = groupHelp(argv[0]!, await loadCommands(inGroup(routes, argv[0]!)));
      if (asked) io.stdout(list);
      else io.stderr(list);
      return asked ? ExitCode.OK : ExitCode.USAGE;
    }
    io.stderr(`FG_ERR_USAGE: unknown command '${argv.join(' ')}' — run 'facegate ${argv[0]!} --help' for the list\n`);
    return ExitCode.USAGE;
  }
  if (!found) {
    io.stderr(`FG_ERR_USAGE: unknown command '${argv.join(' ')}' — run 'facegate --help' for the list\n`);
    return ExitCode.USAGE;
  }
  const { route, words, rest } = found;
  const command = await route.load();
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
