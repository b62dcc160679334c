// Slow (minutes): builds the container image with scripts/image.sh and runs it with
// `buildah run --isolation chroot` (the image's file system, user and environment on the host's
// kernel and network). Containers themselves (podman/docker run: namespaces, cgroups) cannot start
// on the build machine, so that part is not exercised here; see docs/container.md.
import '../support/paced-tier.js';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { mediaMissing, MEDIA_DIR } from '../support/media.js';
import { Mosquitto } from '../support/mosquitto.js';

const ROOT = resolve('.');
const TAG = 'localhost/facegate-test:image-test';
const UID = 990;
const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const skip =
  process.getuid?.() !== 0
    ? 'needs root (debootstrap and chroot)'
    : !has('buildah') || !has('debootstrap')
      ? 'needs buildah and debootstrap (apt-get install buildah debootstrap)'
      : !existsSync(join(ROOT, '.git'))
        ? 'needs a git checkout (the image is built from the files git tracks)'
        : (mediaMissing() ?? false);

function run(cmd: string, args: string[], timeoutMs = 120_000) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs });
  return { code: r.status, out: (r.stdout ?? '') + (r.stderr ?? '') };
}
function ok(cmd: string, args: string[], timeoutMs?: number): string {
  const r = run(cmd, args, timeoutMs);
  assert.equal(r.code, 0, `${cmd} ${args.join(' ')}: ${r.out}`);
  return r.out.trim();
}

