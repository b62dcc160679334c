// Files given as input that are not regular files, or too large: a symlink to /dev/zero or a FIFO
// once made the CLI grow memory without bound or hang. Each is now refused, quickly, with a code.
import '../support/cli-tier.js';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FacegateError } from '../../daemon/base/errors.js';
import { checkInputFile, INPUT_FILE_LIMITS, readInputFile } from '../../daemon/base/input-file.js';
import { loadConfigFile } from '../../daemon/config/load.js';
import { loadCentralKey } from '../../daemon/service/command-token.js';
import { loadDeviceKey } from '../../daemon/events/device-key.js';
import { readKeyFile } from '../../daemon/gallery/key-source.js';
import { readImageFile } from '../../daemon/vision/image.js';
import { parseConfig } from '../../daemon/config/load.js';
import { mqttClientOptions, mqttIdentity } from '../../daemon/events/mqtt-options.js';
import { Gallery } from '../../daemon/gallery/gallery.js';
import { createKeyFile } from '../../daemon/gallery/key-source.js';
import { loadSodium } from '../../daemon/gallery/sodium.js';
import { runCli, type CliResult } from '../support/cli.js';
import { keyOptions, memoryLogger } from '../gallery/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'fg-input-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const fifo = join(dir, 'pipe.jpg');
execFileSync('mkfifo', [fifo]);
const zero = join(dir, 'zero.jpg');
symlinkSync('/dev/zero', zero);
const big = join(dir, 'big.jpg');
writeFileSync(big, '');
truncateSync(big, INPUT_FILE_LIMITS.image + 1); // sparse: large by its size, nothing on disk
const regular = join(dir, 'small.yaml');
writeFileSync(regular, 'metrics: { enabled: false }\n');
const linked = join(dir, 'linked.yaml');
symlinkSync(regular, linked);

const coded = (code: string, pattern: RegExp) => (e: unknown) => e instanceof FacegateError && e.code === code && pattern.test(e.message) && e.hint !== undefined;

test('readInputFile: a regular file (also through a symlink) is read; a FIFO, a device, a folder and an oversized file are refused without reading', () => {
  assert.equal(readInputFile(regular, 'config', 'config').toString(), 'metrics: { enabled: false }\n');
  assert.equal(readInputFile(linked, 'config', 'config').length, 28);
  assert.throws(() => readInputFile(fifo, 'image', 'image'), coded('FG_ERR_INPUT_NOT_FILE', /pipe\.jpg is a FIFO \(named pipe\), not a regular file/));
  assert.throws(() => readInputFile(zero, 'image', 'image'), coded('FG_ERR_INPUT_NOT_FILE', /zero\.jpg is a character device/));
  assert.throws(() => readInputFile(dir, 'config', 'config'), coded('FG_ERR_INPUT_NOT_FILE', /is a folder/));
  assert.throws(() => readInputFile(big, 'image', 'image'), coded('FG_ERR_INPUT_TOO_LARGE', /larger than the 64\.0 MiB an image file may have \(64\.0 MiB\)/));
  assert.throws(() => checkInputFile(fifo, 'video', 'video'), coded('FG_ERR_INPUT_NOT_FILE', /FIFO/));
  assert.throws(() => readInputFile(join(dir, 'absent'), 'config', 'config'), (e: NodeJS.ErrnoException) => e.code === 'ENOENT', 'open errors stay system errors for the caller to word');
});

test('readInputFile: a file whose size says 0 (procfs) but that holds more than the cap is read up to the cap, then refused', { skip: !existsSync('/proc/kallsyms') }, () => {
  // /proc/kallsyms is megabytes long and reports size 0: only the bounded read stops it.
  assert.throws(() => readInputFile('/proc/kallsyms', 'key', 'key'), coded('FG_ERR_INPUT_TOO_LARGE', /larger than the 1\.0 MiB a key file may have \(it grew while being read\)/));
});

test('every reader of outside files goes through the guard: config, central key, device key, gallery key, images', () => {
  assert.throws(() => loadConfigFile(fifo), coded('FG_ERR_INPUT_NOT_FILE', /config .*FIFO/));
  assert.throws(() => loadCentralKey(zero), coded('FG_ERR_INPUT_NOT_FILE', /mqtt\.commands\.central_public_key/));
  assert.throws(() => loadDeviceKey(fifo), coded('FG_ERR_INPUT_NOT_FILE', /device key/));
  assert.throws(() => readKeyFile(zero, 'key file'), coded('FG_ERR_INPUT_NOT_FILE', /key file/));
  assert.throws(() => readImageFile(big), coded('FG_ERR_INPUT_TOO_LARGE', /image/));
  assert.throws(() => readImageFile(join(dir, 'nope.jpg')), coded('FG_ERR_IMAGE_UNREADABLE', /no such file/));
  const mqtt = parseConfig(`mqtt:\n  url: mqtts://broker:8883\n  tls: { ca: ${fifo} }\n`, 't.yaml').mqtt;
  assert.throws(() => mqttClientOptions(mqtt, mqttIdentity(mqtt), {}), coded('FG_ERR_INPUT_NOT_FILE', /mqtt\.tls\.ca .*FIFO/));
});

