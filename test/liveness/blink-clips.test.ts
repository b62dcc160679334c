// Blink detection through the whole per-track logic (scanVideo, the code behind `facegate scan`) on
// every annotated clip of ../shared/media/video_blink, at native size and downscaled to CCTV size.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { defaultConfig } from '../../daemon/config/load.js';
import type { FaceEngine } from '../../daemon/track/camera-tracker.js';
import { scanVideo } from '../../daemon/track/scan.js';
import { UnknownRegistry } from '../../daemon/track/unknowns.js';
import { videoFrames } from '../../daemon/track/video-file.js';
import type { DetectMode } from '../../daemon/vision/detector.js';
import { testAnalyzer } from '../support/analyzer.js';
import { media, mediaMissing } from '../support/media.js';

const config = defaultConfig();
const TOLERANCE_S = 0.15;

interface Annotated {
  start: number;
  end: number;
  type: string;
}

function csv(path: string): string[][] {
  return readFileSync(media(path), 'utf8').trim().split(/\r?\n/).slice(1).map((l) => l.split(','));
}

const events = mediaMissing('annotations/blink_events.csv') ? [] : csv('annotations/blink_events.csv');
const windows = mediaMissing('annotations/no_blink_windows.csv') ? [] : csv('annotations/no_blink_windows.csv');
/** Every clip of video_blink/ with an annotation (events or no-blink windows). */
const CLIPS = [...new Set([...events, ...windows].map((c) => c[0]!).filter((f) => f.startsWith('video_blink/')))].sort();

/**
 * Corrections to annotations/blink_events.csv, checked on the frames. liveportrait_d19 3.30–3.37 s
 * (frames 99–101, inside the "no eyelid lowering" window 1.93–5.20): a fast blink of both eyes, the
 * subject's right eye shut and the left down to a slit on frames 99–100, open again on 102; fr_eye
 * on every native frame reads 0.08 / 0.06 (left / right) on frame 99, ≥ 0.78 on frames 98 and 102.
 * The head does not turn: yaw −6.7 → −7.2 → −5.8°, roll within 1°, landmarks moving ≤ 0.014 face
 * heights a sample at 80 px (real blinks on other clips: up to 0.054). It is a blink, so reporting
 * it is not false; it is left out of recall ('blink-erratum', like 'partial') because it was found
 * by looking where the detector fired, and a 15 fps sampling sees it on one frame only.
 */
const ERRATA: Array<[clip: string, a: Annotated]> = [['video_blink/liveportrait_d19.mp4', { start: 3.3, end: 3.37, type: 'blink-erratum' }]];

const annotated = (clip: string): Annotated[] => [
  ...events.filter((c) => c[0] === clip).map((c) => ({ start: Number(c[4]), end: Number(c[5]), type: c[6]! })),
  ...ERRATA.filter(([c]) => c === clip).map(([, a]) => a),
];
/** Blinks reported within half a second of a one-eye wink: a wink must never count, at any size. */
const nearWinks = (s: ClipScore) => s.times.filter((t) => annotated(s.clip).some((a) => a.type === 'wink' && t >= a.start - 0.5 && t <= a.end + 0.5));
const noBlinkWindows = (clip: string) => windows.filter((w) => w[0] === clip).map((w) => ({ start: Number(w[1]), end: Number(w[2]) }));
const near = (t: number, a: Annotated) => t >= a.start - TOLERANCE_S && t <= a.end + TOLERANCE_S;

async function engine(mode: DetectMode): Promise<FaceEngine> {
  const analyzer = await testAnalyzer();
  return { detect: (img) => analyzer.detect(img, mode), analyzeFace: (img, d, o) => analyzer.analyzeFace(img, d, o) };
}

/** Times of every `blink` event the per-track logic reports on a file. */
async function blinkTimes(file: string, mode: DetectMode): Promise<number[]> {
  const times: number[] = [];
  await scanVideo(file, {
    engine: await engine(mode),
    config: config.track,
    identify: () => ({ person: null, score: -1, margin: 0 }),
    unknowns: new UnknownRegistry({ similarity: 0.5, retentionS: 60, maxFrames: 1 }),
    onEvent: (e) => {
      if (e.type === 'blink') times.push(e.t);
    },
  });
  return times;
}

interface ClipScore {
  clip: string;
  found: number;
  blinks: number;
  missed: number[];
  /** Blinks reported inside a no-blink window (and not on any annotated event). */
  falseInWindows: number[];
  /** Blinks on annotated events that recall does not require (partial, closure, blink-cut, erratum; winks are asserted apart). */
  onOther: number[];
  /** Blinks matching no annotation at all (outside windows: possibly unannotated). */
  unmatched: number[];
  times: number[];
}

function score(clip: string, times: number[]): ClipScore {
  const truth = annotated(clip);
  const real = truth.filter((a) => a.type === 'blink');
  const missed = real.filter((a) => !times.some((t) => near(t, a))).map((a) => a.start);
  const stray = times.filter((t) => !truth.some((a) => near(t, a)));
  const onOther = times.filter((t) => !real.some((a) => near(t, a)) && !stray.includes(t));
  const falseInWindows = stray.filter((t) => noBlinkWindows(clip).some((w) => t >= w.start && t <= w.end));
  return { clip, found: real.length - missed.length, blinks: real.length, missed, falseInWindows, onOther, unmatched: stray.filter((t) => !falseInWindows.includes(t)), times };
}

