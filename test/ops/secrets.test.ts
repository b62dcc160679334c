// A camera password and a broker password planted with '@', ':' and '%40' in them, then every way out
// of the daemon and the CLI searched for them: stdout, stderr, the log, MQTT messages, audit rows,
// the state file, and the command line of every process on the box, read as another user.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FakeCamera } from '../support/fake-camera.js';
import { Mosquitto } from '../support/mosquitto.js';
import { runCli } from '../support/cli.js';
import { Subscriber } from '../support/events-stack.js';
import { DaemonProcess } from './daemon-harness.js';
import { Gallery } from '../../daemon/gallery/gallery.js';
import { parseConfig } from '../../daemon/config/load.js';
import { createLogger } from '../../daemon/base/log.js';

/** What the test searches for: in each password, whatever encoding it is written in. */
const MARK = 'SEKRIT';
const CAMERA_PASSWORD = `Qz@9:${MARK}%40cam`; // as the camera knows it
const CAMERA_USERINFO = `admin:Qz@9:${MARK}%2540cam`; // in the URL: '%' itself escaped, '@' and ':' raw
const BROKER_PASSWORD = `Mq@7:BROKER${MARK}%40x`;

// Under umask 000 every file the CLI and the daemon make would be world-writable unless they set
// their modes themselves; the children inherit it from here.
const previousUmask = process.umask(0o000);

let camera: FakeCamera;
let broker: Mosquitto;
let dir: string;
let config: string;
const env = { FACEGATE_MQTT_PASSWORD: BROKER_PASSWORD };

function siteConfig(cameraYaml: string): string {
  return [
    'gallery:',
    `  path: ${dir}/state.db`,
    `  key_file: ${dir}/gallery.key`,
    'mqtt:',
    '  enabled: true',
    `  url: ${broker.url}`,
    '  username: fg',
    '  device_id: gate-1',
    `  device_key_file: ${dir}/device.key`,
    '  stats_interval_s: 0',
    'control:',
    `  socket_dir: ${dir}/run`,
    'cameras:',
    cameraYaml,
  ].join('\n') + '\n';
}

const doorCamera = () => `  - { name: door, url: "${camera.url('/pattern', CAMERA_USERINFO)}", width: 320, height: 180, fps: 2 }`;

/** Every process's command line on the box that shows `needle`. */
function processesShowing(needle: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmdline.includes(needle)) found.push(`${pid}: ${cmdline}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** A process's command line as an unprivileged user reads it (ps works this way for everyone). */
function cmdlineAsNobody(pid: number): string {
  if (process.getuid?.() !== 0) return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  return execFileSync('runuser', ['-u', 'nobody', '--', 'cat', `/proc/${pid}/cmdline`], { encoding: 'utf8' }).replace(/\0/g, ' ');
}

function childrenOf(pid: number): { pid: number; comm: string }[] {
  const out: { pid: number; comm: string }[] = [];
  for (const p of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push({ pid: Number(p), comm });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function assertClean(what: string, text: string): void {
  assert.ok(!text.includes(MARK) && !text.includes('Qz@9') && !text.includes('Mq@7'), `${what} shows a password:\n${text.slice(0, 3000)}`);
}

const mode = (path: string) => statSync(path).mode & 0o777;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fg-secrets-'));
  camera = await FakeCamera.start({ width: 320, height: 180, fps: 5, password: CAMERA_PASSWORD });
  broker = await Mosquitto.start({ password: { user: 'fg', pass: BROKER_PASSWORD } });
  config = join(dir, 'config.yaml');
  writeFileSync(config, siteConfig(doorCamera()));
  const init = await runCli(['keys', 'init', '--config', config], { env });
  assert.equal(init.code, 0, init.stderr);
});

after(async () => {
  process.umask(previousUmask);
  await camera?.stop();
  await broker?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

test('camera test: a URL with a password is refused on the command line, taken from the config or stdin, and never shown', async () => {
  const inArgv = await runCli(['camera', 'test', camera.url('/pattern', CAMERA_USERINFO)]);
  assert.equal(inArgv.code, 1);
  assert.match(inArgv.stderr, /^FG_ERR_SECRET_IN_ARGV: .*--camera NAME.*stdin/);
  assertClean('the refusal', inArgv.stderr);

  const frame = join(dir, 'frame.jpg');
  const byName = await runCli(['camera', 'test', '--camera', 'door', '--config', config, '--json', '--save', frame]);
  assert.equal(byName.code, 0, byName.stderr);
  assert.equal(JSON.parse(byName.stdout).source, `rtsp://***@127.0.0.1:${camera.port}/pattern`);
  assert.equal(mode(frame), 0o600, 'a saved frame shows people: owner only');

  const fromStdin = await runCli(['camera', 'test', '-'], { input: camera.url('/pattern', CAMERA_USERINFO) + '\n' });
  assert.equal(fromStdin.code, 0, fromStdin.stderr);
  const wrong = await runCli(['camera', 'test', '-'], { input: camera.url('/pattern', `admin:Qz@9:${MARK}-wrong`) });
  assert.match(wrong.stderr, /^FG_ERR_CAMERA_UNAUTHORIZED: rtsp:\/\/\*\*\*@127\.0\.0\.1/);
  for (const r of [byName, fromStdin, wrong]) assertClean('camera test', r.stdout + r.stderr);
});