/** Every package folder under node_modules, nested ones included, as package-lock.json names them. */
function packagePaths(root: string, rel = 'node_modules', paths: string[] = []): string[] {
  for (const entry of readdirSync(join(root, rel), { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name === '.bin') continue;
    const path = `${rel}/${entry.name}`;
    if (entry.name.startsWith('@')) packagePaths(root, path, paths);
    else {
      paths.push(path);
      if (existsSync(join(root, path, 'node_modules'))) packagePaths(root, `${path}/node_modules`, paths);
    }
  }
  return paths;
}

test('image (slow): image.sh builds it from debootstrap; it runs as non-root with no devDependency; --version, doctor on a mounted config and the demo run in it', { skip, timeout: 1_500_000 }, async (t) => {
  const started = Date.now();
  const build = run('bash', [join(ROOT, 'scripts/image.sh'), '--tag', TAG], 1_200_000);
  assert.equal(build.code, 0, build.out);
  const line = /^image: .*$/m.exec(build.out)?.[0];
  assert.ok(line, build.out);
  console.log(`# ${line}; image.sh took ${Math.round((Date.now() - started) / 1000)} s`);

  const config = (JSON.parse(ok('buildah', ['inspect', '--type', 'image', TAG])) as { Docker: { config: unknown } }).Docker.config as {
    User: string;
    Volumes: Record<string, unknown>;
    Healthcheck?: { Test: string[] };
    Entrypoint: string[];
    StopSignal?: string;
  };
  assert.equal(config.User, 'facegate');
  assert.deepEqual(Object.keys(config.Volumes).sort(), ['/etc/facegate', '/var/lib/facegate']);
  assert.deepEqual(config.Healthcheck?.Test, ['CMD', '/opt/facegate/node/bin/node', '/opt/facegate/healthcheck.mjs']);
  assert.equal(config.StopSignal, 'SIGTERM');

  const ctr = ok('buildah', ['from', '--pull-never', TAG]);
  t.after(() => run('buildah', ['rm', ctr]));
  const mount = ok('buildah', ['mount', ctr]);
  t.after(() => run('buildah', ['umount', ctr]));

  // Only runtime dependencies, and no compiler, no key, no config.
  const app = join(mount, 'opt/facegate');
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  const installed = packagePaths(app);
  assert.ok(installed.includes('node_modules/better-sqlite3'));
  assert.deepEqual(installed.filter((path) => lock.packages[path]?.dev === true), [], 'a devDependency is in the image');
  for (const name of ['typescript', 'eslint', 'tsx', 'aedes', '@vladmandic/face-api']) assert.ok(!installed.includes(`node_modules/${name}`), name);
  for (const tool of ['usr/bin/gcc', 'usr/bin/cc', 'usr/bin/make', 'opt/facegate/node/include']) assert.ok(!existsSync(join(mount, tool)), `${tool} is in the image`);
  assert.deepEqual(readdirSync(join(mount, 'etc/facegate')), [], 'nothing baked into /etc/facegate');
  assert.ok(!/\bkey\b/.test(readdirSync(join(mount, 'var/lib/facegate')).join(' ')));

  // buildah 1.28's chroot runs drop now and then a bind mount onto a path the image declares a
  // VOLUME (/etc/facegate, /var/lib/facegate): the test mounts its folders beside them instead.
  const ro = (src: string, dst: string) => ['--mount', `type=bind,src=${src},dst=${dst},ro`];
  const inImage = (args: string[], mounts: string[] = [], timeoutMs = 120_000) =>
    run('buildah', ['run', '--isolation', 'chroot', ...mounts, ctr, '--', ...args], timeoutMs);

  const id = inImage(['id']);
  assert.match(id.out, new RegExp(`^uid=${UID}\\(facegate\\) gid=${UID}\\(facegate\\) groups=.*facegate-operator.*facegate-admin`), id.out);
  const version = inImage(['facegate', '--version']);
  assert.equal(version.code, 0, version.out);
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  assert.equal(version.out.trim(), `facegate ${manifest.version}`);
  const node = inImage(['node', '--version']);
  assert.equal(node.out.trim(), `v${ok(join(ROOT, 'scripts/node-runtime.sh'), ['--version'])}`);

  // doctor against a config in a mounted folder, keys in a mounted secrets folder, a broker on
  // the host's loopback and a camera that is a clip from the test media (mounted read-only).
  const broker = await Mosquitto.start();
  t.after(() => broker.stop());
  const etc = mkdtempSync(join(tmpdir(), 'fg-image-etc-'));
  const state = mkdtempSync(join(tmpdir(), 'fg-image-state-'));
  const secrets = mkdtempSync(join(tmpdir(), 'fg-image-secrets-'));
  t.after(() => [etc, state, secrets].forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  const clip = 'video_cctv';
  const clipFile = readdirSync(join(MEDIA_DIR, clip)).find((name) => name.endsWith('.mp4'));
  assert.ok(clipFile, `an .mp4 in ${clip}`);
  writeFileSync(
    join(etc, 'config.yaml'),
    [
      'cameras:',
      `  - { name: door, url: "/media/${clip}/${clipFile}", loop: true }`,
      'gallery: { path: /mnt/state/facegate.db, key_file: /run/secrets/facegate-gallery-key }',
      'mqtt:',
      '  enabled: true',
      `  url: mqtt://127.0.0.1:${broker.port}`,
      '  device_id: image-test',
      '  device_key_file: /run/secrets/facegate-device-key',
      'metrics: { enabled: true }',
      'attendance: { time_zone: UTC }',
    ].join('\n') + '\n',
  );
  const mounts = [...ro(etc, '/mnt/config'), '-v', `${state}:/mnt/state`, ...ro(secrets, '/run/secrets'), ...ro(MEDIA_DIR, '/media')];
  // The keys are made by the image itself, into the secrets folder, as an installer would.
  const keys = run('buildah', ['run', '--isolation', 'chroot', '--user', '0:0', '-v', `${secrets}:/run/secrets`, ...ro(etc, '/mnt/config'), ctr, '--',
    'facegate', 'keys', 'init', '--key-file', '/run/secrets/facegate-gallery-key', '--device-key-file', '/run/secrets/facegate-device-key', '--config', '/mnt/config/config.yaml']);
  assert.equal(keys.code, 0, keys.out);
  for (const dir of [etc, state, secrets]) chownSync(dir, UID, UID);
  for (const name of readdirSync(secrets)) chownSync(join(secrets, name), UID, UID);
  chmodSync(join(etc, 'config.yaml'), 0o640);
  chownSync(join(etc, 'config.yaml'), 0, UID);

  const doctor = inImage(['facegate', 'doctor', '--json', '--config', '/mnt/config/config.yaml'], mounts);
  const checks = Object.fromEntries(
    doctor.out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { check: string; status: string }).map((r) => [r.check, r.status]),
  );
  // The gallery is empty (warn); the clock cannot be asked in a chroot (no timedatectl there).
  for (const check of ['ffmpeg', 'models', 'gallery key', 'device key', 'broker', 'disk']) assert.equal(checks[check], 'ok', `${check}: ${doctor.out}`);
  assert.equal(checks.gallery, 'warn', doctor.out);
  assert.equal(Object.entries(checks).find(([name]) => name.includes('door'))?.[1], 'ok', doctor.out);
  console.log(`# doctor in the image: ${JSON.stringify(checks)}`);

  // The demo for 20 s on the runtime dependencies alone: the host's broker, a mounted photo.
  const demo = inImage(['facegate', 'demo', '--seconds', '20', '--broker', `mqtt://127.0.0.1:${broker.port}`, '--photo', '/media/identities/deepface/img12.jpg'], mounts, 180_000);
  assert.equal(demo.code, 0, demo.out);
  assert.match(demo.out, /enrolled 1 people \(Demo person 1\) in an encrypted gallery/);
  assert.match(demo.out, /demo-cam +recognized +Demo person 1/);
  assert.match(demo.out, /mqtt {2}facegate\/demo\/alerts\/spoof .*\[signature ok\]/);
  assert.doesNotMatch(demo.out, /BAD SIGNATURE/);
});
