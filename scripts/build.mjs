#!/usr/bin/env node
// The build (`npm run build`): dist/ compiled by tsc, and the web console's static files copied beside
// it. A script of its own so that the test runner (scripts/run-tests.mjs) builds with the Node that
// runs it, the pinned one in CI included, without going through whichever npm is on the PATH.
import { cpSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const compiled = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
if (compiled.status !== 0) process.exit(compiled.status ?? 1);
cpSync(join(root, 'daemon/web/static'), join(root, 'dist/daemon/web/static'), { recursive: true });
