#!/usr/bin/env node
// The build (`npm run build`): the web console's page (and the door display's) bundled by esbuild from its TypeScript source
// (daemon/web/ui/) into daemon/web/static/app.js, then dist/ compiled by tsc and the console's
// static files copied beside it. The bundle is written into the source tree first so that the
// daemon run from source (tsx) serves the same page as dist/. A script of its own so that the test
// runner (scripts/run-tests.mjs) builds with the Node that runs it, the pinned one in CI included,
// without going through whichever npm is on the PATH.
import { cpSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { build } from 'esbuild';

const root = join(import.meta.dirname, '..');
const require = createRequire(import.meta.url);
// Preact is bundled into the page, so its MIT notice goes with it (LICENSES/NOTICE.md).
const preact = join(require.resolve('preact/package.json'), '..');
const notice = `Preact ${JSON.parse(readFileSync(join(preact, 'package.json'), 'utf8')).version}\n${readFileSync(join(preact, 'LICENSE'), 'utf8').trim()}`;
await build({
  entryPoints: [join(root, 'daemon/web/ui/main.tsx')],
  outfile: join(root, 'daemon/web/static/app.js'),
  bundle: true,
  minify: true,
  // One file, loaded as a module by index.html; nothing is fetched from elsewhere at run time.
  format: 'esm',
  target: 'es2022',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'none',
  banner: { js: `/*!\n${notice.replaceAll('*/', '* /')}\n*/` },
  logLevel: 'warning',
});
// The door display's page: a script of its own, with nothing of the console's in it.
await build({
  entryPoints: [join(root, 'daemon/web/ui/display.ts')],
  outfile: join(root, 'daemon/web/static/display.js'),
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  legalComments: 'none',
  logLevel: 'warning',
});
const tsc = require.resolve('typescript/bin/tsc');
const compiled = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
if (compiled.status !== 0) process.exit(compiled.status ?? 1);
cpSync(join(root, 'daemon/web/static'), join(root, 'dist/daemon/web/static'), { recursive: true });
