// What the daemon benchmarks share: a sealed gallery of random people, the daemon started from
// dist/ as systemd starts it, and what is read off it while it runs (its own /metrics, /proc).
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import parsePrometheus from 'parse-prometheus-text-format';
import { defaultConfig } from '../../daemon/config/load.js';
import { callDaemon } from '../../daemon/control/client.js';
import { ensureDeviceKey } from '../../daemon/events/device-key.js';
import { Gallery } from '../../daemon/gallery/gallery.js';
import { createKeyFile } from '../../daemon/gallery/key-source.js';
import { loadSodium } from '../../daemon/gallery/sodium.js';
import { createLogger } from '../../daemon/base/log.js';
import { AuditLog } from '../../daemon/service/audit.js';
import { openDatabase } from '../../daemon/store/database.js';
import { PasswordHasher } from '../../daemon/web/passwords.js';
import { UserStore } from '../../daemon/web/users.js';
import type { NotifyListener } from '../../test/ops/notify-listener.js';

const DIM = 512;

function randomUnit(): Float32Array {
  const out = new Float32Array(DIM);
  let norm = 0;
  for (let i = 0; i < DIM; i++) norm += (out[i] = Math.random() + Math.random() + Math.random() - 1.5) ** 2;
  const k = 1 / Math.sqrt(norm);
  for (let i = 0; i < DIM; i++) out[i]! *= k;
  return out;
}

export interface BenchSite {
  galleryPath: string;
  keyFile: string;
  deviceKeyFile: string;
}

/** Keys and a state file in `dir` with `persons` people of one random sealed template each. */
export async function benchSite(dir: string, persons: number): Promise<BenchSite> {
  const sodium = await loadSodium();
  const site = { galleryPath: join(dir, 'facegate.db'), keyFile: join(dir, 'gallery.key'), deviceKeyFile: join(dir, 'device.key') };
  createKeyFile(sodium, site.keyFile);
  ensureDeviceKey(site.deviceKeyFile);
  const g = await openBenchGallery(site, true);
  for (let p = 0; p < persons; p += 500) {
    g.db.transaction(() => {
      for (let i = p; i < Math.min(p + 500, persons); i++) {
        const person = g.store.insertPerson({ name: `Person ${i}`, externalId: `E${i}` });
        g.store.insertTemplates(person.id, [{ embedding: randomUnit(), quality: 0.9, source: 'bench', model: 'bench' }]);
      }
    })();
  }
  g.close();
  return site;
}

/** The site's state file opened as the daemon opens it (its sealer, its stores), to fill it before a run. */
export function openBenchGallery(site: BenchSite, create = false): Promise<Gallery> {
  return Gallery.open({ path: site.galleryPath, keys: { gallery: { ...defaultConfig().gallery, key_file: site.keyFile }, env: {} }, logger: createLogger({ level: 'warn' }), create });
}

/** The benches' web console account, made in the state file before the daemon starts (the first account is an admin; it only reads). */
export const CONSOLE_ACCOUNT = { name: 'bench', password: 'a bench viewer password 123' };

export async function addConsoleAccount(site: BenchSite): Promise<void> {
  const db = openDatabase(site.galleryPath, { mustExist: true });
  const hasher = new PasswordHasher();
  try {
    const users = new UserStore(db, hasher, new AuditLog(db));
    if (!users.find(CONSOLE_ACCOUNT.name)) await users.add(CONSOLE_ACCOUNT.name, CONSOLE_ACCOUNT.password, undefined, { actor: 'bench', role: 'admin' });
  } finally {
    db.close();
    await hasher.close();
  }
}

const CCTV_CLIP = resolve('../shared/media/video_cctv/short_hamilton_clip.mp4');

const PATTERNS = {
  bars: { filter: 'testsrc=size=1280x720:rate=25', what: 'an FFmpeg test pattern (no faces)' },
  // Sensor noise as a real camera has it, which the motion mask learns as background: no detection but the sweeps.
  entrance: { filter: 'color=c=0x505a60:s=1280x720:r=25,noise=alls=5:allf=t', what: 'an empty entrance, a grey wall with sensor noise (no faces)' },
};

