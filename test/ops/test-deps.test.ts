import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';

const SCRIPT = resolve('scripts/test-deps.sh');
/** Every command the script looks for on PATH (Debian's python3 with gi it runs by its full path). */
const COMMANDS = ['ffmpeg', 'mosquitto', 'systemd-analyze', 'chromium', 'gst-inspect-1.0', 'buildah', 'debootstrap', 'minisign', 'promtool'];

/**
 * scripts/test-deps.sh with PATH holding only stubs: the commands named present, `id` answering
 * `uid`, and (unless left out) an apt-get that writes its arguments to a log instead of installing.
 */
function runDeps(o: { present: string[]; uid: number; aptGet?: boolean; args?: string[] }) {
  const bin = mkdtempSync(join(tmpdir(), 'fg-test-deps-'));
  const log = join(bin, 'apt.log');
  const stub = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/bin/bash\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  for (const name of o.present) stub(name, 'exit 0');
  stub('id', `echo ${o.uid}`);
  if (o.aptGet !== false) stub('apt-get', `echo "$*" >> ${log}`);
  try {
    const r = spawnSync('/bin/bash', [SCRIPT, ...(o.args ?? [])], { encoding: 'utf8', env: { PATH: bin } });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr, apt: existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [] };
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
}

const gstPython = spawnSync('/usr/bin/python3', ['-c', 'import gi; gi.require_version("GstRtspServer", "1.0")']).status === 0;
const skip = gstPython ? false : "needs Debian's python3 with GStreamer's RTSP server (which scripts/test-deps.sh installs)";

test('with every package there, test-deps installs nothing, says nothing and exits 0', { skip }, () => {
  const r = runDeps({ present: COMMANDS, uid: 0 });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.apt, []);
  assert.equal(r.stdout + r.stderr, '');
});

test('as root, test-deps installs exactly the missing packages with apt-get', { skip }, () => {
  const r = runDeps({ present: COMMANDS.filter((c) => c !== 'mosquitto' && c !== 'chromium'), uid: 0 });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.apt, ['update -qq', 'install -y -qq --no-install-recommends mosquitto mosquitto-clients chromium']);
  assert.match(r.stdout, /installing mosquitto mosquitto-clients chromium/);
});

test("without promtool, test-deps installs Debian's prometheus package, which carries it", { skip }, () => {
  const r = runDeps({ present: COMMANDS.filter((c) => c !== 'promtool'), uid: 0 });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.apt, ['update -qq', 'install -y -qq --no-install-recommends prometheus']);
});

test('not root, test-deps prints the apt-get command to run, installs nothing and exits 1', { skip }, () => {
  const r = runDeps({ present: COMMANDS.filter((c) => c !== 'ffmpeg' && c !== 'gst-inspect-1.0'), uid: 1000 });
  assert.equal(r.code, 1);
  assert.deepEqual(r.apt, []);
  assert.match(r.stderr, /missing here: ffmpeg gstreamer1\.0-plugins-bad/);
  assert.match(r.stderr, /needs root/);
  assert.ok(r.stderr.includes('sudo apt-get update && sudo apt-get install -y --no-install-recommends ffmpeg gstreamer1.0-plugins-bad\n'), r.stderr);
});

test('without minisign, test-deps installs it: the release tests sign and check releases with it', { skip }, () => {
  const r = runDeps({ present: COMMANDS.filter((c) => c !== 'minisign'), uid: 0 });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.apt, ['update -qq', 'install -y -qq --no-install-recommends minisign']);
});

test('test-deps --check only names what is missing, even as root', { skip }, () => {
  const r = runDeps({ present: COMMANDS.filter((c) => c !== 'buildah'), uid: 0, args: ['--check'] });
  assert.equal(r.code, 1);
  assert.deepEqual(r.apt, []);
  assert.match(r.stderr, /missing Debian packages the tests need: buildah/);
});

test('without apt-get, test-deps names the packages and exits 1', { skip }, () => {
  const r = runDeps({ present: COMMANDS.filter((c) => c !== 'debootstrap'), uid: 0, aptGet: false });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /missing here: debootstrap/);
  assert.match(r.stderr, /apt-get is not on this system/);
});

test('an unknown option is a usage error (exit 2)', () => {
  const r = runDeps({ present: COMMANDS, uid: 0, args: ['--bogus'] });
  assert.equal(r.code, 2);
  assert.deepEqual(r.apt, []);
});
