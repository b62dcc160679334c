// `npx tsx scripts/camera-clock.ts [--seconds S] [--lag-ms MS] [--no-reports] [URL...]`
// How exact a camera's own clock gets through FFmpeg: for each RTSP stream, FFmpeg (the daemon's
// probing and transport options) copies the video into a fragmented MP4 on a pipe with one
// fragment per frame and a producer reference time box (`prft`) per fragment. FFmpeg's RTP demuxer
// puts on each packet, once an RTCP sender report came, the wall-clock time of its RTP timestamp
// by the camera's clock (the report maps RTP to NTP time), and the MP4 muxer writes it there; before
// the first report it writes the time of muxing instead, with the same flags; a second output
// (framecrc) says when each packet came. Printed per stream:
// when the offset (camera time − the packet's pts) settled and each step it made after; the
// latency (arrival on this host − camera time), p50/p90/max. With two streams of one recording's
// synchronized views, frame k of one against frame k of the other: how far apart their camera
// times and their arrival times are, p50/p90/max.
//
// Without URLs it serves views 2 and 3 of ../shared/media/video_multiview (synchronized within a
// few ms) as two cameras of the tests' RTSP server, and with --lag-ms it passes the second camera's
// stream through a TCP proxy that delays what the server sends after PLAY by that much, as a camera
// with a long encoder or network buffer delivers: its sender reports come as late as its frames.
// --no-reports: the proxy leaves out that camera's RTCP, as a camera that sends none.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeCamera } from '../test/support/fake-camera.js';
import { lagProxy } from '../test/support/lag-proxy.js';
import { media } from '../test/support/media.js';

/** NTP's epoch (1900) before Unix's, in seconds. */
const NTP_UNIX_S = 2208988800;

interface Sample {
  /** pts of the packet (s, from the first packet). */
  mediaS: number;
  /** Its time by the camera's clock (Unix ms), or the time of muxing before the first report. */
  cameraMs: number;
  /** When FFmpeg wrote the packet here (Unix ms). */
  arrivalMs: number;
}

function args(): { seconds: number; lagMs: number; noReports: boolean; urls: string[] } {
  const a = process.argv.slice(2);
  let seconds = 20;
  let lagMs = 0;
  let noReports = false;
  const urls: string[] = [];
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '--seconds') seconds = Number(a[++i]);
    else if (a[i] === '--lag-ms') lagMs = Number(a[++i]);
    else if (a[i] === '--no-reports') noReports = true;
    else urls.push(a[i]!);
  }
  return { seconds, lagMs, noReports, urls };
}

/**
 * One stream's packets for `seconds`: FFmpeg copies them into two outputs, a fragmented MP4 on
 * stdout whose prft boxes give each packet's camera time, and framecrc on fd 3, one line per packet
 * as it is written. The MP4 muxer writes a fragment only when the next packet comes (measured: one
 * frame interval later), so a packet's arrival is its framecrc line's.
 */
function record(url: string, seconds: number): Promise<Sample[]> {
  const t = ['-t', String(seconds)];
  const copy = ['-map', '0:v:0', '-c', 'copy'];
  const ff = spawn(
    'ffmpeg',
    ['-hide_banner', '-nostdin', '-loglevel', 'error', '-analyzeduration', '100000', '-probesize', '32768', '-rtsp_transport', 'tcp', '-i', url, ...t, ...copy, '-f', 'mp4', '-movflags', 'frag_every_frame+empty_moov', '-write_prft', 'wallclock', 'pipe:1', ...t, ...copy, '-flush_packets', '1', '-f', 'framecrc', 'pipe:3'],
    { stdio: ['ignore', 'pipe', 'inherit', 'pipe'] },
  );
  const camera = new Map<number, number>();
  const arrival = new Map<number, number>();
  let buf = Buffer.alloc(0);
  let timescale = 90000;
  ff.stdout!.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 8) {
      const size = buf.readUInt32BE(0);
      if (size < 8 || buf.length < size) break;
      const type = buf.toString('latin1', 4, 8);
      if (type === 'moov') timescale = mdhdTimescale(buf.subarray(0, size)) ?? timescale;
      if (type === 'prft') {
        const version = buf[8]!;
        const ntp = buf.readBigUInt64BE(16);
        const mediaTime = version === 1 ? Number(buf.readBigUInt64BE(24)) : buf.readUInt32BE(24);
        camera.set(Math.round((mediaTime / timescale) * 1e4), (Number(ntp >> 32n) - NTP_UNIX_S) * 1000 + (Number(ntp & 0xffffffffn) / 2 ** 32) * 1000);
      }
      buf = buf.subarray(size);
    }
  });
  let text = '';
  let tb = 1 / 90000;
  (ff.stdio[3] as NodeJS.ReadableStream).on('data', (chunk: Buffer) => {
    const at = performance.timeOrigin + performance.now();
    const lines = (text + chunk.toString()).split('\n');
    text = lines.pop()!;
    for (const line of lines) {
      const base = /^#tb 0: (\d+)\/(\d+)/.exec(line);
      if (base) tb = Number(base[1]) / Number(base[2]);
      if (line.startsWith('#')) continue;
      const pts = Number(line.split(',')[2]);
      if (Number.isFinite(pts)) arrival.set(Math.round(pts * tb * 1e4), at);
    }
  });
  return new Promise((resolve) =>
    ff.once('close', () => {
      const samples: Sample[] = [];
      for (const [key, cameraMs] of camera) {
        const arrivalMs = arrival.get(key);
        if (arrivalMs !== undefined) samples.push({ mediaS: key / 1e4, cameraMs, arrivalMs });
      }
      resolve(samples.sort((a, b) => a.mediaS - b.mediaS));
    }),
  );
}

