// `npm run bench -- daemon [--persons N] [--minutes M] [--cameras C] [--runs R] [--busy] [--workers W]`
// Start-up time to READY=1 (spawn of `node dist/daemon/cli/main.js daemon` → the READY datagram on
// a notify socket of our own) with an N-person sealed gallery, then, while C cameras run for M
// minutes: the daemon's RSS, the node process's CPU, and per camera the frames the pipeline
// finished out of those read (its own /metrics). --busy plays a 1920×1080 15 fps clip with three
// talking faces (as `bench -- track` composes it) instead of the 720p CCTV clip at 5 fps;
// --workers sets vision.workers. Uses dist/ (run `npm run build` first), as systemd would run it.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { defaultConfig } from '../../daemon/config/load.js';
import { ensureDeviceKey } from '../../daemon/events/device-key.js';
import { Gallery } from '../../daemon/gallery/gallery.js';
import { createKeyFile } from '../../daemon/gallery/key-source.js';
import { loadSodium } from '../../daemon/gallery/sodium.js';
import { createLogger } from '../../daemon/ops/log.js';
import { composeCamera } from './track.js';

const DIM = 512;
const MEDIA = resolve('../shared/media/video_cctv/short_hamilton_clip.mp4');

function randomUnit(): Float32Array {
  const out = new Float32Array(DIM);
  let norm = 0;
  for (let i = 0; i < DIM; i++) norm += (out[i] = Math.random() + Math.random() + Math.random() - 1.5) ** 2;
  const k = 1 / Math.sqrt(norm);
  for (let i = 0; i < DIM; i++) out[i]! *= k;
  return out;
}

function arg(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

interface Listener {
  path: string;
  next(line: string, timeoutMs: number): Promise<void>;
  close(): void;
}

function notifyListener(dir: string): Listener {
  const dgram = createRequire(import.meta.url)('unix-dgram') as { createSocket(t: 'unix_dgram'): { bind(p: string): void; on(e: 'message', f: (b: Buffer) => void): void; close(): void } };
  const socket = dgram.createSocket('unix_dgram');
  const path = join(dir, 'notify.sock');
  let waiter: { line: string; resolve: () => void } | undefined;
  socket.on('message', (b) => {
    if (waiter && b.toString().split('\n').includes(waiter.line)) waiter.resolve();
  });
  socket.bind(path);
  return {
    path,
    next: (line, timeoutMs) =>
      new Promise((res, rej) => {
        const t = setTimeout(() => rej(new Error(`no ${line} in ${timeoutMs} ms`)), timeoutMs);
        waiter = { line, resolve: () => (clearTimeout(t), (waiter = undefined), res()) };
      }),
    close: () => socket.close(),
  };
}

/** user + system CPU seconds of a process so far (/proc/PID/stat fields 14 and 15, in clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => res(port));
    });
    server.on('error', rej);
  });
}

/** Per camera: frames read (facegate_camera_frames_total) and finished (facegate_pipeline_frames_total). */
async function frameCounts(port: number): Promise<Map<string, { read: number; done: number }>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const out = new Map<string, { read: number; done: number }>();
  for (const m of text.matchAll(/^facegate_(camera|pipeline)_frames_total\{camera="([^"]+)"\} (\d+)/gm)) {
    const row = out.get(m[2]!) ?? { read: 0, done: 0 };
    if (m[1] === 'camera') row.read = Number(m[3]);
    else row.done = Number(m[3]);
    out.set(m[2]!, row);
  }
  return out;
}

const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

