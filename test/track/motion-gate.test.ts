// Detection gated by motion, through the real models on a CCTV-like 1080p stream (a talking face of
// ~100 px, the sensor's noise, H.264 at CRF 30): the face is tracked as with a full sweep on every
// detect frame, at a fraction of the detector's work; an empty entrance costs only its first look.
import '../support/offline-tier.js';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { defaultConfig } from '../../daemon/config/load.js';
import type { TrackConfig } from '../../daemon/track/config.js';
import type { TrackEvent } from '../../daemon/track/events.js';
import { scanVideo } from '../../daemon/track/scan.js';
import { UnknownRegistry } from '../../daemon/track/unknowns.js';
import type { CameraEngine } from '../../daemon/vision/engine.js';
import { detectionRegions, needsTiles } from '../../daemon/vision/tiles.js';
import { testAnalyzer } from '../support/analyzer.js';
import { asCameraStream, CCTV_1080P_100 } from '../support/blink-media.js';
import { media, mediaMissing } from '../support/media.js';

const CLIP = 'video_blink/liveportrait_d0.mp4';
const config = defaultConfig();
const dir = mkdtempSync(join(tmpdir(), 'fg-motion-gate-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The camera's engine, counting the detector regions each detect call runs. */
async function countingEngine(): Promise<{ engine: CameraEngine; regions: number[]; arrivals: number[] }> {
  const analyzer = await testAnalyzer();
  const regions: number[] = [];
  /** Areas where something arrived, a detect frame. */
  const arrivals: number[] = [];
  const { min_face_px } = config.vision.detect;
  return {
    regions,
    arrivals,
    engine: {
      detect: (img, focus) => {
        arrivals.push(focus?.filter((a) => a.kind === 'arrival').length ?? 0);
        regions.push(detectionRegions(img.width, img.height, needsTiles(img.width, img.height, min_face_px), min_face_px, focus).length);
        return analyzer.detect(img, undefined, focus);
      },
      analyzeFace: (img, d, o) => analyzer.analyzeFace(img, d, o),
    },
  };
}

async function scan(file: string, track: Partial<TrackConfig>) {
  const { engine, regions, arrivals } = await countingEngine();
  const events: TrackEvent[] = [];
  /** When each track was first seen (its first eye sample), seconds. */
  const firstSeen = new Map<number, number>();
  const summary = await scanVideo(file, {
    onEyeSample: (s) => {
      if (!firstSeen.has(s.track)) firstSeen.set(s.track, s.t);
    },
    engine,
    config: { ...config.track, ...track },
    identify: () => ({ person: null, score: -1, margin: 0, near: false }),
    unknowns: new UnknownRegistry({ similarity: 0.5, retentionS: 60, maxFrames: 1 }),
    onEvent: (e) => void events.push(e),
  });
  return { events, regions, arrivals, firstSeen, stats: summary.stats };
}

/** When the second head of `secondHeadArrives` comes into view, seconds. */
const ARRIVES_S = 2.1;

/**
 * Two talking heads (~100 px faces) on a noisy 1080p CRF 28 stream, 4 s: the first at (200, 300)
 * throughout, the second at `at` from ARRIVES_S.
 */
function secondHeadArrives(file: string, at: { x: number; y: number }): void {
  const head = `fps=15,scale=260:260`;
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-stream_loop', '-1', '-i', media(CLIP), '-stream_loop', '-1', '-ss', '1', '-i', media(CLIP), '-filter_complex',
    `color=c=0x5a6068:s=1920x1080:r=15:d=4[bg];[0:v]${head}[a];[1:v]${head}[b];[bg][a]overlay=200:300:shortest=1[ab];[ab][b]overlay=${at.x}:${at.y}:enable='gte(t,${ARRIVES_S})':shortest=1,noise=alls=4:allf=t[out]`,
    '-map', '[out]', '-t', '4', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '28', '-g', '30', '-pix_fmt', 'yuv420p', file]);
}

