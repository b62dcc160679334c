import { existsSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { FacegateError } from '../base/errors.js';
import { defaultConfig, loadConfigFile } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { closestWord } from './closest-word.js';

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
  /** Other words that select the same command: names installers already use, documented as aliases (help.ts, README). */
  readonly aliases?: readonly (readonly string[])[];
  readonly summary: string;
  /** Arguments after the command words, for help: 'IMAGE... [--json]'. */
  readonly usage: string;
  run(argv: string[], io: CliIo): Promise<number>;
}

/**
 * What chooses a command, and how to load it. Every command's module together is the whole daemon
 * (its web server, broker client, cameras, models, SQLite, libsodium): loading them all took about
 * a second before `facegate --version` could answer, so the command line loads only the command
 * it runs. `words` and `aliases` are the command's own; test/cli/help.test.ts holds them equal.
 */
export interface CommandRoute {
  readonly words: readonly string[];
  readonly aliases?: readonly (readonly string[])[];
  load(): Promise<Command>;
}

export class UsageError extends FacegateError {
  override readonly name = 'UsageError';
  /** The command's arguments after its words, as in its --help: 'IMAGE... [--json]'. */
  readonly usage: string;
  constructor(message: string, usage: string) {
    super('FG_ERR_USAGE', message, `usage: ${usage}`);
    this.usage = usage;
  }

  /** The line for the terminal, once the command is known: its whole usage, and where each option is explained. */
  lineFor(words: readonly string[]): string {
    const command = `facegate ${words.join(' ')}`;
    return `${this.code}: ${this.message} — usage: ${command} ${this.usage}; '${command} --help' explains each option`;
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * node:util parseArgs with facegate's usage errors; option types are inferred from `options`. The
 * one place parseArgs' refusals become usage errors: an unknown option is named with the option of
 * this command it most likely meant, rather than parseArgs' own text (which is about positionals
 * that start with '-').
 */
export function parseCommandArgs<O extends Options>(argv: string[], options: O, usage: string) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw usageErrorOf(e, argv, options, usage);
  }
}

function usageErrorOf(e: unknown, argv: string[], options: Options, usage: string): UsageError {
  const unknown = (e as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? unknownOption(argv, options) : undefined;
  if (unknown === undefined) return new UsageError((e as Error).message, usage);
  const typed = unknown.replace(/^--?/, '');
  const meant = closestWord(typed, Object.keys(options));
  return new UsageError(`unknown option ${unknown}${meant !== undefined ? ` (did you mean --${meant}?)` : ''}`, usage);
}

/** The first option in `argv` that `options` does not know, as typed (`--imgae`, `-x`); read from parseArgs' own tokens. */
function unknownOption(argv: string[], options: Options): string | undefined {
  const { tokens } = parseArgs({ args: argv, options, allowPositionals: true, strict: false, tokens: true });
  for (const t of tokens) if (t.kind === 'option' && !Object.hasOwn(options, t.name)) return t.rawName;
  return undefined;
}

/** What a command's options and arguments parsed to. */
export type Parsed<O extends Options> = ReturnType<typeof parseCommandArgs<O>>;

/** How many arguments (besides options) a command takes: exactly n, or from least to most. */
export type ArgCount = number | readonly [least: number, most: number];

/** n strings, for a command that takes exactly n arguments; any number of them otherwise. */
type Strings<N extends number, T extends string[] = []> = T['length'] extends N ? T : Strings<N, [...T, string]>;
type ArgsOf<A extends ArgCount> = A extends number ? (number extends A ? string[] : Strings<A>) : string[];

export interface CommandSpec<O extends Options, A extends ArgCount> {
  readonly words: readonly string[];
  readonly aliases?: readonly (readonly string[])[];
  readonly summary: string;
  readonly usage: string;
  readonly options: O;
  /** Its arguments besides options; none when left out. */
  readonly args?: A;
  /** What a wrong number of arguments is told (else "missing argument" or "unexpected argument X"). */
  readonly argsError?: string;
  run(parsed: { values: Parsed<O>['values']; positionals: ArgsOf<A> }, io: CliIo): Promise<number> | number;
}

/**
 * A command from what is its own: words, summary, usage, options, how many arguments, and what it
 * does with them. Parsing (and its usage errors) and the count of arguments are the same for
 * every command, and done here.
 */
export function command<O extends Options, A extends ArgCount = 0>(spec: CommandSpec<O, A>): Command {
  const { run, options, args, argsError, ...described } = spec;
  return {
    ...described,
    async run(argv, io) {
      const { values, positionals } = parseCommandArgs(argv, options, spec.usage);
      checkArgCount(positionals, args ?? 0, argsError, spec.usage);
      return run({ values, positionals: positionals as ArgsOf<A> }, io);
    },
  };
}

function checkArgCount(given: readonly string[], count: ArgCount, error: string | undefined, usage: string): void {
  const [least, most] = typeof count === 'number' ? [count, count] : count;
  if (given.length < least) throw new UsageError(error ?? 'missing argument', usage);
  if (given.length > most) throw new UsageError(error ?? `unexpected argument ${given[most]}`, usage);
}

/** Options every command that reads the config accepts. */
export const CONFIG_OPTIONS = {
  config: { type: 'string', short: 'c' },
} as const;

/** Where install.sh puts the box's config, and the unit reads it from. */
export const INSTALLED_CONFIG = '/etc/facegate/config.yaml';

/** A config file and how the command found it, for the message when it cannot be read. */
export interface ConfigSource {
  path: string;
  from: '--config' | 'FACEGATE_CONFIG' | 'the installed config';
}

/**
 * The config a command reads: --config, else $FACEGATE_CONFIG, else the installed
 * /etc/facegate/config.yaml where there is one; undefined means the built-in defaults. A
 * FACEGATE_CONFIG that is set but empty asks for the defaults, even on a box with an installed config.
 */
export function configSource(given: string | undefined, env: NodeJS.ProcessEnv, installed = INSTALLED_CONFIG): ConfigSource | undefined {
  if (given !== undefined) return { path: given, from: '--config' };
  const fromEnv = env.FACEGATE_CONFIG;
  if (fromEnv !== undefined) return fromEnv === '' ? undefined : { path: fromEnv, from: 'FACEGATE_CONFIG' };
  return existsSync(installed) ? { path: installed, from: 'the installed config' } : undefined;
}

/** Reads `source` with `load`; a file that cannot be read says how it was found. */
export function loadFromSource<T>(source: ConfigSource, load: (path: string) => T): T {
  try {
    return load(source.path);
  } catch (e) {
    if (e instanceof FacegateError && e.code === 'FG_ERR_CONFIG_UNREADABLE') {
      const next = source.from === '--config' ? 'check the path given with --config' : source.from === 'FACEGATE_CONFIG' ? 'check FACEGATE_CONFIG, or give --config FILE' : `give --config FILE, or make ${source.path} readable`;
      throw new FacegateError(e.code, `${e.message} (from ${source.from})`, next, { cause: e });
    }
    throw e;
  }
}

/** The config of a command: as configSource finds it, or the built-in defaults. */
export function resolveConfig(configPath: string | undefined, io: CliIo): Config {
  const source = configSource(configPath, io.env);
  return source ? loadFromSource(source, loadConfigFile) : defaultConfig();
}