export async function run(args: string[]): Promise<void> {
  const persons = arg(args, 'persons', 10_000);
  const minutes = arg(args, 'minutes', 10);
  const cameras = arg(args, 'cameras', 4);
  const runs = arg(args, 'runs', 3);
  const busy = args.includes('--busy');
  const workers = args.includes('--workers') ? arg(args, 'workers', 0) : undefined;
  if (!existsSync('dist/daemon/cli/main.js')) throw new Error('run `npm run build` first: the bench runs dist/ as systemd would');
  const dir = mkdtempSync(join(tmpdir(), 'fg-bench-daemon-'));
  try {
    const sodium = await loadSodium();
    const keyFile = join(dir, 'gallery.key');
    createKeyFile(sodium, keyFile);
    ensureDeviceKey(join(dir, 'device.key'));
    const galleryPath = join(dir, 'facegate.db');
    const g = await Gallery.open({ path: galleryPath, keys: { gallery: { ...defaultConfig().gallery, key_file: keyFile }, env: {} }, logger: createLogger({ level: 'warn' }), create: true });
    const t0 = performance.now();
    for (let p = 0; p < persons; p += 500) {
      g.db.transaction(() => {
        for (let i = p; i < Math.min(p + 500, persons); i++) {
          const person = g.store.insertPerson({ name: `Person ${i}`, externalId: `E${i}` });
          g.store.insertTemplates(person.id, [{ embedding: randomUnit(), quality: 0.9, source: 'bench', model: 'bench' }]);
        }
      })();
    }
    g.close();
    console.log(`gallery: ${persons} persons, 1 sealed template each, built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const source = busy ? join(dir, 'busy.mp4') : existsSync(MEDIA) ? MEDIA : join(dir, 'testsrc.mp4');
    if (busy) composeCamera(source, 3, 20);
    else if (source !== MEDIA) {
      await new Promise((r) => spawn('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=1280x720:rate=25', '-t', '20', '-pix_fmt', 'yuv420p', source]).on('exit', r));
    }
    const size = busy ? 'width: 1920, height: 1080, fps: 15' : 'width: 1280, height: 720, fps: 5';
    const cams = Array.from({ length: cameras }, (_, i) => `  - { name: cam${i + 1}, url: "${source}", loop: true, ${size} }`).join('\n');
    const config = join(dir, 'config.yaml');
    const metricsPort = await freePort();
    const vision = workers === undefined ? '' : `vision:\n  workers: ${workers}\n`;
    writeFileSync(config, `cameras:\n${cams || '  []'}\n${vision}metrics:\n  enabled: true\n  port: ${metricsPort}\ngallery:\n  path: ${galleryPath}\n  key_file: ${keyFile}\nmqtt:\n  device_key_file: ${dir}/device.key\ncontrol:\n  socket_dir: ${dir}/run\n  groups: { viewer: '', operator: '', admin: '' }\nretention:\n  check_interval_min: 1440\n`);
    const clip = busy ? '1920x1080 at 15 fps, three talking faces of ~120 px' : `1280x720 at 5 fps from ${source === MEDIA ? 'short_hamilton_clip.mp4 (faces)' : 'an FFmpeg test pattern (no faces)'}`;
    console.log(`cameras: ${cameras} × ${clip}, looped files${workers === undefined ? '' : `, vision.workers ${workers}`}`);

    const notify = notifyListener(dir);
    const startTimes: number[] = [];
    try {
      for (let r = 0; r < runs; r++) {
        const started = performance.now();
        const child = spawn(process.execPath, ['dist/daemon/cli/main.js', 'daemon', '--config', config], { env: { ...process.env, NOTIFY_SOCKET: notify.path, WATCHDOG_USEC: '30000000' }, stdio: ['ignore', 'ignore', 'ignore'] });
        const exited = new Promise((res) => child.on('exit', res));
        await notify.next('READY=1', 180_000);
        startTimes.push(performance.now() - started);
        const last = r === runs - 1;
        if (last) {
          const samples: number[] = [];
          // Counted from 10 s after READY: the cameras' first frames and the first tracks settle first.
          await new Promise((res) => setTimeout(res, 10_000));
          const before = { at: performance.now(), cpu: cpuSeconds(child.pid!), frames: await frameCounts(metricsPort) };
          const end = Date.now() + minutes * 60_000;
          while (Date.now() < end) {
            samples.push(rssMiB(child.pid!));
            await new Promise((res) => setTimeout(res, Math.min(30_000, Math.max(1000, end - Date.now()))));
          }
          samples.push(rssMiB(child.pid!));
          const after = { at: performance.now(), cpu: cpuSeconds(child.pid!), frames: await frameCounts(metricsPort) };
          console.log(`RSS of the daemon (node, without its FFmpeg children) over ${minutes} min: start ${samples[0]!.toFixed(0)} MiB, max ${Math.max(...samples).toFixed(0)} MiB, end ${samples.at(-1)!.toFixed(0)} MiB (${samples.length} samples)`);
          const shares = [...after.frames].map(([camera, a]) => {
            const b = before.frames.get(camera) ?? { read: 0, done: 0 };
            return { camera, read: a.read - b.read, done: a.done - b.done };
          });
          const pct = (s: { read: number; done: number }) => (s.read > 0 ? (100 * s.done) / s.read : 0);
          const worst = Math.min(...shares.map(pct));
          const mean = shares.reduce((sum, s) => sum + pct(s), 0) / Math.max(1, shares.length);
          console.log(`frames finished / read per camera: ${shares.map((s) => `${s.camera} ${s.done}/${s.read} (${pct(s).toFixed(0)} %)`).join(', ')}; worst ${worst.toFixed(0)} %, mean ${mean.toFixed(0)} %`);
          console.log(`node CPU (all its threads): ${((100 * (after.cpu - before.cpu)) / ((after.at - before.at) / 1000)).toFixed(0)} % of a core; load average at the end ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
        }
        child.kill('SIGTERM');
        await exited;
      }
    } finally {
      notify.close();
    }
    const sorted = [...startTimes].sort((a, b) => a - b);
    console.log(`start-up to READY=1 with ${persons} persons and ${cameras} cameras: median ${(sorted[Math.floor(sorted.length / 2)]! / 1000).toFixed(2)} s of ${runs} (${startTimes.map((t) => (t / 1000).toFixed(2)).join(', ')} s)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