/** The CLI, killed if it has not finished in time: a hang is a failure, not a stuck suite. */
async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`facegate ${args.join(' ')} did not finish in 60 s`)), 60_000)));
  try {
    return await Promise.race([runCli(args, { env }), hang]);
  } finally {
    clearTimeout(timer);
  }
}

test('the CLI refuses a FIFO or /dev/zero given as image, video, config or token: one coded line, exit 1, no hang', { timeout: 300_000 }, async () => {
  const gallery = await emptyGallery('fifo');
  const cases: [string[], RegExp, NodeJS.ProcessEnv?][] = [
    [['analyze', zero], /FG_ERR_INPUT_NOT_FILE: image .*zero\.jpg is a character device/],
    [['person', 'add', '--name', 'Ann', '--image', fifo, ...gallery], /FG_ERR_INPUT_NOT_FILE: image .*pipe\.jpg is a FIFO/],
    [['identify', fifo, ...gallery], /FG_ERR_INPUT_NOT_FILE: image .*pipe\.jpg is a FIFO/],
    [['person', 'add', '--name', 'Ann', '--video', zero, ...gallery], /FG_ERR_INPUT_NOT_FILE: video .*zero\.jpg is a character device/],
    [['person', 'enrol', '--name', 'Ann', '--socket-dir', dir, fifo], /FG_ERR_INPUT_NOT_FILE: image .*pipe\.jpg is a FIFO/],
    [['person', 'enrol', '--name', 'Ann', '--socket-dir', dir, big], /FG_ERR_INPUT_TOO_LARGE: image .*big\.jpg is larger than/],
    [['status', '--socket-dir', dir, '--token', fifo], /FG_ERR_INPUT_NOT_FILE: --token .*FIFO/],
    [['status', '--socket-dir', dir, '--token', join(dir, 'absent.jwt')], /FG_ERR_CONTROL_TOKEN: cannot read --token .*absent\.jwt: no such file/],
    [['gallery', 'import', zero, ...gallery], /FG_ERR_INPUT_NOT_FILE: export .*zero\.jpg is a character device/, { FACEGATE_EXPORT_PASSPHRASE: 'a long passphrase for this test' }],
    [['scan', fifo, ...gallery], /FG_ERR_INPUT_NOT_FILE: video .*pipe\.jpg is a FIFO/],
    [['validate-config', '--config', fifo], /FG_ERR_INPUT_NOT_FILE: config .*FIFO/],
    [['compare', regular, regular], /FG_ERR_INPUT_NOT_FILE: config .*FIFO/, { FACEGATE_CONFIG: fifo }],
  ];
  for (const [args, expected, env] of cases) {
    const r = await cli(args, env);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, expected, args.join(' '));
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});

/** --gallery and --key-file of a new, empty gallery (identify opens one before it reads its images). */
async function emptyGallery(name: string): Promise<string[]> {
  const key = join(dir, `${name}.key`);
  createKeyFile(await loadSodium(), key);
  const g = await Gallery.open({ path: join(dir, `${name}.db`), keys: keyOptions(key), logger: memoryLogger().logger, create: true });
  g.close();
  return ['--gallery', join(dir, `${name}.db`), '--key-file', key];
}

test('a missing image is reported the same by every command that reads one: FG_ERR_IMAGE_UNREADABLE naming the path once, and the way out', { timeout: 300_000 }, async () => {
  const gallery = await emptyGallery('missing');
  const nope = join(dir, 'nope.jpg');
  const line = `FG_ERR_IMAGE_UNREADABLE: ${nope}: no such file — check the path and its permissions\n`;
  for (const args of [
    ['analyze', nope],
    ['embed', nope],
    ['compare', nope, nope],
    ['identify', nope, ...gallery],
    ['person', 'add', '--name', 'Ann', '--image', nope, ...gallery],
    // with a photo that is there too: the mistake in the command stops it before anything is enrolled
    ['person', 'add', '--name', 'Ann', '--image', regular, '--image', nope, ...gallery],
    ['person', 'add', '--to', 'Ann', '--image', nope, ...gallery],
    ['person', 'enrol', '--name', 'Ann', '--socket-dir', dir, nope],
  ]) {
    const r = await cli(args);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr, line, args.join(' '));
  }
  const list = await cli(['person', 'list', '--json', ...gallery]);
  assert.equal(list.stdout, '', 'nobody enrolled');
});

test('a photo that is no image is refused by person add naming it once, with what is wrong with it; nothing is stored', { timeout: 120_000 }, async () => {
  const gallery = await emptyGallery('unreadable');
  const notes = join(dir, 'notes.jpg');
  writeFileSync(notes, 'meeting notes, not a photo');
  const r = await cli(['person', 'add', '--name', 'Ann', '--image', notes, ...gallery]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^FG_ERR_ENROL_NO_FACE: no usable face for Ann:\n {2}\S*notes\.jpg: not a readable image \(unknown format\) — /);
  assert.equal(r.stderr.split(notes).length - 1, 1, `the path once: ${r.stderr}`);
  assert.equal((await cli(['person', 'list', '--json', ...gallery])).stdout, '', 'nobody enrolled');
});