test('a talking face at ~100 px in a noisy 1080p CRF 30 stream: the same track as a full sweep on every detect frame, for far fewer detector runs', { skip: mediaMissing(CLIP) }, async () => {
  const analyzer = await testAnalyzer();
  const file = await asCameraStream(analyzer, CLIP, join(dir, 'face.mp4'), CCTV_1080P_100);

  const swept = await scan(file, { sweep_s: 0 });
  const gated = await scan(file, {});
  const tracks = (r: typeof swept) => new Set(r.events.filter((e) => e.type === 'unknown' || e.type === 'track_ended').map((e) => e.track));
  assert.equal(tracks(swept).size, 1, 'one person, one track (swept)');
  assert.equal(tracks(gated).size, 1, 'one person, one track (gated)');
  assert.deepEqual(gated.events.map((e) => e.type), swept.events.map((e) => e.type));
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  console.log(`# detector regions: swept ${sum(swept.regions)} over ${swept.regions.length} detect frames, gated ${sum(gated.regions)} (${gated.stats.sweepFrames} sweeps)`);
  assert.ok(sum(gated.regions) < 0.5 * sum(swept.regions), `gated ${sum(gated.regions)} vs swept ${sum(swept.regions)}`);
});

test('an empty entrance (noise, CRF 30): after the first detect frame no detection runs at all, sweeps included (nothing changed)', async () => {
  const file = join(dir, 'empty.mp4');
  const { width, height } = CCTV_1080P_100.frame;
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `color=c=0x5a6068:s=${width}x${height}:r=15:d=5,noise=alls=5:allf=t`, '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '30', '-g', '30', '-pix_fmt', 'yuv420p', file]);
  const { regions, stats } = await scan(file, { sweep_s: 2 });
  // The first detect frame looks at the whole frame; the sweeps every 2 s find nothing changed.
  assert.equal(stats.sweepFrames, 1, JSON.stringify(stats));
  assert.equal(stats.changeSweepFrames, 0, JSON.stringify(stats));
  assert.equal(stats.stillFrames, stats.detectFrames - 1, JSON.stringify(stats));
  assert.equal(regions.length, 1);
});

test('a second person who walks in beside a tracked one is found at the next detect frame, not at the next sweep; the first one\'s own motion runs no extra tiles', { skip: mediaMissing(CLIP) }, async () => {
  const file = join(dir, 'arrival.mp4');
  // Two talking heads (~100 px faces) far apart on a noisy 1080p stream; the second appears at ARRIVES_S.
  secondHeadArrives(file, { x: 1400, y: 600 });
  // No sweep after the first frame: only the motion gate can find the second person.
  const { firstSeen, regions, stats } = await scan(file, { sweep_s: 60 });
  assert.equal(stats.sweepFrames, 1);
  const times = [...firstSeen.values()].sort((a, b) => a - b);
  assert.equal(times.length, 2, `tracks first seen at ${times.join(', ')}`);
  const detectStep = 1 / config.track.detect_fps;
  assert.ok(times[1]! >= ARRIVES_S - 0.01 && times[1]! <= ARRIVES_S + 2 * detectStep, `second person found at ${times[1]} s, arrived at ${ARRIVES_S} s`);
  // Before the arrival, the first person alone: one tile for their face, no full pass, on most detect frames.
  const before = regions.slice(1, Math.floor(ARRIVES_S * config.track.detect_fps) - 1);
  const single = before.filter((n) => n === 1).length;
  console.log(`# detector regions a detect frame before the arrival: ${before.join(' ')}`);
  assert.ok(single >= 0.6 * before.length, `regions a detect frame before the arrival: ${before.join(' ')}`);
});

test('someone who steps up right beside a tracked person, where that person\'s own arms move, is found within two detect frames', { skip: mediaMissing(CLIP) }, async () => {
  const file = join(dir, 'beside.mp4');
  // The second head 40 px right of the first: outside the first face's own region, inside the
  // reach of its arms, where motion is searched every other detect frame once they are live.
  secondHeadArrives(file, { x: 500, y: 380 });
  const { firstSeen } = await scan(file, { sweep_s: 60 });
  const times = [...firstSeen.values()].sort((a, b) => a - b);
  assert.equal(times.length, 2, `tracks first seen at ${times.join(', ')}`);
  const detectStep = 1 / config.track.detect_fps;
  console.log(`# second person arrived at ${ARRIVES_S} s, found at ${times[1]} s`);
  assert.ok(times[1]! >= ARRIVES_S - 0.01 && times[1]! <= ARRIVES_S + 2 * detectStep + 0.01, `second person found at ${times[1]} s, arrived at ${ARRIVES_S} s`);
});

