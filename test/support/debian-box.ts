import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';

/**
 * A stock Debian box for the release to install on: a root file system made by debootstrap
 * (scripts/rootfs.sh: minbase with FFmpeg, no npm, no compiler), kept as a tarball between runs,
 * unpacked into a temporary folder and entered with chroot. It has no systemd as PID 1: install.sh
 * starts the daemon itself there. Its commands run with no network at all (`unshare --net`), unless
 * `network` is asked for: the host's loopback, where a test's Mosquitto listens.
 */
export class DebianBox {
  private mounts: string[] = [];

  private constructor(
    readonly suite: string,
    readonly root: string,
  ) {}

  /** The folder where the root file systems and the pinned checkout are cached: .pinned of this checkout, or the one it sits in. */
  static cacheDir(checkout = resolve('.')): string {
    return existsSync(join(checkout, '../node/bin/node')) ? resolve(checkout, '..') : join(checkout, '.pinned');
  }

  /** Why a box cannot be made here, or false. */
  static unavailable(): string | false {
    if (process.getuid?.() !== 0) return 'needs root (debootstrap, chroot, mount)';
    for (const tool of ['debootstrap', 'chroot', 'unshare']) if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `needs ${tool}`;
    return false;
  }

  static create(suite: string, checkout = resolve('.')): DebianBox {
    const cache = DebianBox.cacheDir(checkout);
    const made = spawnSync('bash', [join(checkout, 'scripts/rootfs.sh'), suite, cache], { encoding: 'utf8', timeout: 1_200_000 });
    if (made.status !== 0) throw new Error(`scripts/rootfs.sh ${suite}: ${made.stdout}${made.stderr}`);
    const root = mkdtempSync(join(tmpdir(), `fg-${suite}-`));
    const box = new DebianBox(suite, root);
    box.must('tar', ['-xf', made.stdout.trim(), '-C', root]);
    for (const [what, args] of [
      ['proc', ['-t', 'proc', 'proc', join(root, 'proc')]],
      ['dev', ['--bind', '/dev', join(root, 'dev')]],
    ] as const) {
      box.must('mount', [...args]);
      box.mounts.unshift(join(root, what));
    }
    return box;
  }

  private must(cmd: string, args: string[]): string {
    const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 600_000 });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stdout}${r.stderr}`);
    return r.stdout;
  }

  /** Copies a file or folder of the host into the box; its path there. */
  put(hostPath: string, dir = '/root'): string {
    cpSync(hostPath, join(this.root, dir, basename(hostPath)), { recursive: true });
    return `${dir}/${basename(hostPath)}`;
  }

  /** A shell command in the box, as root, with a clean environment; no network unless asked. */
  sh(script: string, options: { network?: boolean; timeoutMs?: number } = {}): { code: number | null; out: string } {
    const env = ['env', '-i', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root', 'LANG=C.UTF-8'];
    const chroot = ['chroot', this.root, ...env, 'sh', '-c', `cd /root && ${script}`];
    const [cmd, ...args] = options.network ? chroot : ['unshare', '--net', ...chroot];
    const r = spawnSync(cmd!, args, { encoding: 'utf8', timeout: options.timeoutMs ?? 600_000 });
    return { code: r.status, out: (r.stdout ?? '') + (r.stderr ?? '') };
  }

  read(path: string): string {
    return readFileSync(join(this.root, path), 'utf8');
  }

  /** Stops a daemon install.sh left running in the box, unmounts and removes the box. */
  dispose(): void {
    const pid = Number(existsSync(join(this.root, 'run/facegate/daemon.pid')) ? this.read('run/facegate/daemon.pid').trim() : NaN);
    if (Number.isInteger(pid) && pid > 0) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const mount of this.mounts) spawnSync('umount', ['-l', mount]);
    this.mounts = [];
    // Only once nothing is mounted: rm must not reach the host's /dev through the bind mount.
    if (spawnSync('sh', ['-c', `grep -q " ${this.root}/" /proc/mounts`]).status !== 0) rmSync(this.root, { recursive: true, force: true });
  }
}

/**
 * Builds the release tarball (scripts/release.sh) into `out`, signed with `key` (a minisign key
 * pair, the public half carried by the release) when given; the tarball's path and the size line.
 */
export function buildRelease(out: string, checkout = resolve('.'), build?: string, key?: { key: string; pub: string }): { tarball: string; size: string; stage: string } {
  const args = ['--out', out, ...(build ? ['--build', build] : []), ...(key ? ['--key', key.key, '--pubkey', key.pub] : [])];
  const r = spawnSync('bash', [join(checkout, 'scripts/release.sh'), ...args], { encoding: 'utf8', cwd: checkout, timeout: 900_000 });
  if (r.status !== 0) throw new Error(`scripts/release.sh: ${r.stdout}${r.stderr}`);
  const tarball = /^release: (\S+\.tar\.gz) /m.exec(r.stdout)?.[1];
  const stage = /^staged: (.*) \(facegate /m.exec(r.stdout)?.[1];
  const size = /^size: .*$/m.exec(r.stdout)?.[0];
  if (!tarball || !stage || !size) throw new Error(`scripts/release.sh printed no release: ${r.stdout}`);
  return { tarball, size, stage };
}

/** A staged release copied under another build id (RELEASE and the folder name follow), then changed by `change`. */
export function releaseVariant(stage: string, build: string, change: (dir: string) => void): string {
  const name = stage.replace(/-[^-]+-linux-([^-/]+)$/, `-${build}-linux-$1`);
  rmSync(name, { recursive: true, force: true });
  cpSync(stage, name, { recursive: true, verbatimSymlinks: true });
  const release = readFileSync(join(name, 'RELEASE'), 'utf8');
  writeFileSync(join(name, 'RELEASE'), release.replace(/^build=.*$/m, `build=${build}`).replace(/^id=(.*)-[^-\n]+$/m, `id=$1-${build}`));
  change(name);
  return name;
}

/** Release variants for upgrade tests: one more migration (a marker table with one row), or a daemon that exits before READY. */
export const VARIANTS = {
  oneMoreMigration: (schema: number) => (dir: string) => {
    const file = join(dir, 'dist/daemon/store/migrations.js');
    const marker = `{ version: ${schema + 1}, description: 'release test: a marker row', up(db) { db.exec('CREATE TABLE release_test_marker (at INTEGER NOT NULL); INSERT INTO release_test_marker VALUES (unixepoch())'); } },\n    // New migrations`;
    writeFileSync(file, readFileSync(file, 'utf8').replace('// New migrations', marker));
  },
  exitsBeforeReady: (dir: string) => {
    const main = join(dir, 'dist/daemon/cli/main.js');
    const [shebang, ...rest] = readFileSync(main, 'utf8').split('\n');
    writeFileSync(main, [shebang, "if (process.argv[2] === 'daemon') { console.error('release test: this build exits before READY'); process.exit(70); }", ...rest].join('\n'));
  },
};
