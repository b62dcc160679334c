import '../support/fast-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

// tsc (target ES2022) assigns a derived class's parameter properties at the top of its constructor
// when super() is not the constructor's own statement: the build then throws "Must call super
// constructor" where tsx ran fine. The project's ESLint config forbids parameter properties in any
// class that extends another; these tests lint snippets through it, so turning the rule off fails them.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const eslint = new ESLint({ cwd: ROOT });

async function refusals(code: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${code}\n`, { filePath: join(ROOT, 'daemon/gallery/x.ts') });
  assert.ok(result, 'ESLint linted nothing');
  return result.messages.filter((m) => m.ruleId === 'no-restricted-syntax').map((m) => m.message);
}

test('a parameter property in a class that extends another is refused, super() first or not', async () => {
  const conditional = `export class Tamper extends Error {
  constructor(readonly kind: string) {
    if (kind === 'lookup') super('a');
    else super('b');
  }
}`;
  const [message] = await refusals(conditional);
  assert.match(message ?? '', /no parameter properties in a class that extends another/);
  assert.equal((await refusals('export const E = class extends Error {\n  constructor(private readonly at: number) {\n    super(String(at));\n  }\n};')).length, 1, 'a class expression too');
});

test('fields declared and assigned after super(), and parameter properties in a base class, pass', async () => {
  assert.deepEqual(await refusals('export class Tamper extends Error {\n  readonly kind: string;\n  constructor(kind: string) {\n    super(kind);\n    this.kind = kind;\n  }\n}'), []);
  assert.deepEqual(await refusals('export class Store {\n  constructor(private readonly path: string) {}\n  where(): string {\n    return this.path;\n  }\n}'), []);
  const nested = 'export class Outer extends Error {\n  make() {\n    return class {\n      constructor(readonly at: number) {}\n    };\n  }\n}';
  assert.deepEqual(await refusals(nested), [], 'a base class inside a derived one');
});
