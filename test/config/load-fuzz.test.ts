// Fuzz tests of config loading: random YAML documents, and random mutations of the example config.
// parseConfig must give a valid frozen config or a coded FacegateError (FG_ERR_CONFIG), never
// another throw, and never touch Object.prototype.
import '../support/fast-tier.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { FacegateError } from '../../daemon/base/errors.js';
import { parseConfig } from '../../daemon/config/load.js';
import { fuzzParameters, HUGE_NUMBER_TEXTS, hostileValue, PROTOTYPE_KEYS } from '../support/fuzz.js';

const EXAMPLE_TEXT = readFileSync(new URL('../../config/facegate.example.yaml', import.meta.url), 'utf8');
const EXAMPLE = parseYaml(EXAMPLE_TEXT) as Record<string, unknown>;

/** Parses, and says which way it went; anything but a config or a coded error fails the property. */
function outcome(text: string): 'config' | 'refused' {
  try {
    const c = parseConfig(text, 'fuzz.yaml');
    assert.ok(Object.isFrozen(c));
    return 'config';
  } catch (e) {
    assert.ok(e instanceof FacegateError, `not a coded error: ${String(e)}`);
    assert.equal(e.code, 'FG_ERR_CONFIG');
    assert.ok(e.hint);
    return 'refused';
  } finally {
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype untouched');
  }
}

/** Every key path of the example, sections and leaves, to aim mutations at. */
function paths(value: unknown, prefix: string[] = []): string[][] {
  if (typeof value !== 'object' || value === null) return [prefix];
  const own = Object.entries(value).flatMap(([k, v]) => paths(v, [...prefix, k]));
  return prefix.length ? [prefix, ...own] : own;
}
const EXAMPLE_PATHS = paths(EXAMPLE);

type Mutation = { path: number; op: 'set'; value: unknown } | { path: number; op: 'delete' } | { path: number; op: 'add'; key: string; value: unknown };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ path: fc.nat(), op: fc.constant('set' as const), value: fc.oneof(hostileValue, fc.double(), fc.integer({ min: -(2 ** 53), max: 2 ** 53 }), fc.constantFrom(1e308, -1e308, Infinity, NaN, '', ' ', 'rtsp://u:p@h/x')) }),
  fc.record({ path: fc.nat(), op: fc.constant('delete' as const) }),
  fc.record({ path: fc.nat(), op: fc.constant('add' as const), key: fc.oneof(fc.constantFrom(...PROTOTYPE_KEYS), fc.string({ maxLength: 10 })), value: hostileValue }),
);

