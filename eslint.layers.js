// The daemon's layers, lowest first (docs/layers.md says why each sits where it does). A module may
// import from its own folder and from folders listed before its own, never from one listed after:
// the order is total, so no two folders can import each other either. The files directly in
// daemon/ (app.ts) are the layer 'app'.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const LAYERS = ['base', 'store', 'camera', 'vision', 'liveness', 'gallery', 'track', 'door', 'events', 'attendance', 'bus', 'pipeline', 'config', 'service', 'system', 'remote', 'control', 'web', 'central', 'demo', 'app', 'cli'];

/** Deepest a daemon module sits below daemon/ (daemon/web/routes/x.ts is 2); deeper ones are refused. */
const MAX_DEPTH = 4;

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Import paths that, written in a module `depth` folders below daemon/, reach one of `layers`. */
function reaching(layers, depth) {
  const up = depth === 0 ? '\\./' : `(\\.\\./){${depth}}`;
  const folders = layers.filter((l) => l !== 'app').map(escape);
  const out = [];
  if (folders.length > 0) out.push(`^${up}(${folders.join('|')})(/|$)`);
  // A file directly in daemon/ is the app layer.
  if (layers.includes('app')) out.push(`^${up}[^./][^/]*\\.js$`);
  return out;
}

/** The modules of `layer` that sit `depth` folders below daemon/. */
function globsAt(layer, depth) {
  if (layer === 'app') return ['daemon/*.ts'];
  return [['daemon', layer, ...Array(depth - 1).fill('*'), '*.ts'].join('/')];
}

/** Every folder in daemon/ must have a place in LAYERS, or its imports would go unchecked. */
export function checkEveryFolderPlaced(root) {
  const daemon = join(root, 'daemon');
  const unplaced = readdirSync(daemon).filter((name) => statSync(join(daemon, name)).isDirectory() && !LAYERS.includes(name));
  if (unplaced.length > 0) {
    throw new Error(`daemon/${unplaced.join(', daemon/')} has no place in the layer order: add it to LAYERS in eslint.layers.js (and to docs/layers.md)`);
  }
}

/** ESLint config blocks: for each layer and depth, the imports that would reach a higher layer are refused. */
export function layerRules() {
  const blocks = [];
  LAYERS.forEach((layer, i) => {
    const above = LAYERS.slice(i + 1);
    const message = `daemon/${layer === 'app' ? '*.ts' : layer} must not import from a higher layer (${above.join(', ')}): the order is ${LAYERS.join(' < ')} (docs/layers.md)`;
    const depths = layer === 'app' ? [0] : Array.from({ length: MAX_DEPTH }, (_, d) => d + 1);
    for (const depth of depths) {
      const patterns = [
        ...reaching(above, depth).map((regex) => ({ regex, message })),
        // '../camera/../ops/x.js' would slip past the patterns above.
        { regex: '(^|/)[^./][^/]*/\\.\\./', message: 'write the import path without a folder followed by ..' },
      ];
      blocks.push({ files: globsAt(layer, depth), rules: { 'no-restricted-imports': ['error', { patterns }] } });
    }
  });
  blocks.push({
    files: [`daemon/${Array(MAX_DEPTH + 1).fill('*').join('/')}/**/*.ts`],
    rules: { 'no-restricted-syntax': ['error', { selector: 'Program', message: `daemon modules sit at most ${MAX_DEPTH} folders deep (eslint.layers.js checks imports to that depth)` }] },
  });
  return blocks;
}
