import fc from 'fast-check';

/**
 * Settings shared by the fuzz tests: a fixed seed, so that a failure seen once is seen again
 * (FUZZ_SEED=n explores another part of the space), and a time bound per property, so that a slow
 * machine runs fewer cases rather than a longer suite. Each test also asserts a least number of
 * cases, so the bound cannot quietly make a property meaningless.
 */
export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20_261_122);

export function fuzzParameters(numRuns: number, timeMs = 4000): fc.Parameters<unknown> {
  return { seed: FUZZ_SEED, numRuns, plugins: [fc.interruptAfterTimeLimit(timeMs)] };
}

/**
 * A fixed number of cases from the fixed seed, however long they take: what the guide asks of a new
 * fuzz test (fuzzParameters' time bound lets a slow machine run fewer). fast-check names the seed
 * and the path of a failing case in its error; `FUZZ_SEED=n` runs that seed again.
 */
export function fixedRuns(numRuns: number): fc.Parameters<unknown> {
  return { seed: FUZZ_SEED, numRuns };
}

/** Keys that reach Object.prototype or shadow its methods when a parser or a merge is careless. */
export const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__'] as const;

/** Numbers JSON can spell that JavaScript cannot hold exactly, or at all. */
export const HUGE_NUMBER_TEXTS = ['1e309', '-1e309', '9007199254740993', '123456789012345678901234567890', '-0', '1e-400', '0.1e1000'] as const;

/** JSON values with prototype keys among the ordinary ones, nested a few levels. */
export const hostileValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { maxDepth: 4, depthIdentifier: 'hostile' },
    fc.jsonValue({ maxDepth: 2 }),
    fc.dictionary(fc.oneof(fc.constantFrom(...PROTOTYPE_KEYS), fc.string({ maxLength: 8 })), tie('value'), { maxKeys: 4 }),
    fc.array(tie('value'), { maxLength: 4 }),
  ),
})).value;

/** Text a parser of JSON lines should survive: random bytes as text, JSON with hostile keys, deep nesting, huge numbers. */
export const hostileJsonText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
  hostileValue.map((v) => JSON.stringify(v) ?? 'null'),
  fc.integer({ min: 1, max: 50_000 }).map((n) => '['.repeat(n) + ']'.repeat(n)),
  fc.integer({ min: 1, max: 50_000 }).map((n) => '{"a":'.repeat(n) + '1' + '}'.repeat(n)),
  fc.constantFrom(...HUGE_NUMBER_TEXTS).map((n) => `{"id":${n},"method":"status","params":{"x":${n}}}`),
  fc.constantFrom(...PROTOTYPE_KEYS).map((k) => `{"${k}":{"polluted":true},"method":"status"}`),
);
