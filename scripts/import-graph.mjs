// The import graph of the repository's TypeScript, read with the TypeScript compiler's parser (no
// type checking, so it takes a second): which file imports which, and which outside modules
// (node:child_process, onnxruntime-node, ...) each one names. Used by the test runner to find the
// tests that start no process and load no model (`--fast`), and by test/lint/import-cycles.test.ts
// to refuse import cycles in daemon/, contract/ and central/.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import ts from 'typescript';

/**
 * One file's imports: `files` are the repository files it imports (absolute paths), `modules` the
 * bare specifiers (packages and node: builtins). With `typeOnly: false`, `import type` and
 * `export type` are left out: tsc erases them, so they load nothing at run time.
 */
export function importsOf(file, { typeOnly = true } = {}) {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, false, file.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const files = new Set();
  const modules = new Set();
  const add = (specifier) => {
    if (!specifier.startsWith('.')) {
      modules.add(specifier);
      return;
    }
    // NodeNext: the source names the emitted .js file; the repository holds its .ts (or the console
    // page's .tsx).
    const target = resolve(dirname(file), specifier);
    const candidates = [target.replace(/\.js$/, '.ts'), target.replace(/\.js$/, '.tsx'), target.replace(/\.mjs$/, '.mts'), target];
    const found = candidates.find((c) => existsSync(c) && /\.(m?tsx?|m?js)$/.test(c));
    if (found) files.add(found);
  };
  const erased = (node) =>
    ts.isImportDeclaration(node)
      ? node.importClause?.isTypeOnly === true ||
        (node.importClause !== undefined &&
          node.importClause.name === undefined &&
          node.importClause.namedBindings !== undefined &&
          ts.isNamedImports(node.importClause.namedBindings) &&
          node.importClause.namedBindings.elements.length > 0 &&
          node.importClause.namedBindings.elements.every((e) => e.isTypeOnly))
      : node.isTypeOnly ||
        (node.exportClause !== undefined && ts.isNamedExports(node.exportClause) && node.exportClause.elements.length > 0 && node.exportClause.elements.every((e) => e.isTypeOnly));
  const visit = (node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      if (typeOnly || !erased(node)) add(node.moduleSpecifier.text);
      return;
    }
    // import('...') with a literal: loaded at run time like any other import.
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [arg] = node.arguments;
      if (arg && ts.isStringLiteralLike(arg)) add(arg.text);
    }
    // import('./x.js').T in a type position: a type only, erased.
    if (ts.isImportTypeNode(node) && typeOnly && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      add(node.argument.literal.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return { files: [...files], modules: [...modules] };
}

/** The graph reachable from `entries`: file -> its imports (see importsOf). */
export function importGraph(entries, options = {}) {
  const graph = new Map();
  const pending = [...entries];
  while (pending.length > 0) {
    const file = pending.pop();
    if (graph.has(file)) continue;
    const imports = importsOf(file, options);
    graph.set(file, imports);
    pending.push(...imports.files.filter((f) => !graph.has(f)));
  }
  return graph;
}

/** Every file `from` reaches through the graph, itself included. */
export function reachable(graph, from) {
  const seen = new Set([from]);
  const pending = [from];
  while (pending.length > 0) {
    for (const next of graph.get(pending.pop())?.files ?? []) {
      if (!seen.has(next)) {
        seen.add(next);
        pending.push(next);
      }
    }
  }
  return seen;
}

/**
 * The import cycles among `within` (files of the graph that `keep` accepts): each strongly
 * connected component of more than one file, or a file that imports itself, as a sorted list.
 */
export function importCycles(graph, keep = () => true) {
  // Tarjan's algorithm, iterative so a deep chain of imports cannot overflow the stack.
  const index = new Map();
  const low = new Map();
  const onStack = new Set();
  const stack = [];
  const cycles = [];
  let counter = 0;
  const edges = (file) => (graph.get(file)?.files ?? []).filter(keep);
  for (const root of [...graph.keys()].filter(keep)) {
    if (index.has(root)) continue;
    const work = [[root, 0]];
    index.set(root, counter);
    low.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      const [file, next] = frame;
      const out = edges(file);
      if (next < out.length) {
        frame[1] = next + 1;
        const target = out[next];
        if (!index.has(target)) {
          index.set(target, counter);
          low.set(target, counter++);
          stack.push(target);
          onStack.add(target);
          work.push([target, 0]);
        } else if (onStack.has(target)) {
          low.set(file, Math.min(low.get(file), index.get(target)));
        }
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1][0];
        low.set(parent, Math.min(low.get(parent), low.get(file)));
      }
      if (low.get(file) === index.get(file)) {
        const component = [];
        let member;
        do {
          member = stack.pop();
          onStack.delete(member);
          component.push(member);
        } while (member !== file);
        if (component.length > 1 || out.includes(file)) cycles.push(component.sort());
      }
    }
  }
  return cycles;
}
