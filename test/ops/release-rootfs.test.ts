// Slow (about a minute a suite; the first run makes each root file system with debootstrap, a few
// minutes, then they are cached with the pinned checkout): the release tarball installed on stock
// Debian 12 (bookworm) and 13 (trixie) root file systems made by debootstrap, entered with chroot:
// no npm, no Node, no compiler there, and no network while it installs (unshare --net). It is
// checked and installed as a site does: the signature of SHA256SUMS with minisign and the sums by
// hand, then install.sh beside the tarball, which checks them again before it unpacks. The daemon
// it starts (no systemd as PID 1 in a chroot: install.sh runs it itself) answers on its control
// socket, `facegate --version` answers on PATH, and doctor is green but for the example's cameras
// once the config names a Mosquitto on the host's loopback.
import '../support/paced-tier.js';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { buildRelease, DebianBox } from '../support/debian-box.js';
import { Mosquitto, freePort } from '../support/mosquitto.js';
import { media, mediaMissing } from '../support/media.js';

const ROOT = resolve('.');
const CLIP = 'video_blink/real3dportrait_May_5s.mp4';
const skip =
  DebianBox.unavailable() ||
  (!existsSync(join(ROOT, '.git')) && !existsSync(join(ROOT, '../node/bin/node')) ? 'needs a git checkout or one built with the pinned Node' : false) ||
  mediaMissing(CLIP);

let release: ReturnType<typeof buildRelease> | undefined;
const out = mkdtempSync(join(tmpdir(), 'fg-release-out-'));
process.on('exit', () => rmSync(out, { recursive: true, force: true }));
// The release key, made for the test (-W: no password, as only a throwaway key may be), kept
// beside the release folder, not in it.
const keys = mkdtempSync(join(tmpdir(), 'fg-release-key-'));
process.on('exit', () => rmSync(keys, { recursive: true, force: true }));
const key = { key: join(keys, 'release.key'), pub: join(keys, 'facegate-release.pub') };

for (const suite of ['bookworm', 'trixie']) {
  test(`release on stock Debian ${suite}: installs with no npm, compiler or network; the daemon starts, --version answers on PATH, doctor is green but for the cameras; --uninstall keeps the state`, { skip, timeout: 1_500_000 }, async (t) => {
    if (!release) {
      assert.equal(spawnSync('minisign', ['-G', '-W', '-p', key.pub, '-s', key.key]).status, 0);
      release = buildRelease(out, ROOT, undefined, key);
    }
    const box = DebianBox.create(suite, ROOT);
    t.after(() => box.dispose());
    const bare = box.sh('command -v npm || command -v node || command -v cc || command -v gcc || command -v make');
    assert.notEqual(bare.code, 0, `the stock root has ${bare.out}`);

    for (const file of [release.tarball, 'SHA256SUMS', 'SHA256SUMS.minisig', 'install.sh']) box.put(join(dirname(release.tarball), basename(file)));
    // The site's own copy of the key, from a source it trusts.
    box.put(key.pub);
    const folder = basename(release.tarball, '.tar.gz');
    const started = Date.now();
    const install = box.sh(`minisign -Vm SHA256SUMS -p facegate-release.pub && sha256sum -c --ignore-missing SHA256SUMS && ./install.sh --pubkey facegate-release.pub ${folder}.tar.gz`);
    assert.equal(install.code, 0, install.out);
    console.log(`# ${suite}: install.sh took ${((Date.now() - started) / 1000).toFixed(1)} s with no network`);
    assert.match(install.out, /ok: {4}release .* from .*\.tar\.gz, signed: SHA256SUMS verified/);
    assert.match(install.out, /ok: {4}release .* runs on this box/);
    assert.match(install.out, /ok: {4}ffmpeg, ca-certificates and minisign installed/);
    assert.match(install.out, /doing: create system user facegate/);
    assert.equal(box.sh('facegate --version').out, `facegate ${JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version}\n`);
    assert.equal(box.sh('stat -c %a /etc/facegate/gallery.key').out.trim(), '600');

    // On the host's loopback: the broker, and the daemon install.sh starts.
    const broker = await Mosquitto.start();
    t.after(() => broker.dispose());
    // The host's loopback is shared: the example's metrics and web ports may be taken there.
    const [metricsPort, webPort] = [await freePort(), await freePort()];
    const edit = box.sh(
      `sed -i -e 's#^  url: mqtt://.*#  url: mqtt://127.0.0.1:${broker.port}#' -e '/^  username: /d' -e '/^  password_env: /d' ` +
        `-e 's#^  port: 9464#  port: ${metricsPort}#' -e 's#^  port: 8443#  port: ${webPort}#' /etc/facegate/config.yaml`,
    );
    assert.equal(edit.code, 0, edit.out);
    const start = box.sh('/opt/facegate/current/install.sh --start', { network: true });
    assert.equal(start.code, 0, `${start.out}\n${box.read('var/log/facegate/daemon.log').slice(-3000)}`);
    const status = box.sh('facegate status --config /etc/facegate/config.yaml', { network: true });
    assert.equal(status.code, 0, status.out);

    const photo = join(box.root, 'root/may.jpg');
    assert.equal(spawnSync('ffmpeg', ['-loglevel', 'error', '-y', '-ss', '2.5', '-i', media(CLIP), '-frames:v', '1', photo]).status, 0);
    const enrol = box.sh('facegate person add --name May --image /root/may.jpg --config /etc/facegate/config.yaml', { network: true });
    assert.equal(enrol.code, 0, enrol.out);
    const doctor = box.sh('facegate doctor --json --config /etc/facegate/config.yaml', { network: true });
    const checks = Object.fromEntries(doctor.out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { check: string; status: string }).map((c) => [c.check, c.status]));
    for (const check of ['ffmpeg', 'models', 'gallery key', 'device key', 'gallery', 'broker', 'disk']) assert.equal(checks[check], 'ok', `${check}: ${doctor.out}`);
    // The example's cameras are addresses on a site network; a chroot cannot ask for NTP.
    for (const [check, status] of Object.entries(checks)) if (!check.startsWith('camera') && check !== 'clock') assert.equal(status, 'ok', `${check}: ${doctor.out}`);
    console.log(`# ${suite}: doctor ${JSON.stringify(checks)}`);

    const uninstall = box.sh('/opt/facegate/current/install.sh --uninstall');
    assert.equal(uninstall.code, 0, uninstall.out);
    assert.ok(!existsSync(join(box.root, 'opt/facegate')) && !existsSync(join(box.root, 'usr/local/bin/facegate')));
    for (const kept of ['etc/facegate/gallery.key', 'etc/facegate/config.yaml', 'var/lib/facegate/facegate.db']) assert.ok(existsSync(join(box.root, kept)), `${kept} kept`);
  });
}
