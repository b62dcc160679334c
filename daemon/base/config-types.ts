import { Type, type TLiteral, type TUnion } from '@sinclair/typebox';
import { FacegateError } from './errors.js';

/**
 * Longest delay Node's setTimeout/setInterval honour (a signed 32-bit count of ms): a longer one is
 * replaced by 1 ms, so a timer fires at once and, as an interval, every millisecond. Every duration
 * in the config that becomes a timer has its maximum at or below this.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Longest retention in days: now minus this stays a valid Date with a four-digit year, which the
 * purge turns into an ISO date ('YYYY-MM-DD').
 */
export const MAX_RETENTION_DAYS = 36_500;

/** A string that must be one of `values`; errors list them (see load.ts). */
export function OneOf<const T extends readonly string[]>(
  values: T,
  options: { default?: T[number]; description?: string } = {},
): TUnion<TLiteral<T[number]>[]> {
  return Type.Union(
    values.map((v) => Type.Literal(v)),
    options,
  ) as TUnion<TLiteral<T[number]>[]>;
}

/** A config section: unknown keys rejected, every field defaulted when the section is left out. */
export const Section = <P extends Parameters<typeof Type.Object>[0]>(properties: P, description: string) =>
  Type.Object(properties, { additionalProperties: false, default: {}, description });

export interface ConfigIssue {
  /** Dotted key path, e.g. `vision.detect.min_score`. */
  path: string;
  message: string;
}

/** A config that runs but will not do what it is meant to: named with a code and its fix, never refused. */
export interface ConfigWarning extends ConfigIssue {
  code: `FG_WARN_${string}`;
  /** What to change, one sentence. */
  hint: string;
}

export class ConfigError extends FacegateError {
  readonly source: string;
  readonly issues: ConfigIssue[];
  override readonly name = 'ConfigError';
  constructor(source: string, issues: ConfigIssue[]) {
    super(
      'FG_ERR_CONFIG',
      `invalid config ${source}:\n` + issues.map((i) => `  ${i.path || '(root)'}: ${i.message}`).join('\n'),
      'fix the keys above (see config/facegate.example.yaml and config/facegate.schema.json), then run `facegate validate-config`',
    );
    this.source = source;
    this.issues = issues;
  }
}
