// `npm run bench -- camera [--seconds N] [--cameras N]`: CPU of ingest alone (FFmpeg decoding and
// writing YUV frames, node reading them) per camera at 720p and 1080p, 5 fps, from the fake RTSP camera on
// 127.0.0.1. The fake camera's own H.264 encoding runs on the same cores; it is measured and left out.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { FfmpegCamera } from '../../daemon/camera/camera.js';
import { spawnFfmpeg, type FfmpegProcess, type SpawnFfmpeg } from '../../daemon/camera/process.js';
import { createLogger } from '../../daemon/base/log.js';
import { FakeCamera } from '../../test/support/fake-camera.js';

const TICKS_PER_S = 100; // getconf CLK_TCK on Linux

/** CPU seconds (user + system) a process has used, from /proc/PID/stat. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S; // utime, stime
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function measure(width: number, height: number, count: number, seconds: number) {
  const server = await FakeCamera.start({ width, height, fps: 5 });
  const children: FfmpegProcess[] = [];
  const spawn: SpawnFfmpeg = (command, args, stdin, options) => {
    const child = spawnFfmpeg(command, args, stdin, options);
    children.push(child);
    return child;
  };
  const logger = createLogger({ level: 'warn' });
  const cameras = Array.from({ length: count }, (_, i) =>
    new FfmpegCamera(
      { name: `c${i}`, url: server.url(), width, height, fps: 5, transport: 'tcp', hwaccel: 'none', input_args: [], watchdog_s: 10, backoff_max_s: 30, loop: false, deinterlace: false, idle_keyframes_after_s: 0 },
      { logger, spawn },
    ),
  );
  const ac = new AbortController();
  let frames = 0;
  const loops = cameras.map(async (c) => {
    for await (const _ of c.frames(ac.signal)) frames++;
  });
  for (const c of cameras) c.start();
  while (!cameras.every((c) => c.health().state === 'streaming')) await sleep(100);
  await sleep(3000); // past start-up
  const serverPid = server.pid as number;
  // Known once each child has started (its frames are read from a socket made first).
  const pids = children.flatMap((c) => (c.pid === undefined ? [] : [c.pid]));
  const before = { ffmpeg: pids.map(cpuSeconds), node: process.cpuUsage(), server: cpuSeconds(serverPid), frames, t: performance.now() };
  await sleep(seconds * 1000);
  const wall = (performance.now() - before.t) / 1000;
  const ffmpeg = pids.map((p, i) => cpuSeconds(p) - (before.ffmpeg[i] as number)).reduce((a, b) => a + b, 0);
  const nodeUsage = process.cpuUsage(before.node);
  const node = (nodeUsage.user + nodeUsage.system) / 1e6;
  const serverCpu = cpuSeconds(serverPid) - before.server;
  const fps = (frames - before.frames) / wall / count;
  ac.abort();
  await Promise.all(cameras.map((c) => c.stop()));
  await Promise.all(loops);
  await server.stop();
  const pct = (cpu: number) => (100 * cpu) / wall;
  return { ffmpeg: pct(ffmpeg) / count, node: pct(node) / count, server: pct(serverCpu), fps };
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { seconds: { type: 'string', default: '20' }, cameras: { type: 'string', default: '4' } } });
  const seconds = Number(values.seconds);
  const count = Number(values.cameras);
  const cores = 2;
  console.log(`camera ingest, ${count} cameras at 5 fps for ${seconds} s each size; % of one core, per camera`);
  console.log('size       ffmpeg   node    total   frames/s   fake server (excluded)   cameras on 2 cores (decode alone)');
  for (const [w, h] of [
    [1280, 720],
    [1920, 1080],
  ] as const) {
    const r = await measure(w, h, count, seconds);
    const total = r.ffmpeg + r.node;
    const capacity = Math.floor((cores * 100) / total);
    console.log(
      `${`${w}x${h}`.padEnd(10)} ${r.ffmpeg.toFixed(1).padStart(5)}%  ${r.node.toFixed(1).padStart(5)}%  ${total.toFixed(1).padStart(5)}%   ${r.fps.toFixed(2).padStart(7)}    ${r.server.toFixed(1).padStart(5)}%                   ~${capacity}`,
    );
  }
  console.log('capacity = 200% / per-camera total: the ceiling with every core on decoding, nothing left for detection.');
}
