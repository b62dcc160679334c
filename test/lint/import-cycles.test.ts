// daemon/, contract/ and central/ have no import cycle, type-only imports included. Lint's layer
// order already forbids two folders importing each other; inside a folder, a cycle means a type
// lives in the wrong module (it belongs to the one that defines the contract, which the others
// import), and a cycle of run-time imports can hand a module another's bindings before they are
// initialised.
import '../support/fast-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importCycles, importGraph } from '../../scripts/import-graph.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? tsFiles(path) : /\.tsx?$/.test(path) ? [path] : [];
  });
}

test('import cycles: none in daemon/, contract/ or central/, type-only imports included', () => {
  const rooms = ['contract', 'daemon', 'central'].map((room) => join(ROOT, room));
  const cycles = importCycles(importGraph(rooms.flatMap(tsFiles)), (file) => rooms.some((room) => file.startsWith(`${room}/`)));
  assert.deepEqual(
    cycles.map((cycle) => cycle.map((file) => relative(ROOT, file)).join(' <-> ')),
    [],
    'move the type or function both sides need into the module that owns it, and import it from there',
  );
});

test('import cycles: a cycle through a type-only import is found; erased imports are left out of the run-time graph', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-cycles-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'a.ts'), "import { b } from './b.js';\nexport const a = b + 1;\n");
  writeFileSync(join(dir, 'b.ts'), "import type { C } from './c.js';\nexport const b: C = 1;\n");
  writeFileSync(join(dir, 'c.ts'), "export { type A } from './d.js';\nexport type C = number;\n");
  writeFileSync(join(dir, 'd.ts'), "export type A = import('./a.js').Unknown;\n");
  writeFileSync(join(dir, 'lone.ts'), "import { a } from './a.js';\nexport const lone = () => import('./lone.js').then(() => a);\n");
  const files = ['a', 'b', 'c', 'd', 'lone'].map((name) => join(dir, `${name}.ts`));
  const name = (cycles: string[][]) => cycles.map((cycle) => cycle.map((file) => relative(dir, file)).join(' '));
  assert.deepEqual(name(importCycles(importGraph(files))), ['a.ts b.ts c.ts d.ts', 'lone.ts']);
  assert.deepEqual(name(importCycles(importGraph(files, { typeOnly: false }))), ['lone.ts']);
});
