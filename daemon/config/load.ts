import { Value, type ValueError } from '@sinclair/typebox/value';
import type { Static, TSchema } from '@sinclair/typebox';
import { Lexer, parse as parseYaml, YAMLParseError } from 'yaml';
import { calendarDateProblem } from '../base/calendar-date.js';
import { ConfigError, type ConfigIssue } from '../base/config-types.js';
import { FacegateError } from '../base/errors.js';
import { readInputFile } from '../base/input-file.js';
import { withCameraFps } from '../camera/config.js';
import { isSecretKey, redactSecrets, redactText, REDACTED } from '../base/log.js';
import { cameraFpsFor } from '../track/config.js';
import { ConfigSchema, type Config, type ConfigFile } from './schema.js';
import { nestedDeeperThan } from '../base/nesting.js';

/** Parses and validates config text once, at the edge, into a frozen typed object with every default filled. */
export function parseConfig(text: string, source: string): Config {
  return deepFreeze(resolveDependentDefaults(parseYamlConfig(ConfigSchema, text, source)));
}

/**
 * A YAML config document checked against `schema` with every default filled: the daemon's config
 * and the central consumer's are read by this one parser, with the same bounds and refusals.
 */
export function parseYamlConfig<S extends TSchema>(schema: S, text: string, source: string): Static<S> {
  const tooDeep = yamlNestingProblem(text);
  if (tooDeep) throw new ConfigError(source, [{ path: '', message: tooDeep }]);
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (e) {
    const where = e instanceof YAMLParseError && e.linePos ? ` at line ${e.linePos[0].line}` : '';
    throw new ConfigError(source, [{ path: '', message: `not valid YAML${where}: ${redactText((e as Error).message.split('\n')[0] ?? '')}` }]);
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(source, [{ path: '', message: 'expected a mapping of sections (vision:, cameras:, ...)' }]);
  }
  if (nestedDeeperThan(raw, MAX_CONFIG_DEPTH)) throw new ConfigError(source, [{ path: '', message: `nested deeper than ${MAX_CONFIG_DEPTH} levels` }]);
  const prototypeIssues = prototypeKeyIssues(raw);
  if (prototypeIssues.length > 0) throw new ConfigError(source, prototypeIssues);
  // Before defaults: TypeBox fills a list's default by merging the given value into it, so a
  // mapping where a list belongs (`cameras:` written as `door: {...}`) would become an empty list.
  const shapeIssues = listIssues(schema, raw, []);
  if (shapeIssues.length > 0) throw new ConfigError(source, shapeIssues);
  const withDefaults = Value.Default(schema, structuredClone(raw));
  const issues = collectIssues(schema, withDefaults);
  if (issues.length > 0) throw new ConfigError(source, issues);
  return withDefaults as Static<S>;
}

/**
 * Deepest nesting of a config document: the schema's own is under 10 levels, and what runs after
 * parsing (clone, defaults, checks) recurses, so a deeper document is refused before it.
 */
const MAX_CONFIG_DEPTH = 32;

/** Most columns of indentation: block nesting needs one more per level, so this bounds it. */
const MAX_INDENT = 256;
const DEEPER_INDENT = /^[ \t]{257,}\S/m; // MAX_INDENT + 1 columns, then the line's content

/**
 * Refuses text nested too deeply before the YAML parser sees it. That parser recurses once per
 * level: a few thousand nested `[` exhaust the stack, and near the stack's end V8 may fail
 * compiling a regular expression with a fatal out-of-memory that ends the process (no exception to
 * catch; a reload would take the daemon down). The lexer is a flat state machine and counts flow
 * collections safely; block nesting needs deeper indentation per level.
 */
function yamlNestingProblem(text: string): string | undefined {
  let depth = 0;
  for (const token of new Lexer().lex(text)) {
    if (token === '[' || token === '{') {
      if (++depth > MAX_CONFIG_DEPTH) return `nested deeper than ${MAX_CONFIG_DEPTH} levels`;
    } else if (token === ']' || token === '}') depth--;
  }
  const indent = DEEPER_INDENT.exec(text);
  if (indent) return `line ${text.slice(0, indent.index).split('\n').length} is indented more than ${MAX_INDENT} columns`;
  return undefined;
}

