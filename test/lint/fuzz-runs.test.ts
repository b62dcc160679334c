// Fuzz and property tests run a fixed number of cases from a fixed seed (test/support/fuzz.ts), never
// "as many as fit in N seconds": on a loaded machine a time bound ran fewer cases and failed a
// "too few cases ran" check, or passed having proved less. These tests hold every fast-check run
// under test/ to fuzzParameters, and fuzzParameters to a count and a seed with no time bound.
import '../support/fast-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import ts from 'typescript';
import { FUZZ_SEED, fuzzParameters } from '../support/fuzz.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** fast-check's entry points that run or draw cases; the second argument is their parameters. */
const RUNNERS = new Set(['assert', 'check', 'sample', 'statistics']);

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? tsFiles(path) : /\.tsx?$/.test(path) ? [path] : [];
  });
}

/** Each fast-check run in `file` whose parameters are not a call of fuzzParameters, and each time bound, as `file:line what`. */
function unboundedRuns(file: string, text = readFileSync(file, 'utf8')): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node) && node.text === 'interruptAfterTimeLimit') found.push(`${where(source, node)} interruptAfterTimeLimit`);
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && ts.isIdentifier(node.expression.expression) && node.expression.expression.text === 'fc' && RUNNERS.has(node.expression.name.text)) {
      const parameters = node.arguments[1];
      const fixed = parameters !== undefined && ts.isCallExpression(parameters) && ts.isIdentifier(parameters.expression) && parameters.expression.text === 'fuzzParameters';
      if (!fixed) found.push(`${where(source, node)} fc.${node.expression.name.text}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const where = (source: ts.SourceFile, node: ts.Node) => `${relative(ROOT, source.fileName)}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;

test('fuzz runs: every fast-check run under test/ takes fuzzParameters (a fixed count and seed), none a time bound', () => {
  const files = tsFiles(join(ROOT, 'test'));
  assert.ok(files.some((f) => readFileSync(f, 'utf8').includes('fc.assert(')), 'the scan reaches the fuzz tests');
  assert.deepEqual(files.flatMap((f) => unboundedRuns(f)), [], 'pass fuzzParameters(numRuns) from test/support/fuzz.ts');
});

test('fuzz runs: the scan finds a run without fuzzParameters, and one bounded by time', () => {
  const probe = [
    'fc.assert(fc.property(fc.nat(), () => true), fuzzParameters(10));',
    'fc.assert(fc.property(fc.nat(), () => true));',
    'fc.assert(fc.property(fc.nat(), () => true), { numRuns: 3000, interruptAfterTimeLimit: 4000 });',
    'fc.sample(fc.nat(), { seed: 7, numRuns: 10 });',
    'fc.sample(fc.nat(), fuzzParameters(10));',
  ].join('\n');
  assert.deepEqual(unboundedRuns(join(ROOT, 'test', 'probe.ts'), probe), ['test/probe.ts:2 fc.assert', 'test/probe.ts:3 fc.assert', 'test/probe.ts:3 interruptAfterTimeLimit', 'test/probe.ts:4 fc.sample']);
});

test('fuzzParameters: exactly the count asked, from the fixed seed; a failure names the seed and path that replay it', () => {
  assert.deepEqual(fuzzParameters(37), { seed: FUZZ_SEED, numRuns: 37 });
  let runs = 0;
  fc.assert(
    fc.property(fc.nat(), () => {
      runs++;
    }),
    fuzzParameters(37),
  );
  assert.equal(runs, 37);
  assert.deepEqual(fc.sample(fc.nat(), fuzzParameters(5)), fc.sample(fc.nat(), fuzzParameters(5)), 'the same cases each time');
  assert.throws(
    () => fc.assert(fc.property(fc.nat(), (n) => n < 10), fuzzParameters(100)),
    (e: Error) => e.message.includes(`seed: ${FUZZ_SEED}, path: "`),
  );
});