/** A scene without faces made by FFmpeg, 720p, 20 s, written into `dir`. */
export function testPattern(dir: string, kind: keyof typeof PATTERNS = 'bars'): { path: string; what: string } {
  const path = join(dir, `${kind}.mp4`);
  const r = spawnSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', PATTERNS[kind].filter, '-t', '20', '-pix_fmt', 'yuv420p', path]);
  if (r.status !== 0) throw new Error(`ffmpeg could not write ${kind}.mp4: ${r.stderr.toString()}`);
  return { path, what: PATTERNS[kind].what };
}

/** What the daemon benches' cameras play: the 720p CCTV clip (people walking by), or the test pattern where the media are missing. */
export function cctvSource(dir: string): { path: string; what: string } {
  return existsSync(CCTV_CLIP) ? { path: CCTV_CLIP, what: 'short_hamilton_clip.mp4 (faces)' } : testPattern(dir);
}

/** The config's `cameras:` section: `n` cameras cam1…camN playing `path` in a loop, 1280×720 at 5 fps. */
export function fileCameras(n: number, path: string): string {
  const cams = Array.from({ length: n }, (_, i) => `  - { name: cam${i + 1}, url: "${path}", loop: true, width: 1280, height: 720, fps: 5 }`).join('\n');
  return `cameras:\n${cams || '  []'}\n`;
}

/** The config lines every bench daemon has: its site, a metrics port, control sockets without groups, no purge while it runs. */
export function siteConfig(dir: string, site: BenchSite, metricsPort: number): string {
  return `metrics:\n  enabled: true\n  port: ${metricsPort}\ngallery:\n  path: ${site.galleryPath}\n  key_file: ${site.keyFile}\nmqtt:\n  device_key_file: ${site.deviceKeyFile}\ncontrol:\n  socket_dir: ${dir}/run\n  groups: { viewer: '', operator: '', admin: '' }\nretention:\n  check_interval_min: 1440\n`;
}

/** user + system CPU seconds of a process so far (/proc/PID/stat fields 14 and 15, in clock ticks of 1/100 s). */
export function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0; // the process ended between listing and reading
  }
}

/**
 * CPU seconds of a process's children, those it has reaped included (their times go to its own
 * stat): what FFmpeg processes cost across their restarts.
 */
export function childrenCpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    const reaped = (Number(fields[13]) + Number(fields[14])) / 100;
    return reaped + childPids(pid).reduce((s, p) => s + cpuSeconds(p), 0);
  } catch {
    return 0;
  }
}

/** The daemon's FFmpeg children. */
function childPids(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => res(port));
    });
    server.on('error', rej);
  });
}

export interface FrameCount {
  /** Frames FFmpeg delivered (facegate_camera_frames_total). */
  read: number;
  /** Frames the pipeline finished (facegate_pipeline_frames_total). */
  done: number;
}

/** The daemon's /metrics text. */
export async function scrape(port: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

/** Per camera, frames read and finished, from a scrape of the daemon's /metrics. */
export function frameCounts(text: string): Map<string, FrameCount> {
  const out = new Map<string, FrameCount>();
  for (const m of text.matchAll(/^facegate_(camera|pipeline)_frames_total\{camera="([^"]+)"\} (\d+)/gm)) {
    const row = out.get(m[2]!) ?? { read: 0, done: 0 };
    if (m[1] === 'camera') row.read = Number(m[3]);
    else row.done = Number(m[3]);
    out.set(m[2]!, row);
  }
  return out;
}

/** Faces each costly model ran on, summed over the cameras of a scrape, by model. */
export function modelRuns(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^facegate_face_model_runs_total\{camera="[^"]+",model="([^"]+)"\} (\d+)/gm)) out.set(m[1]!, (out.get(m[1]!) ?? 0) + Number(m[2]));
  return out;
}

