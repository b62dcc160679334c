import { Type, type TLiteral, type TUnion } from '@sinclair/typebox';

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
