// The CLI's commands, each loaded once chosen. Loading every command's module brings in all of the
// daemon (its web server, broker client, cameras, models, SQLite, libsodium): about a second on a
// small box before `facegate --version` or `facegate status` could answer. The build writes
// command-index.json beside the compiled module (scripts/command-index.mjs): each command's words,
// aliases, summary and usage, and the module and export it comes from, so that only the chosen
// command's module is loaded. Where there is no index (the source run under tsx, a test compiled
// on its own) or an entry does not lead to the command it names, every command is loaded, as before.
import { readFileSync } from 'node:fs';
import type { Command, CommandInfo } from './command.js';

/** The commands to choose from: what help and matching need of each, and the command itself once chosen. */
export interface CommandCatalog {
  readonly commands: readonly CommandInfo[];
  load(info: CommandInfo): Promise<Command>;
}

/** Commands already loaded. */
export function catalogOf(commands: readonly Command[]): CommandCatalog {
  return {
    commands,
    load: async (info) => commands.find((c) => sameWords(c, info)) ?? missing(info),
  };
}

/** One command of the index: what it is, and where its Command is exported (an array's element where `index` is given). */
interface IndexEntry extends CommandInfo {
  readonly module: string;
  readonly export: string;
  readonly index?: number;
}

export const COMMAND_INDEX_FILE = 'command-index.json';

/** The built CLI's catalog, from the index beside this module; every command loaded where there is none or it is malformed. */
export async function commandCatalog(indexUrl = new URL(COMMAND_INDEX_FILE, import.meta.url)): Promise<CommandCatalog> {
  const entries = readIndex(indexUrl);
  if (!entries) return allCommands();
  return {
    commands: entries,
    async load(info) {
      const entry = entries.find((e) => sameWords(e, info));
      const loaded = entry ? await fromModule(entry, indexUrl) : undefined;
      // A stale or damaged index costs the second it saves, never the wrong command.
      return loaded && sameWords(loaded, info) ? loaded : (await allCommands()).load(info);
    },
  };
}

async function allCommands(): Promise<CommandCatalog> {
  return catalogOf((await import('./commands.js')).COMMANDS);
}

function readIndex(url: URL): IndexEntry[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(url, 'utf8'));
  } catch {
    return undefined;
  }
  const commands = (parsed as { commands?: unknown } | null)?.commands;
  return Array.isArray(commands) && commands.length > 0 && commands.every(isEntry) ? commands : undefined;
}

const isWords = (v: unknown): v is string[] => Array.isArray(v) && v.length > 0 && v.every((w) => typeof w === 'string' && w.length > 0);

function isEntry(v: unknown): v is IndexEntry {
  const e = v as Partial<Record<keyof IndexEntry, unknown>> | null;
  return (
    typeof e === 'object' &&
    e !== null &&
    isWords(e.words) &&
    (e.aliases === undefined || (Array.isArray(e.aliases) && e.aliases.every(isWords))) &&
    typeof e.summary === 'string' &&
    typeof e.usage === 'string' &&
    typeof e.module === 'string' &&
    // A module of the build, beside this one or under the same dist/: never a package or an absolute path.
    /^\.\.?\/[\w./-]+\.js$/.test(e.module) &&
    typeof e.export === 'string' &&
    (e.index === undefined || (Number.isInteger(e.index) && (e.index as number) >= 0))
  );
}

/**
 * The command an entry leads to, if it is one. A module that fails to load is the command's own
 * failure, reported as it is: loading every command after it would only fail on the same module.
 */
async function fromModule(entry: IndexEntry, indexUrl: URL): Promise<Command | undefined> {
  const exported = ((await import(new URL(entry.module, indexUrl).href)) as Record<string, unknown>)[entry.export];
  const command = entry.index === undefined ? exported : Array.isArray(exported) ? exported[entry.index] : undefined;
  return typeof (command as Command | undefined)?.run === 'function' ? (command as Command) : undefined;
}

const sameWords = (a: CommandInfo, b: CommandInfo) => a.words.join(' ') === b.words.join(' ');

function missing(info: CommandInfo): never {
  throw new Error(`no command '${info.words.join(' ')}' among those loaded`);
}
