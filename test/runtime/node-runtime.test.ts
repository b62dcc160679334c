// scripts/node-runtime.sh: the pinned Node is used only when its tarball matches the sha512 pinned
// in the script. A registry on 127.0.0.1 serves a tarball that npm itself accepts (its metadata
// says that tarball's own integrity) but that is not the pinned one: nothing of it is unpacked.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';

const SCRIPT = resolve('scripts/node-runtime.sh');
const cpu = process.arch === 'arm64' ? 'arm64' : 'x64';

function runScript(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  return new Promise((done) => {
    const child = spawn('bash', [SCRIPT, ...args], { env: { ...process.env, ...env } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => done({ code, out }));
  });
}

test('node-runtime.sh --version prints the pinned version, an LTS release (even major) that facegate supports', () => {
  const r = spawnSync('bash', [SCRIPT, '--version'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const [major] = r.stdout.trim().split('.').map(Number);
  assert.match(r.stdout, /^\d+\.\d+\.\d+\n$/);
  assert.ok(major! >= 22 && major! % 2 === 0, r.stdout);
});

test('node-runtime.sh refuses a tarball that is not the pinned one and unpacks nothing', async (t) => {
  const version = spawnSync('bash', [SCRIPT, '--version'], { encoding: 'utf8' }).stdout.trim();
  const dir = mkdtempSync(join(tmpdir(), 'fg-node-runtime-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // A package of the right name and version whose bin/node is not Node.
  mkdirSync(join(dir, 'package/bin'), { recursive: true });
  writeFileSync(join(dir, 'package/package.json'), JSON.stringify({ name: `node-linux-${cpu}`, version }));
  writeFileSync(join(dir, 'package/bin/node'), '#!/bin/sh\necho altered\n', { mode: 0o755 });
  const tgz = join(dir, 'pkg.tgz');
  assert.equal(spawnSync('tar', ['-czf', tgz, '-C', dir, 'package']).status, 0);
  const bytes = readFileSync(tgz);
  const integrity = `sha512-${createHash('sha512').update(bytes).digest('base64')}`;

  const server = createHttpServer((req, res) => {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    if (req.url === `/node-linux-${cpu}`) {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({
        name: `node-linux-${cpu}`,
        'dist-tags': { latest: version },
        versions: { [version]: { name: `node-linux-${cpu}`, version, dist: { tarball: `${base}/pkg.tgz`, integrity } } },
      }));
    } else if (req.url === '/pkg.tgz') {
      res.end(bytes);
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const registry = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

  const dest = join(dir, 'node');
  const r = await runScript([dest], { npm_config_registry: registry, npm_config_cache: join(dir, 'cache'), npm_config_offline: 'false' });
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, new RegExp(`error: node-linux-${cpu}-${version}\\.tgz does not match its pinned sha512`));
  assert.match(r.out, /fix: {3}the download was altered or the registry serves another file: do not use it/);
  assert.equal(existsSync(dest), false, 'nothing unpacked');
  assert.equal(existsSync(`${dest}.new`), false);
});

test('pinned-checkout.sh outside a git checkout stops with the fix and makes nothing (npm would otherwise rebuild the tree above)', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'fg-notgit-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'scripts'));
  // Copied with their modes, as a checkout has them: pinned-checkout.sh runs tree-copy.sh.
  for (const script of ['pinned-checkout.sh', 'node-runtime.sh', 'tree-copy.sh']) cpSync(resolve('scripts', script), join(root, 'scripts', script));
  const dest = join(root, 'out');
  const r = spawnSync('bash', [join(root, 'scripts/pinned-checkout.sh'), dest], { encoding: 'utf8', env: { ...process.env, GIT_CEILING_DIRECTORIES: tmpdir() } });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.equal(r.stderr, `error: ${root} is not a git checkout\nfix:   run this from a clone of facegate\n`);
  assert.deepEqual(readdirSync(dest), [], 'no Node fetched, nothing copied');
});
