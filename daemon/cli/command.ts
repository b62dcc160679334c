import { parseArgs, type ParseArgsConfig } from 'node:util';
import { FacegateError } from '../base/errors.js';
import { defaultConfig, loadConfigFile } from '../config/load.js';
import type { Config } from '../config/schema.js';

/** What a command may touch of the outside world; tests pass their own. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
  /** All of stdin, for commands that take a secret there rather than on the command line. */
  stdin?: () => Promise<string>;
  /**
   * One secret line: typed at a terminal with echo off after `prompt` (undefined when given up),
   * or the first line of stdin when it is a pipe or a file.
   */
  secretLine?: (prompt: string) => Promise<string | undefined>;
  /** stderr is a terminal: long operations draw their progress there (daemon/cli/progress.ts). */
  stderrIsTty?: boolean;
}

export interface Command {
  /** Words that select the command: ['analyze'] or ['person', 'add']. */
  readonly words: readonly string[];
  readonly summary: string;
  /** Arguments after the command words, for help: 'IMAGE... [--json]'. */
  readonly usage: string;
  run(argv: string[], io: CliIo): Promise<number>;
}

export class UsageError extends FacegateError {
  override readonly name = 'UsageError';
  constructor(message: string, usage: string) {
    super('FG_ERR_USAGE', message, `usage: ${usage}`);
  }
}

/** node:util parseArgs with facegate's usage errors; option types are inferred from `options`. */
export function parseCommandArgs<O extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: O,
  usage: string,
) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message, usage);
  }
}

/** Options every command that reads the config accepts. */
export const CONFIG_OPTIONS = {
  config: { type: 'string', short: 'c' },
} as const;

/** --config PATH, else $FACEGATE_CONFIG, else built-in defaults. */
export function resolveConfig(configPath: string | undefined, io: CliIo): Config {
  const path = configPath ?? io.env.FACEGATE_CONFIG;
  return path ? loadConfigFile(path) : defaultConfig();
}