test('a hand waving beside a talking person is searched on every detect frame until the person is live, then on every other one', { skip: mediaMissing(CLIP) }, async () => {
  const file = join(dir, 'hand.mp4');
  // The talking head of the other tests, and a 60 px "hand" swinging 2–3 faces to its right, below
  // the chin: outside the face's own region, inside the reach of its arms.
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-stream_loop', '-1', '-i', media(CLIP), '-filter_complex',
    `color=c=0x5a6068:s=1920x1080:r=15:d=8[bg];color=c=white:s=60x60:r=15:d=8[h];[0:v]fps=15,scale=260:260[a];[bg][a]overlay=200:300:shortest=1[ba];[ba][h]overlay=x='560+60*sin(5*t)':y=520:eval=frame,noise=alls=4:allf=t[out]`,
    '-map', '[out]', '-t', '8', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '28', '-g', '30', '-pix_fmt', 'yuv420p', file]);
  const { events, arrivals } = await scan(file, { sweep_s: 60 });
  console.log(`# arrival areas on each detect frame: ${arrivals.join(' ')}; ${events.map((e) => `${e.type} ${e.t}`).join(', ')}`);
  const ended = events.find((e) => e.type === 'track_ended');
  assert.ok(ended?.type === 'track_ended' && ended.live, 'the person is live by the end');
  // A blink is what makes this person live: before it, a face not yet proven live.
  const firstBlink = events.find((e) => e.type === 'blink')?.t;
  assert.ok(firstBlink !== undefined && firstBlink < 5, `first blink at ${firstBlink}`);
  // Detect frames run every 1/detect_fps s here (the focus is never empty), the first a sweep.
  const at = (k: number) => k / config.track.detect_fps;
  const before = arrivals.filter((_, k) => k > 0 && at(k) < firstBlink!);
  const after = arrivals.filter((_, k) => at(k) > firstBlink! + 0.5);
  assert.ok(before.length >= 5 && before.every((n) => n > 0), `before the blink, searched on every detect frame: ${before.join(' ')}`);
  const searched = after.filter((n) => n > 0).length;
  assert.ok(after.length >= 10 && searched >= 0.4 * after.length && searched <= 0.6 * after.length, `once live, searched on every other detect frame: ${after.join(' ')}`);
});

test('someone who comes into view, stands and leaves is looked for where they came and went once, not while the picture settles', { skip: mediaMissing(CLIP) }, async () => {
  const file = join(dir, 'visit.mp4');
  const [IN_S, OUT_S] = [1, 2.6];
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-stream_loop', '-1', '-i', media(CLIP), '-filter_complex',
    `color=c=0x5a6068:s=1920x1080:r=15:d=5[bg];[0:v]fps=15,scale=260:260[a];[bg][a]overlay=900:400:enable='between(t,${IN_S},${OUT_S})':shortest=1,noise=alls=4:allf=t[out]`,
    '-map', '[out]', '-t', '5', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '28', '-g', '30', '-pix_fmt', 'yuv420p', file]);
  const { firstSeen, arrivals } = await scan(file, { sweep_s: 60 });
  assert.equal(firstSeen.size, 1, 'one visitor, one track');
  const looked = arrivals.filter((n) => n > 0).length;
  console.log(`# arrival areas on each detect frame that ran: ${arrivals.join(' ')}`);
  // Coming in is one change and going out another (the track, still coasting there, explains part
  // of it). A background that forgot them slowly kept the place they left "moving", and detection
  // running on it, for ~2 s: 10 detect frames here.
  assert.ok(looked <= 3, `detect frames that looked for arrivals: ${looked}`);
});