/** A counter of a scrape summed over its series (every camera, every door): the detector's runs, the doors' pairs. */
export function counterSum(text: string, name: string): number {
  let n = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)$`, 'gm'))) n += Number(m[1]);
  return n;
}

/** Seconds spent in each pipeline stage (detect, analyze, follow, decide, frame), summed over the cameras of a scrape. */
export function stageSeconds(text: string): Map<string, number> {
  return new Map([...text.matchAll(/^facegate_stage_seconds_sum\{stage="([^"]+)"\} (\S+)/gm)].map((m) => [m[1]!, Number(m[2])]));
}

/** The event-loop delay histogram of a scrape: each bucket's bound (seconds) and cumulative count. */
export function eventLoopBuckets(text: string): Map<number, number> {
  const family = parsePrometheus(text).find((f) => f.name === 'facegate_event_loop_delay_seconds');
  return new Map(Object.entries(family?.metrics[0]?.buckets ?? {}).map(([le, n]) => [le === '+Inf' ? Infinity : Number(le), Number(n)]));
}

/**
 * How late the main event loop ran between two scrapes, ms: the smallest bucket bound holding a
 * share `q` of the checks between them (1: the worst); Infinity past the last bound, NaN with none.
 * A bound, not an estimate inside the bucket: the histogram knows no more.
 */
export function lateBoundMs(before: Map<number, number>, after: Map<number, number>, q: number): number {
  const deltas = [...after].map(([le, n]) => [le, n - (before.get(le) ?? 0)] as const).sort((a, b) => a[0] - b[0]);
  const total = deltas.at(-1)?.[1] ?? 0;
  if (total === 0) return NaN;
  return 1000 * deltas.find(([, n]) => n >= q * total)![0];
}

/** What each camera finished of what it read between two readings of frameCounts, in %. */
export function finishedShares(before: Map<string, FrameCount>, after: Map<string, FrameCount>): Array<{ camera: string; read: number; done: number; pct: number }> {
  return [...after].map(([camera, a]) => {
    const b = before.get(camera) ?? { read: 0, done: 0 };
    const read = a.read - b.read;
    const done = a.done - b.done;
    return { camera, read, done, pct: read > 0 ? (100 * done) / read : 0 };
  });
}

/**
 * The daemon's track events through its control socket (what `facegate events tail` shows), from
 * as soon as the socket answers: tried again every 50 ms while the daemon starts. Returns the stop.
 */
export function tailEvents<E>(socketDir: string, onEvent: (e: E) => void): () => void {
  const abort = new AbortController();
  void (async () => {
    while (!abort.signal.aborted) {
      try {
        await callDaemon({ dir: socketDir }, 'events.tail', 'viewer', {}, { signal: abort.signal, onEvent: (e) => onEvent(e as E) });
      } catch {
        // not up yet, or gone
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return () => abort.abort();
}

export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** How much of a bench daemon's log is kept, from its end: enough to say why it stopped. */
const LOG_TAIL_BYTES = 4096;

export interface BenchDaemon {
  child: ChildProcess;
  /** Settles when the process has exited. */
  exited: Promise<void>;
  /** Resolves at the daemon's READY=1; fails as soon as it exits without one, with the end of its log. */
  ready(timeoutMs: number): Promise<void>;
}

/**
 * The real daemon from dist/ on `config`, as systemd starts it (NOTIFY_SOCKET, WATCHDOG_USEC). A
 * daemon that stops at start (a config it refuses, a model whose sha256 does not match) fails the
 * bench at once with what it said, rather than after the whole wait for READY=1.
 */
export function startBenchDaemon(config: string, notify: NotifyListener, options: { watchdogUsec: number; nodeArgs?: readonly string[]; logFile?: string | undefined }): BenchDaemon {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), 'dist/daemon/cli/main.js', 'daemon', '--config', config], {
    env: { ...process.env, NOTIFY_SOCKET: notify.path, WATCHDOG_USEC: String(options.watchdogUsec) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  // The whole log where one is asked for (its JSON lines say when each camera switched, connected, decided).
  const log = options.logFile === undefined ? undefined : createWriteStream(options.logFile, { flags: 'a' });
  let tail = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    tail = (tail + chunk).slice(-LOG_TAIL_BYTES);
    log?.write(chunk);
  });
  const exited = new Promise<void>((res) =>
    child.once('exit', () => {
      log?.end();
      res();
    }),
  );
  const ready = async (timeoutMs: number) => {
    const stopped = exited.then(() => {
      throw new Error(`the daemon exited (${child.exitCode ?? child.signalCode}) before READY=1; the end of its log:\n${tail.trimEnd()}`);
    });
    // The race reads it; an exit after READY=1 (the bench's own stop) is no error.
    stopped.catch(() => undefined);
    await Promise.race([notify.waitFor('READY=1', timeoutMs), stopped]);
  };
  return { child, exited, ready };
}