function table(title: string, scores: ClipScore[]): void {
  const f = (v: number[]) => v.map((t) => t.toFixed(2)).join(' ') || '-';
  console.log(`\n${title}\n${'clip'.padEnd(36)} found/blinks  missed (s)          false in no-blink windows  on partial/other events  other unannotated`);
  for (const s of scores) {
    console.log(`${s.clip.replace('video_blink/', '').padEnd(36)} ${`${s.found}/${s.blinks}`.padEnd(13)} ${f(s.missed).padEnd(19)} ${f(s.falseInWindows).padEnd(26)} ${f(s.onOther).padEnd(24)} ${f(s.unmatched)}`);
  }
  const found = scores.reduce((n, s) => n + s.found, 0);
  const total = scores.reduce((n, s) => n + s.blinks, 0);
  const falses = scores.reduce((n, s) => n + s.falseInWindows.length, 0);
  console.log(`total: ${found}/${total} blinks found (${((100 * found) / total).toFixed(1)}%), ${falses} false blink(s) in no-blink windows`);
}

const recall = (scores: ClipScore[]) => scores.reduce((n, s) => n + s.found, 0) / scores.reduce((n, s) => n + s.blinks, 0);

test('blinks on every annotated clip: ≥ 95% found within ±150 ms, none in no-blink windows, winks and a grin never counted', { skip: mediaMissing('annotations/blink_events.csv', ...CLIPS) }, async () => {
  const scores: ClipScore[] = [];
  // Close-up clips: one full-frame detection finds these faces (≥ 120 px); tiling would only cost time.
  for (const clip of CLIPS) scores.push(score(clip, await blinkTimes(media(clip), 'full')));
  table('blinks, clips at native size (detect 5 fps, eyes 15 fps)', scores);
  assert.ok(recall(scores) >= 0.95, `recall ${recall(scores).toFixed(3)}`);
  for (const s of scores) assert.deepEqual(s.falseInWindows, [], `${s.clip}: blink reported in a no-blink window`);
  for (const s of scores) assert.deepEqual(nearWinks(s), [], `${s.clip}: a one-eye wink counted as a blink`);
  const grin = scores.find((s) => s.clip.endsWith('liveportrait_d18.mp4'))!.times.filter((t) => t >= 3.8 && t <= 5.0);
  assert.deepEqual(grin, [], 'the grin narrowing the eyes is not a blink');
});

test('blinks at CCTV size: each clip downscaled so the face is ~80 px in a 1280×720 frame at 15 fps', { skip: mediaMissing('annotations/blink_events.csv', ...CLIPS) }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-blink-small-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const analyzer = await testAnalyzer();
  const scores: ClipScore[] = [];
  for (const clip of CLIPS) {
    const faceHeight = await typicalFaceHeight(media(clip), (img) => analyzer.detect(img, 'full'));
    const small = join(dir, clip.replace('video_blink/', ''));
    composeSmall(media(clip), small, 80 / faceHeight);
    scores.push(score(clip, await blinkTimes(small, 'auto')));
  }
  table('blinks, face ~80 px in 1280×720 at 15 fps (detect auto: tiled)', scores);
  const falses = scores.flatMap((s) => s.falseInWindows);
  console.log(`recall ${(100 * recall(scores)).toFixed(1)}% (target ≥ 80%), false blinks in no-blink windows: ${falses.length} (target 0)`);
  assert.ok(recall(scores) >= 0.8, `recall ${recall(scores).toFixed(3)}`);
  assert.deepEqual(falses, [], 'no false blink in no-blink windows');
  for (const s of scores) assert.deepEqual(nearWinks(s), [], `${s.clip}: a one-eye wink counted as a blink`);
});

/** Median height of the largest face over the first seconds (1 frame a second). */
async function typicalFaceHeight(file: string, detect: FaceEngine['detect']): Promise<number> {
  const heights: number[] = [];
  for await (const frame of videoFrames(file, { fps: 1 })) {
    const [face] = await detect(frame.image);
    if (face) heights.push(face.box.h);
    if (heights.length >= 3) break;
  }
  assert.ok(heights.length > 0, `${file}: no face`);
  heights.sort((a, b) => a - b);
  return heights[Math.floor(heights.length / 2)]!;
}

/** The clip scaled by `scale` (area filter, as a camera's sensor would average) in the middle of a grey 1280×720 frame, 15 fps, H.264. */
function composeSmall(input: string, output: string, scale: number): void {
  const vf = `fps=15,scale=trunc(iw*${scale}/2)*2:trunc(ih*${scale}/2)*2:flags=area,pad=1280:720:(ow-iw)/2:(oh-ih)/2:color=gray`;
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', input, '-an', '-vf', vf, '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-pix_fmt', 'yuv420p', output]);
}
