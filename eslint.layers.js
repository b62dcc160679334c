// What may import what (docs/layers.md says why). Three rooms: contract/, the MQTT API's contract,
// imports nothing of the repository outside it; daemon/, the box, may import contract/ and never
// central/ but for the command line, which lists the central's commands; central/, the central
// consumer, may import contract/ and, of the daemon, only CENTRAL_MAY_IMPORT.
//
// Inside daemon/, its layers, lowest first: a module may import from its own folder and from
// folders listed before its own, never from one listed after: the order is total, so no two folders
// can import each other either. The files directly in daemon/ (app.ts) are the layer 'app'.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const LAYERS = ['base', 'store', 'camera', 'vision', 'liveness', 'gallery', 'track', 'door', 'events', 'attendance', 'display', 'bus', 'pipeline', 'config', 'service', 'system', 'remote', 'control', 'web', 'demo', 'app', 'cli'];

/**
 * What central/ may import of the daemon, besides contract/: the layer that knows no stage (base/),
 * and the generic parts it runs on as the box does. A folder ends in '/'; a module is named as
 * imported. Anything else of daemon/ is the box's, which a central server does not run.
 */
export const CENTRAL_MAY_IMPORT = [
  'daemon/base/',
  // Its own SQLite file, opened as the state file is, and its own migrations run by the one runner.
  'daemon/store/database.js',
  'daemon/store/migrate.js',
  // Its own config file, read by the one YAML config parser with the same bounds and refusals.
  'daemon/config/load.js',
  // /metrics and /healthz, served as the box serves them.
  'daemon/system/http.js',
  // Its commands are `facegate` commands: the command shape, usage errors and terminal text.
  'daemon/cli/command.js',
  'daemon/cli/terminal-text.js',
  // The person rules (a name, an external id, a group, a template), so that the gallery feed refuses
  // at the central what every box would refuse of an entry.
  'daemon/service/person-input.js',
];

/** The one module of central/ the daemon imports: the central's commands, which the command line lists. */
const CENTRAL_COMMANDS_MODULE = 'commands.js';

/**
 * ESLint's no-restricted-imports reads `import` and `export ... from`, not `import('...')`, through
 * which the command line loads each command. This rule holds an `import()` of a literal path to
 * the same patterns (regex and message), so that each block sets both rules from one list.
 */
const dynamicImports = {
  meta: { type: 'problem', schema: [{ type: 'object', properties: { patterns: { type: 'array' } }, additionalProperties: false }] },
  create(context) {
    const patterns = (context.options[0]?.patterns ?? []).map((p) => ({ regex: new RegExp(p.regex), message: p.message }));
    const literal = (source) => {
      if (source.type === 'Literal') return source.value;
      if (source.type === 'TemplateLiteral' && source.expressions.length === 0) return source.quasis[0].value.cooked;
      return null;
    };
    return {
      ImportExpression(node) {
        const path = literal(node.source);
        const hit = typeof path === 'string' ? patterns.find((p) => p.regex.test(path)) : undefined;
        if (hit) context.report({ node: node.source, message: `'${path}' import is restricted from being used by a pattern. ${hit.message}` });
      },
    };
  },
};

/** The plugin that carries it, as `layers/dynamic-imports`. */
export const layersPlugin = { rules: { 'dynamic-imports': dynamicImports } };

/** A block's import rules: the static imports (ESLint's own rule) and import() (ours), refused by the same patterns. */
const restricted = (patterns) => ({
  'no-restricted-imports': ['error', { patterns }],
  'layers/dynamic-imports': ['error', { patterns }],
});

/** Deepest a module sits below its room (daemon/web/routes/x.ts is 2); deeper ones are refused. */
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

/** Any `..` after a folder name: '../camera/../ops/x.js' would slip past patterns that read the path from its start. */
const NO_FOLDER_THEN_UP = { regex: '(^|/)[^./][^/]*/\\.\\./', message: 'write the import path without a folder followed by ..' };

/** `room`/**.ts at `depth` folders below it (contract/topics.ts is 1). */
const roomGlob = (room, depth) => [room, ...Array(depth - 1).fill('*'), '*.ts'].join('/');

/**
 * contract/ is what the box and the central share of the MQTT API (topics, payload schemas, the
 * signature check, the replay command): it imports nothing of the repository outside itself, so
 * that neither program reaches the other through it.
 */
function contractRules() {
  const message = 'contract/ imports nothing outside contract/ (not daemon/, not central/): both programs import it, and it stands alone (docs/layers.md)';
  return Array.from({ length: MAX_DEPTH }, (_, d) => ({
    files: [roomGlob('contract', d + 1)],
    rules: restricted([{ regex: `^(\\.\\./){${d + 1}}`, message }, NO_FOLDER_THEN_UP]),
  }));
}

/**
 * central/ is a program of its own, run on a central server: out of its folder it reaches only
 * contract/ and CENTRAL_MAY_IMPORT.
 */
function centralRules() {
  const allowed = ['contract/', ...CENTRAL_MAY_IMPORT].map((path) => (path.endsWith('/') ? escape(path) : `${escape(path)}$`));
  const message = `central/ imports, out of its folder, only contract/ and ${CENTRAL_MAY_IMPORT.join(', ')}: the rest of daemon/ is the box's (docs/layers.md)`;
  return Array.from({ length: MAX_DEPTH }, (_, d) => ({
    files: [roomGlob('central', d + 1)],
    rules: restricted([{ regex: `^(\\.\\./){${d + 1}}(?!${allowed.join('|')})`, message }, NO_FOLDER_THEN_UP]),
  }));
}

/** The import paths, written in a daemon module `depth` folders below daemon/, that reach central/; the command line may reach its commands. */
function reachingCentral(layer, depth) {
  const up = `(\\.\\./){${depth + 1}}`;
  return layer === 'cli' ? `^${up}central(/(?!${escape(CENTRAL_COMMANDS_MODULE)}$)|$)` : `^${up}central(/|$)`;
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
        { regex: reachingCentral(layer, depth), message: `daemon/ never imports central/, a program of its own on a central server; only the command line lists its commands, from central/${CENTRAL_COMMANDS_MODULE} (docs/layers.md)` },
        NO_FOLDER_THEN_UP,
      ];
      blocks.push({ files: globsAt(layer, depth), rules: restricted(patterns) });
    }
  });
  blocks.push(...contractRules(), ...centralRules());
  for (const room of ['daemon', 'contract', 'central']) {
    blocks.push({
      files: [`${room}/${Array(MAX_DEPTH + 1).fill('*').join('/')}/**/*.ts`],
      rules: { 'no-restricted-syntax': ['error', { selector: 'Program', message: `${room} modules sit at most ${MAX_DEPTH} folders deep (eslint.layers.js checks imports to that depth)` }] },
    });
  }
  return blocks;
}
