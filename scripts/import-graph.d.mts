// Types of import-graph.mjs, for the tests that use it.
export interface Imports {
  /** Repository files imported, absolute paths. */
  files: string[];
  /** Bare specifiers: packages and node: builtins. */
  modules: string[];
}
export type ImportGraph = Map<string, Imports>;
export function importsOf(file: string, options?: { typeOnly?: boolean }): Imports;
export function importGraph(entries: string[], options?: { typeOnly?: boolean }): ImportGraph;
export function reachable(graph: ImportGraph, from: string): Set<string>;
export function importCycles(graph: ImportGraph, keep?: (file: string) => boolean): string[][];
