// `npm run bench -- console [--persons 10000] [--timeline 100000] [--loads 5] [--cameras 1,2,4] [--window 20]`
// The web console in Debian's Chromium (puppeteer-core, as test/web/browser.test.ts drives it)
// against the real daemon (dist/, as systemd runs it) whose state file holds N people (one sealed
// template each) and M timeline decisions (those of recognised and unknown tracks with a sealed
// crop), written straight into it through the daemon's own stores before it starts:
// 1. per page, logged in as an admin, with one camera on the CCTV clip: first contentful paint and the time until the
//    page shows its data (the element its code fills), from the start of a fresh load, p50 of L loads
//    after one not counted;
// 2. the camera grid (the cameras page: every camera's picture fetched once a second): the daemon's
//    node process CPU (utime + stime over W seconds) and RSS (mean of a sample a second), with the
//    page open and closed (before and after, averaged), on 1, 2 and 4 looped file cameras (720p at
//    5 fps, an empty entrance so that the pipeline has CPU to spare), and the difference per camera.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import sharp from 'sharp';
import type { LivenessSummary, TrackEvent } from '../../daemon/track/events.js';
import { Timeline } from '../../daemon/track/timeline.js';
import { CHROMIUM, CHROMIUM_FLAGS } from '../../test/support/chromium.js';
import { DaemonProcess } from '../../test/ops/daemon-harness.js';
import { addConsoleAccount, benchSite, CONSOLE_ACCOUNT, cctvSource, cpuSeconds, fileCameras, finishedShares, frameCounts, freePort, openBenchGallery, percentile, rssMiB, scrape, siteConfig, testPattern, type BenchSite } from './daemon-run.js';