/** Keys that name an object's prototype machinery rather than data. */
const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Every `__proto__`, `constructor` or `prototype` key, at any depth, refused before defaults are
 * filled: the YAML parser keeps `__proto__` as a plain own key, but TypeBox's defaults copy a
 * section's keys onto a fresh object, where assigning `__proto__` sets the prototype. Its keys then
 * passed the unknown-key check (they are no longer own keys) and were still read as settings
 * (`web: { __proto__: { enabled: true } }` started the console). No schema key has these names,
 * and neither may a camera or role name, so refusing them everywhere loses nothing. Runs after the
 * depth bound, so the walk's recursion is bounded too.
 */
function prototypeKeyIssues(value: unknown, path: string[] = []): ConfigIssue[] {
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, child]) => {
    const here = [...path, key];
    if (PROTOTYPE_KEYS.has(key)) return [{ path: here.join('.'), message: `${JSON.stringify(key)} is not a config key (it names JavaScript's prototype machinery); remove it` }];
    return prototypeKeyIssues(child, here);
  });
}

/** Where the schema has a list and the document something else; descends only where both are mappings or lists. */
function listIssues(schema: TSchema, value: unknown, path: string[]): ConfigIssue[] {
  if (value === undefined) return [];
  const node = schema as { type?: string; properties?: Record<string, TSchema>; items?: TSchema };
  if (node.type === 'array') {
    if (!Array.isArray(value)) return [{ path: path.join('.'), message: `expected a list (one "- " entry per item), got ${value !== null && typeof value === 'object' ? 'a mapping' : JSON.stringify(redactSecrets(value))}` }];
    return node.items ? value.flatMap((item, i) => listIssues(node.items!, item, [...path, String(i)])) : [];
  }
  if (node.type === 'object' && node.properties && value !== null && typeof value === 'object' && !Array.isArray(value)) {
    return Object.entries(node.properties).flatMap(([key, child]) => (Object.hasOwn(value, key) ? listIssues(child, (value as Record<string, unknown>)[key], [...path, key]) : []));
  }
  return [];
}

/** Defaults the schema cannot give because they follow another section: a camera's fps follows track. */
function resolveDependentDefaults(file: ConfigFile): Config {
  return { ...file, cameras: withCameraFps(file.cameras, cameraFpsFor(file.track)) };
}

export function loadConfigFile(path: string): Config {
  return parseConfig(readConfigText(path), path);
}

/** A config file's text, bounded in size; a file that cannot be read is FG_ERR_CONFIG_UNREADABLE. */
export function readConfigText(path: string): string {
  try {
    return readInputFile(path, 'config', 'config').toString('utf8');
  } catch (e) {
    if (e instanceof FacegateError) throw e;
    throw new FacegateError(
      'FG_ERR_CONFIG_UNREADABLE',
      `cannot read config ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      'check the path given with --config or FACEGATE_CONFIG',
    );
  }
}

/** The config every command gets when none is given: all defaults. */
export function defaultConfig(): Config {
  return parseConfig('{}', '(defaults)');
}

function collectIssues(schema: TSchema, value: unknown): ConfigIssue[] {
  const seen = new Set<string>();
  const issues: ConfigIssue[] = [];
  for (const error of Value.Errors(schema, value)) {
    const path = error.path.split('/').filter(Boolean).join('.');
    // A bad union member also reports one error per member; one line per key is enough.
    if (seen.has(path)) continue;
    seen.add(path);
    issues.push({ path, message: describe(error, path) });
  }
  return issues;
}

/** The value is shown so that the fix is obvious, but never a secret: a secret key's value, or a URL's credentials. */
function describe(error: ValueError, path: string): string {
  const notADay = calendarDateProblem(error);
  if (notADay) return notADay;
  const got = `got ${isSecretKey(path) ? REDACTED : JSON.stringify(redactSecrets(error.value))}`;
  const allowed = literalChoices(error.schema);
  if (allowed) return `expected one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}, ${got}`;
  if (error.message === 'Unexpected property') return 'unknown key (check its spelling and section)';
  return `${error.message.toLowerCase()}, ${got}`;
}

function literalChoices(schema: TSchema): unknown[] | undefined {
  const members = (schema as { anyOf?: TSchema[] }).anyOf;
  if (!members || !members.every((m) => 'const' in m)) return undefined;
  return members.map((m) => (m as unknown as { const: unknown }).const);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