function mutate(base: unknown, mutations: Mutation[]): unknown {
  const doc = structuredClone(base) as Record<string, unknown>;
  for (const m of mutations) {
    const path = EXAMPLE_PATHS[m.path % EXAMPLE_PATHS.length]!;
    let parent: Record<string, unknown> | undefined = doc;
    for (const k of path.slice(0, -1)) parent = parent && typeof parent[k] === 'object' && parent[k] !== null ? (parent[k] as Record<string, unknown>) : undefined;
    if (!parent) continue;
    const last = path[path.length - 1]!;
    if (m.op === 'set') parent[last] = m.value;
    else if (m.op === 'delete') delete parent[last];
    else if (typeof parent[last] === 'object' && parent[last] !== null) Object.defineProperty(parent[last], m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
  }
  return doc;
}

test('the example config parses (the base the mutations start from)', () => {
  assert.equal(outcome(EXAMPLE_TEXT), 'config');
});

test('config: random mutations of the example config give a config or FG_ERR_CONFIG naming the key', (t) => {
  const seen = { config: 0, refused: 0 };
  fc.assert(
    fc.property(fc.array(mutation, { minLength: 1, maxLength: 5 }), (mutations) => {
      seen[outcome(stringifyYaml(mutate(EXAMPLE, mutations)))]++;
    }),
    fuzzParameters(600),
  );
  t.diagnostic(`${seen.config + seen.refused} mutated configs (${seen.config} accepted, ${seen.refused} refused)`);
  assert.ok(seen.config > 0 && seen.refused > 0, 'both outcomes reached');
});

test('config: random YAML documents, text and structures, give a config or FG_ERR_CONFIG', () => {
  const yamlText = fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('latin1')),
    hostileValue.map((v) => stringifyYaml(v)),
    fc.dictionary(fc.oneof(fc.constantFrom(...PROTOTYPE_KEYS, 'vision', 'mqtt', 'cameras', 'retention', 'gallery'), fc.string({ maxLength: 8 })), hostileValue).map((v) => stringifyYaml(v)),
    fc.constantFrom(...HUGE_NUMBER_TEXTS).map((n) => `retention:\n  audit_days: ${n}\nmqtt:\n  inflight: ${n}\n`),
    fc.integer({ min: 1, max: 3000 }).map((n) => `vision: ${'['.repeat(n)}${']'.repeat(n)}\n`),
    fc.integer({ min: 1, max: 400 }).map((n) => `${Array.from({ length: n }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n')} 1\n`),
    // An alias bomb: each level names the one before it ten times.
    fc.integer({ min: 2, max: 12 }).map((n) => `a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n${Array.from({ length: n }, (_, i) => `a${i + 1}: &a${i + 1} [${Array(10).fill(`*a${i}`).join(', ')}]`).join('\n')}\n`),
    fc.constantFrom('__proto__:\n  polluted: true\n', 'constructor:\n  prototype:\n    polluted: true\n', 'vision:\n  __proto__:\n    polluted: true\n', '<<: {polluted: true}\n', '!!js/function "f"\n', '%YAML 9.9\n---\na: 1\n'),
  );
  fc.assert(
    fc.property(yamlText, (text) => {
      outcome(text);
    }),
    fuzzParameters(1000),
  );
});

test('config: a __proto__, constructor or prototype key anywhere, in YAML or JSON text, is always refused with its path', () => {
  const mappingPaths = EXAMPLE_PATHS.filter((path) => {
    let v: unknown = EXAMPLE;
    for (const k of path) v = (v as Record<string, unknown>)[k];
    return typeof v === 'object' && v !== null && !Array.isArray(v); // a list's other keys are not written out
  });
  const hostileKey = fc.record({
    at: fc.nat(),
    // New mappings below the chosen place, so the key also lands where the schema has no section.
    deeper: fc.array(fc.string({ minLength: 1, maxLength: 6 }).filter((k) => !/^(__proto__|constructor|prototype)$/.test(k)), { maxLength: 3 }),
    key: fc.constantFrom('__proto__', 'constructor', 'prototype'),
    value: fc.oneof(hostileValue, fc.constantFrom({ enabled: true, port: 18999 }, { polluted: true })),
    json: fc.boolean(),
  });
  fc.assert(
    fc.property(hostileKey, ({ at, deeper, key, value, json }) => {
      const doc = structuredClone(EXAMPLE);
      const path = [...mappingPaths[at % mappingPaths.length]!, ...deeper];
      let parent: Record<string, unknown> = doc;
      for (const k of path) {
        if (typeof parent[k] !== 'object' || parent[k] === null) Object.defineProperty(parent, k, { value: {}, enumerable: true, writable: true, configurable: true });
        parent = parent[k] as Record<string, unknown>;
      }
      Object.defineProperty(parent, key, { value, enumerable: true, writable: true, configurable: true });
      const text = json ? JSON.stringify(doc) : stringifyYaml(doc);
      assert.ok(text.includes(key), 'the key is in the text');
      assert.throws(
        () => parseConfig(text, 'fuzz.yaml'),
        (e: unknown) => e instanceof FacegateError && e.code === 'FG_ERR_CONFIG' && e.message.includes(`${[...path, key].join('.')}: "${key}" is not a config key`),
      );
      assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype untouched');
    }),
    fuzzParameters(600),
  );
});
