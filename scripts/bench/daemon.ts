// `npm run bench -- daemon [--persons N] [--minutes M] [--cameras C] [--runs R]`
// Start-up time to READY=1 (spawn of `node dist/daemon/cli/main.js daemon` → the READY datagram on
// a notify socket of our own) with an N-person sealed gallery, then the daemon's RSS while C cameras
// run for M minutes. Uses dist/ (run `npm run build` first), as systemd would run it.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { defaultConfig } from '../../daemon/config/load.js';
import { ensureDeviceKey } from '../../daemon/events/device-key.js';
import { Gallery } from '../../daemon/gallery/gallery.js';
import { createKeyFile } from '../../daemon/gallery/key-source.js';
import { loadSodium } from '../../daemon/gallery/sodium.js';
import { createLogger } from '../../daemon/ops/log.js';

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

const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

export async function run(args: string[]): Promise<void> {
  const persons = arg(args, 'persons', 10_000);
  const minutes = arg(args, 'minutes', 10);
  const cameras = arg(args, 'cameras', 4);
  const runs = arg(args, 'runs', 3);
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

    const source = existsSync(MEDIA) ? MEDIA : join(dir, 'testsrc.mp4');
    if (source !== MEDIA) {
      await new Promise((r) => spawn('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=1280x720:rate=25', '-t', '20', '-pix_fmt', 'yuv420p', source]).on('exit', r));
    }
    const cams = Array.from({ length: cameras }, (_, i) => `  - { name: cam${i + 1}, url: "${source}", loop: true, width: 1280, height: 720, fps: 5 }`).join('\n');
    const config = join(dir, 'config.yaml');
    writeFileSync(config, `cameras:\n${cams || '  []'}\ngallery:\n  path: ${galleryPath}\n  key_file: ${keyFile}\nmqtt:\n  device_key_file: ${dir}/device.key\ncontrol:\n  socket_dir: ${dir}/run\n  groups: { viewer: '', operator: '', admin: '' }\nretention:\n  check_interval_min: 1440\n`);
    console.log(`cameras: ${cameras} × 1280x720 at 5 fps from ${source === MEDIA ? 'short_hamilton_clip.mp4 (faces)' : 'an FFmpeg test pattern (no faces)'}, looped files`);

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
          const end = Date.now() + minutes * 60_000;
          while (Date.now() < end) {
            samples.push(rssMiB(child.pid!));
            await new Promise((res) => setTimeout(res, Math.min(30_000, Math.max(1000, end - Date.now()))));
          }
          samples.push(rssMiB(child.pid!));
          console.log(`RSS of the daemon (node, without its FFmpeg children) over ${minutes} min: start ${samples[0]!.toFixed(0)} MiB, max ${Math.max(...samples).toFixed(0)} MiB, end ${samples.at(-1)!.toFixed(0)} MiB (${samples.length} samples)`);
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
