import { Type, type TLiteral, type TUnion } from '@sinclair/typebox';

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