/** The video track's timescale, from the first mdhd box in moov. */
function mdhdTimescale(moov: Buffer): number | undefined {
  const at = moov.indexOf('mdhd', 0, 'latin1');
  if (at < 0) return undefined;
  const version = moov[at + 4]!;
  return moov.readUInt32BE(at + 4 + 4 + (version === 1 ? 16 : 8));
}

function quantiles(values: number[]): string {
  if (values.length === 0) return 'none';
  const s = [...values].sort((x, y) => x - y);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!.toFixed(1);
  return `min ${s[0]!.toFixed(1)}, p10 ${at(0.1)}, p50 ${at(0.5)}, p90 ${at(0.9)}, max ${s[s.length - 1]!.toFixed(1)} ms (n ${s.length})`;
}

/** The offset (camera ms − pts ms) per sample, and where it steps by more than 2 ms. */
function describe(name: string, samples: Sample[]): void {
  const offsets = samples.map((s) => s.cameraMs - s.mediaS * 1000);
  const steps: string[] = [];
  for (let i = 1; i < offsets.length; i++) {
    const d = offsets[i]! - offsets[i - 1]!;
    if (Math.abs(d) > 2) steps.push(`${samples[i]!.mediaS.toFixed(2)} s: ${d > 0 ? '+' : ''}${d.toFixed(1)} ms`);
  }
  // The offset after its last step: frames from there on are timed by the camera's clock.
  const lastStep = offsets.findLastIndex((o, i) => i > 0 && Math.abs(o - offsets[i - 1]!) > 2);
  const settled = samples.slice(Math.max(0, lastStep));
  console.log(`${name}: ${samples.length} frames; offset steps: ${steps.join(', ') || 'none'}`);
  console.log(`  latency (arrival − camera time) once settled: ${quantiles(settled.map((s) => s.arrivalMs - s.cameraMs))}`);
}

/** Frame k of `a` against frame k of `b` (the same moment of a synchronized recording), once both settled. */
function compare(a: Sample[], b: Sample[], fromS: number): void {
  const camera: number[] = [];
  const arrival: number[] = [];
  for (let k = 0; k < Math.min(a.length, b.length); k++) {
    if (a[k]!.mediaS < fromS) continue;
    camera.push(a[k]!.cameraMs - b[k]!.cameraMs);
    arrival.push(a[k]!.arrivalMs - b[k]!.arrivalMs);
  }
  console.log(`frame k of the second stream against frame k of the first (second − first), after ${fromS} s:`);
  console.log(`  camera times: ${quantiles(camera.map((v) => -v))}`);
  console.log(`  arrival times: ${quantiles(arrival.map((v) => -v))}`);
}

async function main(): Promise<void> {
  const { seconds, lagMs, noReports, urls } = args();
  if (urls.length > 0) {
    const all = await Promise.all(urls.map((u) => record(u, seconds)));
    all.forEach((s, i) => describe(`stream ${i}`, s));
    if (all.length === 2) compare(all[0]!, all[1]!, 3);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'facegate-camera-clock-'));
  const cameras: FakeCamera[] = [];
  let relay: Awaited<ReturnType<typeof lagProxy>> | undefined;
  try {
    for (const view of [2, 3]) {
      const out = join(dir, `view${view}.mp4`);
      const r = spawnSync('ffmpeg', ['-v', 'error', '-y', '-i', media(`video_multiview/charuco_cam_${view}.mp4`), '-vf', 'format=yuv420p', '-c:v', 'libx264', '-profile:v', 'baseline', '-bf', '0', '-g', '6', '-crf', '23', '-r', '6', out]);
      if (r.status !== 0) throw new Error(r.stderr.toString());
      cameras.push(await FakeCamera.start({ video: out, videoLoops: 4 }));
    }
    const urlA = cameras[0]!.url('/video');
    let urlB = cameras[1]!.url('/video');
    if (lagMs > 0 || noReports) {
      relay = await lagProxy(cameras[1]!.port, lagMs, noReports);
      urlB = `rtsp://127.0.0.1:${relay.port}/video`;
    }
    const [a, b] = await Promise.all([record(urlA, seconds), record(urlB, seconds)]);
    describe('view 2', a!);
    describe(`view 3${lagMs > 0 ? `, its stream ${lagMs} ms late` : ''}${noReports ? ', without its sender reports' : ''}`, b!);
    compare(a!, b!, 3);
  } finally {
    await relay?.close();
    for (const c of cameras) await c.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
