// `npm run bench -- daemon [--persons N] [--minutes M] [--cameras C] [--runs R]`
// Start-up time to READY=1 (spawn of `node dist/daemon/cli/main.js daemon` → the READY datagram on
// a notify socket of our own) with an N-person sealed gallery, then, while C cameras run for M
// minutes: the daemon's RSS, the node process's CPU, and per camera the frames the pipeline
// finished out of those read (its own /metrics), on the 720p CCTV clip at 5 fps. Busy 1080p cameras
// are `bench -- throughput`. Uses dist/ (run `npm run build` first), as systemd would run it.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotifyListener } from '../../test/ops/notify-listener.js';
import { benchSite, cctvSource, cpuSeconds, fileCameras, finishedShares, frameCounts, freePort, rssMiB, scrape, siteConfig, startBenchDaemon } from './daemon-run.js';

function arg(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

export async function run(args: string[]): Promise<void> {
  const persons = arg(args, 'persons', 10_000);
  const minutes = arg(args, 'minutes', 10);
  const cameras = arg(args, 'cameras', 4);
  const runs = arg(args, 'runs', 3);
  if (!existsSync('dist/daemon/cli/main.js')) throw new Error('run `npm run build` first: the bench runs dist/ as systemd would');
  const dir = mkdtempSync(join(tmpdir(), 'fg-bench-daemon-'));
  const notify = new NotifyListener();
  try {
    const t0 = performance.now();
    const site = await benchSite(dir, persons);
    console.log(`gallery: ${persons} persons, 1 sealed template each, built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const source = cctvSource(dir);
    const config = join(dir, 'config.yaml');
    const metricsPort = await freePort();
    writeFileSync(config, `${fileCameras(cameras, source.path)}${siteConfig(dir, site, metricsPort)}`);
    console.log(`cameras: ${cameras} × 1280x720 at 5 fps from ${source.what}, looped files`);

    const startTimes: number[] = [];
    for (let r = 0; r < runs; r++) {
      const started = performance.now();
      notify.messages.length = 0; // the READY=1 of the run before
      const { child, exited, ready } = startBenchDaemon(config, notify, { watchdogUsec: 30_000_000 });
      try {
        await ready(180_000);
        startTimes.push(performance.now() - started);
        if (r === runs - 1) {
          const samples: number[] = [];
          // Counted from 10 s after READY: the cameras' first frames and the first tracks settle first.
          await new Promise((res) => setTimeout(res, 10_000));
          const before = { at: performance.now(), cpu: cpuSeconds(child.pid!), frames: frameCounts(await scrape(metricsPort)) };
          const end = Date.now() + minutes * 60_000;
          while (Date.now() < end) {
            samples.push(rssMiB(child.pid!));
            await new Promise((res) => setTimeout(res, Math.min(30_000, Math.max(1000, end - Date.now()))));
          }
          samples.push(rssMiB(child.pid!));
          const after = { at: performance.now(), cpu: cpuSeconds(child.pid!), frames: frameCounts(await scrape(metricsPort)) };
          console.log(`RSS of the daemon (node, without its FFmpeg children) over ${minutes} min: start ${samples[0]!.toFixed(0)} MiB, max ${Math.max(...samples).toFixed(0)} MiB, end ${samples.at(-1)!.toFixed(0)} MiB (${samples.length} samples)`);
          const shares = finishedShares(before.frames, after.frames);
          console.log(`frames finished / read per camera: ${shares.map((s) => `${s.camera} ${s.done}/${s.read} (${s.pct.toFixed(0)} %)`).join(', ')}`);
          console.log(`node CPU (all its threads): ${((100 * (after.cpu - before.cpu)) / ((after.at - before.at) / 1000)).toFixed(0)} % of a core; load average at the end ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
        }
      } finally {
        child.kill('SIGTERM');
        await exited;
      }
    }
    const sorted = [...startTimes].sort((a, b) => a - b);
    console.log(`start-up to READY=1 with ${persons} persons and ${cameras} cameras: median ${(sorted[Math.floor(sorted.length / 2)]! / 1000).toFixed(2)} s of ${runs} (${startTimes.map((t) => (t / 1000).toFixed(2)).join(', ')} s)`);
  } finally {
    notify.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
