// `npm run bench -- install [--suite bookworm|trixie]` (root; debootstrap): the release's size by
// part (scripts/release.sh), then, in a stock Debian root file system entered with chroot
// (test/support/debian-box.ts, as test/ops/release-rootfs.test.ts uses it), the wall time of
//   install    unpack the tarball and run its install.sh, with no network (release, users, config, keys, unit)
//   start      install.sh --start: the daemon up to READY on the example config
//   upgrade    N -> N+1 (one more migration) with the daemon running: stop, copy of the state file,
//              switch `current`, N+1 up to READY
//   rollback   N+1 -> a N+2 that exits before READY: switch back, N+1 up to READY again, audited
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildRelease, DebianBox, releaseVariant, VARIANTS } from '../../test/support/debian-box.js';
import { freePort } from '../../test/support/mosquitto.js';

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { suite: { type: 'string', default: 'bookworm' } } });
  const why = DebianBox.unavailable();
  if (why) throw new Error(`bench install ${why}`);
  const out = mkdtempSync(join(tmpdir(), 'fg-bench-release-'));
  let box: DebianBox | undefined;
  try {
    let t = Date.now();
    const release = buildRelease(out, resolve('.'));
    const tarballMb = statSync(release.tarball).size / 1024 / 1024;
    console.log(`release: ${basename(release.tarball)} (${tarballMb.toFixed(1)} MB), built in ${((Date.now() - t) / 1000).toFixed(0)} s`);
    console.log(release.size);
    const schema = Number(/^schema=(\d+)$/m.exec(readFileSync(join(release.stage, 'RELEASE'), 'utf8'))![1]);
    const next = releaseVariant(release.stage, 'bench2', VARIANTS.oneMoreMigration(schema));
    const broken = releaseVariant(next, 'bench3', VARIANTS.exitsBeforeReady);

    box = DebianBox.create(values.suite!, resolve('.'));
    box.put(release.tarball);
    box.put(next);
    box.put(broken);
    const timed = (what: string, script: string, network: boolean, expect = 0) => {
      t = Date.now();
      const r = box!.sh(script, { network });
      if (r.code !== expect) throw new Error(`${what}: exit ${r.code}, not ${expect}:\n${r.out}`);
      const s = (Date.now() - t) / 1000;
      console.log(`${what.padEnd(9)} ${s.toFixed(1)} s`);
      return s;
    };
    const folder = basename(release.tarball, '.tar.gz');
    console.log(`in a stock Debian ${values.suite} root (chroot, no systemd as PID 1):`);
    // Builds of this checkout, unsigned: installed as a developer's own (--allow-unsigned); the
    // signature check is a minisign -V and a sha256sum, milliseconds beside the rest.
    timed('install', `tar -xzf ${folder}.tar.gz && ./${folder}/install.sh --allow-unsigned`, false);
    // The host's loopback is shared: the example's metrics and web ports may be taken there.
    box.sh(`sed -i -e 's#^  port: 9464#  port: ${await freePort()}#' -e 's#^  port: 8443#  port: ${await freePort()}#' /etc/facegate/config.yaml`);
    timed('start', `./${folder}/install.sh --start --allow-unsigned`, true);
    timed('upgrade', `./${basename(next)}/install.sh --allow-unsigned`, true);
    timed('rollback', `./${basename(broken)}/install.sh --allow-unsigned`, true, 1);
    const audit = box.sh('facegate audit list --config /etc/facegate/config.yaml', { network: true }).out;
    console.log(`audit: ${audit.split('\n').filter((l) => l.includes('release.')).map((l) => l.trim().replace(/\s+/g, ' ')).join(' | ')}`);
  } finally {
    box?.dispose();
    rmSync(out, { recursive: true, force: true });
  }
}