const DAY_MS = 86_400_000;
/** A table row: the first cell left-aligned, the figures right-aligned under their headings. */
const columns = (cells: string[]) => `  ${cells[0]!.padEnd(10)}${cells.slice(1).map((c) => c.padStart(12)).join('')}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * What shows that each page has drawn its data: the element its code (daemon/web/ui/pages/) fills
 * once its API calls have answered (or the status line saying there is nothing to show).
 */
const SHOWN: Record<string, string> = {
  cameras: "document.querySelectorAll('#camera-rows tr').length > 0 && [...document.querySelectorAll('#live-grid img')].filter((i) => i.naturalWidth > 0).length === document.querySelectorAll('#camera-rows tr').length",
  people: "document.querySelectorAll('#people-rows tr').length > 0",
  timeline: "document.querySelectorAll('#timeline-rows tr').length > 0",
  history: "document.querySelectorAll('#history-rows tr').length > 0 || document.getElementById('status').textContent.startsWith('No attendance')",
  unknowns: "document.querySelectorAll('#unknown-list li').length > 0 || document.getElementById('status').textContent.startsWith('No unknown')",
  thresholds: "document.querySelectorAll('#threshold-cameras section').length > 0",
  audit: "document.querySelectorAll('#audit-rows tr').length > 0",
  system: "document.querySelectorAll('#system-models tr').length > 0",
};

/**
 * `rows` decisions over the last week on cam1…cam4, written through the daemon's Timeline as its
 * bus would: 60 % recognised (a random person), 25 % unknown, both with a sealed crop, the rest too
 * small or of low quality. Returns how many have a crop.
 */
async function fillTimeline(site: BenchSite, rows: number): Promise<number> {
  const g = await openBenchGallery(site);
  try {
    const persons = g.store.listPersons().persons;
    const timeline = new Timeline(g.db, g.sealer);
    // A plain 112×112 JPEG: the crop's bytes are sealed and stored, never decoded by a page load.
    const crop = await sharp({ create: { width: 112, height: 112, channels: 3, background: '#7a6e64' } }).jpeg().toBuffer();
    const liveness: LivenessSummary = { score: 2.1, blink: 1.2, structure: 0.4, passive: 0.5, surround: 0, screen: 0, stereo: 0 };
    const start = Date.now() - 7 * DAY_MS;
    let crops = 0;
    const decision = (i: number): TrackEvent & { atMs: number } => {
      const base = { camera: `cam${(i % 4) + 1}`, track: i, t: i, atMs: start + Math.floor((i * 7 * DAY_MS) / rows) };
      const kind = i % 20;
      if (kind < 12) {
        const p = persons[Math.floor(Math.random() * persons.length)]!;
        return { ...base, type: 'recognized', person: { id: p.id, name: p.name }, score: 0.6 + Math.random() * 0.3, margin: 0.2, live: true, named_t: i, blink_t: i, antispoof: 0.9, liveness, assurance: 'live', face_px: 96, thumbnail: crop };
      }
      if (kind < 17) return { ...base, type: 'unknown', anon_id: `anon-${i % 5000}`, score: Math.random() * 0.4, live: true, antispoof: 0.9, liveness, face_px: 90, thumbnail: crop };
      return kind < 19 ? { ...base, type: 'too_small', reason: 'face 30 px high' } : { ...base, type: 'low_quality', reason: 'blurred' };
    };
    for (let i = 0; i < rows; i += 1000) {
      g.db.transaction(() => {
        for (let j = i; j < Math.min(i + 1000, rows); j++) {
          const e = decision(j);
          timeline.record(e);
          if ('thumbnail' in e && e.thumbnail) crops++;
        }
      })();
    }
    return crops;
  } finally {
    g.close();
  }
}

interface Console {
  daemon: DaemonProcess;
  metricsPort: number;
  url: string;
  page: Page;
  stop(): Promise<void>;
}

/** The daemon on `cameras` cameras with its console on, every camera streaming, and a browser page logged in to it. */
async function startConsole(dir: string, site: BenchSite, source: string, cameras: number, browser: Browser): Promise<Console> {
  const metricsPort = await freePort();
  const port = await freePort();
  const config = join(dir, `console-${cameras}.yaml`);
  // The bench reloads pages far faster than a person does: the rate limits are not what is measured.
  const web = `web:\n  enabled: true\n  port: ${port}\n  rate_limits: { login_client: { max: 100000, window_s: 60 }, read: { max: 100000, window_s: 60 } }\n`;
  writeFileSync(config, `${fileCameras(cameras, source)}${siteConfig(dir, site, metricsPort)}${web}`);
  const daemon = new DaemonProcess(config);
  const context = await browser.createBrowserContext();
  const stop = async () => {
    await context.close();
    daemon.signal('SIGTERM');
    await daemon.exited;
  };
  try {
    await daemon.waitForLog(/web console listening/, 180_000);
    for (const deadline = Date.now() + 60_000; ; await sleep(500)) {
      const counts = [...frameCounts(await scrape(metricsPort)).values()];
      if (counts.length === cameras && counts.every((c) => c.read > 0)) break;
      if (Date.now() > deadline) throw new Error(`the cameras did not all stream within 60 s: ${daemon.log.slice(-2000)}`);
    }
    const url = `http://127.0.0.1:${port}/`;
    const page = await context.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    // Logged in on the system page, so that no camera grid is opened before it is measured.
    await page.goto(`${url}#system`);
    await page.waitForFunction("document.activeElement?.id === 'login-name'");
    await page.type('#login-name', CONSOLE_ACCOUNT.name);
    await page.type('#login-password', CONSOLE_ACCOUNT.password);
    await page.click('#login-form button');
    await page.waitForFunction("!document.getElementById('nav').hidden");
    await page.goto('about:blank');
    return { daemon, metricsPort, url, page, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Per page: first contentful paint and data shown (ms from the start of the load), `loads` fresh loads each after one not counted. */
async function pageLoads(c: Console, loads: number): Promise<Map<string, { paint: number[]; shown: number[] }>> {
  const out = new Map(Object.keys(SHOWN).map((name) => [name, { paint: [] as number[], shown: [] as number[] }]));
  // Pages taken in turn, so that whatever else the machine does falls on all of them alike.
  for (let i = -1; i < loads; i++) {
    for (const [name, shown] of Object.entries(SHOWN)) {
      // From another document: a change of the hash alone would not load the page again.
      await c.page.goto('about:blank');
      await c.page.goto(`${c.url}#${name}`, { waitUntil: 'domcontentloaded' });
      // Checked at every animation frame: the first frame that can paint the data.
      const shownMs = (await (await c.page.waitForFunction(`(${shown}) && performance.now()`, { polling: 'raf', timeout: 60_000 })).jsonValue()) as number;
      const paintMs = (await c.page.evaluate("performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN")) as number;
      if (i < 0) continue;
      out.get(name)!.paint.push(paintMs);
      out.get(name)!.shown.push(shownMs);
    }
  }
  await c.page.goto('about:blank');
  return out;
}

interface Usage {
  /** % of a core. */
  cpu: number;
  /** MiB, the mean of a sample a second. */
  rss: number;
  /** Frames the pipeline finished of those read, in %, worst camera: under 100 the pipeline is short of CPU and gives up frames for what else runs. */
  finished: number;
}

/** The daemon's node process over `seconds`. */
async function usage(c: Console, seconds: number): Promise<Usage> {
  const pid = c.daemon.child.pid!;
  const frames0 = frameCounts(await scrape(c.metricsPort));
  const t0 = performance.now();
  const cpu0 = cpuSeconds(pid);
  const rss: number[] = [];
  for (let s = 0; s < seconds; s++) {
    await sleep(1000);
    rss.push(rssMiB(pid));
  }
  const cpu = (100 * (cpuSeconds(pid) - cpu0)) / ((performance.now() - t0) / 1000);
  const finished = Math.min(...finishedShares(frames0, frameCounts(await scrape(c.metricsPort))).map((f) => f.pct));
  return { cpu, rss: rss.reduce((a, b) => a + b, 0) / rss.length, finished };
}

/**
 * The daemon with no console page open, then with the camera grid open (every picture shown), then
 * closed again, `seconds` each: the closed figures are the mean of both, so that what the daemon
 * gains as it runs on (caches, the heap's growth) is not put on the page; their difference says how
 * much the figures wander on their own.
 */
async function gridCost(c: Console, cameras: number, seconds: number): Promise<{ before: Usage; open: Usage; after: Usage }> {
  await sleep(10_000); // the login's requests and the cameras' first frames settle first
  const before = await usage(c, seconds);
  await c.page.goto(`${c.url}#cameras`);
  await c.page.waitForFunction(`[...document.querySelectorAll('#live-grid img')].filter((i) => i.naturalWidth > 0).length === ${cameras}`, { timeout: 60_000 });
  await sleep(5000);
  const open = await usage(c, seconds);
  await c.page.goto('about:blank');
  await sleep(5000);
  const after = await usage(c, seconds);
  return { before, open, after };
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      persons: { type: 'string', default: '10000' },
      timeline: { type: 'string', default: '100000' },
      loads: { type: 'string', default: '5' },
      cameras: { type: 'string', default: '1,2,4' },
      window: { type: 'string', default: '20' },
    },
  });
  const persons = Number(values.persons);
  const rows = Number(values.timeline);
  const loads = Number(values.loads);
  const counts = values.cameras.split(',').filter(Boolean).map(Number);
  const seconds = Number(values.window);
  const dir = mkdtempSync(join(tmpdir(), 'fg-bench-console-'));
  const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_FLAGS, '--window-size=1280,900'] });
  try {
    const t0 = performance.now();
    const site = await benchSite(dir, persons);
    const crops = await fillTimeline(site, rows);
    await addConsoleAccount(site);
    const scene = cctvSource(dir);
    const pattern = testPattern(dir, 'entrance');
    console.log(`console: ${persons} persons (one sealed template each), ${rows} timeline decisions (${crops} with a sealed crop), written in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${await browser.version()}, ${availableParallelism()} cores`);

    const c = await startConsole(dir, site, scene.path, 1, browser);
    try {
      const times = await pageLoads(c, loads);
      console.log(`page loads, one camera playing ${scene.what}, logged in as an admin: ms from the start of a fresh load, p50 of ${loads} after one not counted`);
      console.log(columns(['page', 'first paint', 'data shown']));
      for (const [name, t] of times) console.log(columns([name, `${percentile(t.paint, 0.5).toFixed(0)} ms`, `${percentile(t.shown, 0.5).toFixed(0)} ms`]));
    } finally {
      await c.stop();
    }

    // Cameras without faces or motion: with people in view, a few cameras keep two cores' pipeline
    // busy, and the pictures' cost would be hidden in the frames it then gives up rather than shown in CPU.
    console.log(`camera grid: cameras playing ${pattern.what}, 1280×720 at 5 fps; the daemon's node process (all its threads, not its FFmpeg children), page closed, open, closed again, ${seconds} s each`);
    console.log(columns(['cameras', 'CPU closed', 'CPU open', 'per camera', 'RSS closed', 'RSS open', 'per camera', 'closed Δ', 'finished']));
    const signed = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(1)}`;
    for (const n of counts) {
      const g = await startConsole(dir, site, pattern.path, n, browser);
      try {
        const { before, open, after } = await gridCost(g, n, seconds);
        const closed = { cpu: (before.cpu + after.cpu) / 2, rss: (before.rss + after.rss) / 2 };
        console.log(
          columns([
            String(n),
            `${closed.cpu.toFixed(1)} %`,
            `${open.cpu.toFixed(1)} %`,
            `${signed((open.cpu - closed.cpu) / n)} %`,
            `${closed.rss.toFixed(0)} MiB`,
            `${open.rss.toFixed(0)} MiB`,
            `${signed((open.rss - closed.rss) / n)} MiB`,
            `${signed(after.cpu - before.cpu)} %`,
            `${Math.min(before.finished, open.finished, after.finished).toFixed(0)} %`,
          ]),
        );
      } finally {
        await g.stop();
      }
    }
    console.log("  (per camera: open − closed, divided by the cameras; closed Δ: CPU of the second closed window − the first; finished: the pipeline's frames finished of those read, worst camera and window)");
    console.log(`load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
