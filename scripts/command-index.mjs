#!/usr/bin/env node
// Writes dist/daemon/cli/command-index.json after tsc (scripts/build.mjs runs it): every command of
// the built CLI, in the order of COMMANDS, with its words, aliases, summary and usage, and the
// module and export that define it, so that the CLI loads only the command it runs
// (daemon/cli/catalog.ts). Where each command is defined is read from the built modules themselves:
// those that daemon/cli/commands.ts reaches in daemon/cli/ and central/, whose exports are searched
// for each command object (imported once already by commands.js, so loading them runs nothing new).
//
//   node scripts/command-index.mjs [DIST]     DIST: the compiled tree (default dist/)
import { writeFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { importsOf } from './import-graph.mjs';

const ROOT = resolve(import.meta.dirname, '..');
const DIST = resolve(process.argv[2] ?? join(ROOT, 'dist'));
const CLI = join(DIST, 'daemon', 'cli');
const ENTRY = join(ROOT, 'daemon', 'cli', 'commands.ts');
const OWN = [join(ROOT, 'daemon', 'cli') + sep, join(ROOT, 'central') + sep];

const { COMMANDS } = await import(pathToFileURL(join(CLI, 'commands.js')).href);

// The command modules: what commands.ts reaches within daemon/cli/ and central/.
const sources = new Set([ENTRY]);
for (const file of sources) {
  for (const next of importsOf(file, { typeOnly: false }).files) if (OWN.some((d) => next.startsWith(d))) sources.add(next);
}

/** Where each command object is exported: directly, or as an element of an exported array. */
const places = new Map(COMMANDS.map((c) => [c, []]));
for (const source of sources) {
  const built = join(DIST, relative(ROOT, source)).replace(/\.tsx?$/, '.js');
  const exports = await import(pathToFileURL(built).href);
  const module = `./${relative(CLI, built).split(sep).join('/')}`.replace(/^\.\/\.\.\//, '../');
  for (const [name, value] of Object.entries(exports)) {
    if (places.has(value)) places.get(value).push({ module, export: name, size: 0 });
    if (Array.isArray(value)) value.forEach((c, index) => places.get(c)?.push({ module, export: name, index, size: value.length }));
  }
}

const commands = COMMANDS.map((c) => {
  // The command's own export where it has one, else the smallest array that holds it: its group's,
  // not the list of every command.
  const place = places.get(c).sort((a, b) => a.size - b.size)[0];
  if (!place) throw new Error(`command-index: '${c.words.join(' ')}' is exported by no module that daemon/cli/commands.ts imports`);
  const { size: _size, ...where } = place;
  return { words: c.words, ...(c.aliases ? { aliases: c.aliases } : {}), summary: c.summary, usage: c.usage, ...where };
});
writeFileSync(join(CLI, 'command-index.json'), `${JSON.stringify({ commands }, null, 1)}\n`);