test('validate-config and doctor name the bad key beside the URL, never its password', async () => {
  const bad = join(dir, 'bad.yaml');
  // A camera given as its bare URL: the error names the whole entry, which is the URL itself.
  writeFileSync(bad, siteConfig(`  - "${camera.url('/pattern', CAMERA_USERINFO)}"\n  - { name: hall, url: "${camera.url('/pattern', CAMERA_USERINFO)}", fps: fast }`) + `metrics:\n  password: "${BROKER_PASSWORD}"\n`);
  const v = await runCli(['validate-config', '--config', bad]);
  assert.equal(v.code, 78);
  assert.match(v.stderr, /cameras\.0: .*"rtsp:\/\/\*\*\*@127\.0\.0\.1/);
  assert.match(v.stderr, /cameras\.1\.fps: /);
  assert.match(v.stderr, /metrics\.password: unknown key/);
  // What the schema cannot see: a '/' in the password ends the user part early, so FFmpeg and the
  // masking would both take the rest of the password for the path.
  writeFileSync(bad, siteConfig(`  - { name: hall, url: "rtsp://admin:pa/${MARK}@127.0.0.1/x" }`));
  const slash = await runCli(['validate-config', '--config', bad]);
  assert.equal(slash.code, 78);
  assert.match(slash.stderr, /cameras\.0\.url: an '@' after the host/);
  // The sub stream's URL is checked as the main one is.
  writeFileSync(bad, siteConfig(`  - { name: hall, url: "rtsp://127.0.0.1/x", sub_url: "rtsp://admin:pa/${MARK}@127.0.0.1/y", idle_keyframes_after_s: 10 }`));
  const sub = await runCli(['validate-config', '--config', bad]);
  assert.equal(sub.code, 78);
  assert.match(sub.stderr, /cameras\.0\.sub_url: an '@' after the host/);
  for (const r of [v, slash, sub]) assertClean('validate-config', r.stdout + r.stderr);

  const d = await runCli(['doctor', '--config', config, '--json'], { env });
  const checks = d.stdout.trim().split('\n').map((l) => JSON.parse(l) as { check: string; status: string; detail: string });
  // Reached and decoded (its 5 fps stream is below the eye rate: a warning, not a failure).
  assert.notEqual(checks.find((c) => c.check === 'camera door')?.status, 'fail', d.stdout);
  assertClean('doctor', d.stdout + d.stderr);
});

test('daemon: FFmpeg argv, the log, MQTT, control status, a refused reload and the audit trail hold no password; files are 0600 under umask 000', { timeout: 180_000 }, async () => {
  const central = await Subscriber.connect(broker.url, '#', 'central-secrets', { username: 'fg', password: BROKER_PASSWORD });
  const daemon = new DaemonProcess(config, env);
  try {
    await daemon.waitForLog(/"msg":"camera streaming"/, 120_000);
    const ffmpeg = childrenOf(daemon.child.pid!).filter((c) => c.comm === 'ffmpeg');
    assert.equal(ffmpeg.length, 1, JSON.stringify(childrenOf(daemon.child.pid!)));
    const argv = cmdlineAsNobody(ffmpeg[0]!.pid);
    assert.match(argv, /-f concat -safe 0 -i pipe:0/);
    assertClean('FFmpeg argv read by nobody', argv);
    assert.deepEqual(processesShowing(MARK), [], 'no process on the box shows a password in its argv');
    if (process.getuid?.() === 0) assertClean('ps as nobody', execFileSync('runuser', ['-u', 'nobody', '--', 'ps', '-eo', 'args'], { encoding: 'utf8' }));
    assert.equal(readFileSync(`/proc/${ffmpeg[0]!.pid}/environ`, 'utf8').includes(MARK), false, "FFmpeg's environment lacks the broker password");

    const status = await runCli(['status', '--config', config, '--json']);
    assert.equal(status.code, 0, status.stderr);
    assertClean('control status', status.stdout + status.stderr);

    // A reload whose config is bad right beside the URL: refused, answered and audited without it.
    writeFileSync(config, siteConfig(`  - { url: "${camera.url('/pattern', CAMERA_USERINFO)}" }`));
    const reload = await runCli(['reload', '--socket-dir', join(dir, 'run')]);
    assert.notEqual(reload.code, 0);
    assert.match(reload.stderr, /FG_ERR_CONFIG/);
    writeFileSync(config, siteConfig(doorCamera()));
    const ok = await runCli(['reload', '--socket-dir', join(dir, 'run')]);
    assert.equal(ok.code, 0, ok.stderr);
    const audit = await runCli(['audit', 'list', '--config', config, '--json']);
    assert.equal(audit.code, 0, audit.stderr);
    const actions = audit.stdout.trim().split('\n').map((l) => JSON.parse(l) as { action: string; outcome: string });
    assert.ok(actions.some((a) => a.action === 'reload' && a.outcome === 'failed'), audit.stdout);
    for (const r of [reload, ok, audit]) assertClean('reload and audit', r.stdout + r.stderr);

    await central.waitFor(() => central.messages.some((m) => m.topic === 'facegate/gate-1/bridge/info'), 30_000, 'bridge/info');
    const info = central.messages.find((m) => m.topic === 'facegate/gate-1/bridge/info')!.payload.toString();
    assert.match(info, /rtsp:\/\/\*\*\*@127\.0\.0\.1/);
    assertClean('MQTT messages', central.messages.map((m) => `${m.topic} ${m.payload.toString()}`).join('\n'));

    for (const f of ['state.db', 'state.db-wal', 'state.db-shm', 'state.db.lock', 'gallery.key', 'device.key']) assert.equal(mode(join(dir, f)) & 0o037, 0, `${f} mode ${mode(join(dir, f)).toString(8)}`);
    assert.equal(mode(join(dir, 'run', 'viewer.sock')), 0o660);
    assert.equal(mode(join(dir, 'run')) & 0o027, 0, 'socket folder: no group write, nothing for others');
  } finally {
    daemon.signal('SIGTERM');
    await daemon.exited;
    await central.close();
  }
  assertClean('daemon log', daemon.log);
  for (const f of ['state.db', 'state.db-wal', 'state.db-shm']) {
    try {
      assertClean(`${f} bytes`, readFileSync(join(dir, f)).toString('latin1'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
});

test('files the CLI makes under umask 022 are 0600 too', async () => {
  process.umask(0o022);
  const sub = join(dir, 'u022');
  mkdirSync(sub);
  const c = join(sub, 'config.yaml');
  writeFileSync(c, `gallery:\n  path: ${sub}/state.db\n  key_file: ${sub}/gallery.key\nmqtt:\n  device_key_file: ${sub}/device.key\n`);
  const init = await runCli(['keys', 'init', '--config', c]);
  assert.equal(init.code, 0, init.stderr);
  const gallery = await Gallery.open({ path: join(sub, 'state.db'), keys: { gallery: parseConfig(readFileSync(c, 'utf8'), c).gallery, env: {} }, logger: createLogger({ level: 'silent' }), create: true });
  for (const f of ['state.db', 'state.db-wal', 'state.db-shm']) assert.equal(mode(join(sub, f)), 0o600, `${f} made by this process`);
  gallery.close();
  const exported = join(sub, 'export.fgx');
  const exp = await runCli(['gallery', 'export', exported, '--config', c], { env: { FACEGATE_EXPORT_PASSPHRASE: 'a long enough passphrase for the test' } });
  assert.equal(exp.code, 0, exp.stderr);
  const files = ['state.db', 'gallery.key', 'device.key', 'export.fgx'];
  for (const f of files) assert.equal(mode(join(sub, f)) & 0o077, 0, `${f} mode ${mode(join(sub, f)).toString(8)}`);
  // An older facegate's 0644 state file is brought back to 0600 when opened.
  spawnSync('chmod', ['644', join(sub, 'state.db')]);
  const verify = await runCli(['gallery', 'verify', '--config', c]);
  assert.equal(verify.code, 0, verify.stderr);
  assert.equal(mode(join(sub, 'state.db')), 0o600);
  process.umask(0o000);
});
