// The annotated blink clips of ../shared/media and what a CCTV camera makes of them: the ground
// truth (annotations/blink_events.csv, no_blink_windows.csv), a clip composited at a face height
// into a camera frame the way a real stream delivers it, and the scoring of reported blink times
// against the truth. Shared by test/liveness and `npm run bench -- liveness`.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { TrackConfig } from '../../daemon/track/config.js';
import { scanVideo } from '../../daemon/track/scan.js';
import { UnknownRegistry } from '../../daemon/track/unknowns.js';
import type { FaceAnalyzer } from '../../daemon/vision/analyzer.js';
import type { DetectMode } from '../../daemon/vision/detector.js';
import type { Detection, Picture } from '../../daemon/vision/types.js';
import { videoFrames } from '../../daemon/camera/video-file.js';
import { media, mediaMissing } from './media.js';

/** A blink reported this close to an annotated event matches it, seconds. */
export const TOLERANCE_S = 0.2;

export interface Annotated {
  start: number;
  end: number;
  /** blink, partial, blink_partial, wink, closure, blink-cut, long_closure, probable. */
  type: string;
}

function csv(path: string): string[][] {
  return readFileSync(media(path), 'utf8').trim().split(/\r?\n/).slice(1).map((l) => l.split(','));
}

const EVENTS_CSV = 'annotations/blink_events.csv';
const WINDOWS_CSV = 'annotations/no_blink_windows.csv';

export const blinkMediaMissing = (): string | false => mediaMissing(EVENTS_CSV, WINDOWS_CSV) || mediaMissing(...blinkClips());

/** Every clip of video_blink/ with an annotation (events or no-blink windows). */
export function blinkClips(): string[] {
  if (mediaMissing(EVENTS_CSV, WINDOWS_CSV)) return [];
  return [...new Set([...csv(EVENTS_CSV), ...csv(WINDOWS_CSV)].map((c) => c[0]!).filter((f) => f.startsWith('video_blink/')))].sort();
}

export function annotatedEvents(clip: string): Annotated[] {
  return csv(EVENTS_CSV)
    .filter((c) => c[0] === clip)
    .map((c) => ({ start: Number(c[4]), end: Number(c[5]), type: c[6]! }));
}

export function noBlinkWindows(clip: string): Array<{ start: number; end: number }> {
  return csv(WINDOWS_CSV)
    .filter((w) => w[0] === clip)
    .map((w) => ({ start: Number(w[1]), end: Number(w[2]) }));
}

export interface ClipScore {
  clip: string;
  /** Annotated two-eye blinks found / annotated. */
  found: number;
  blinks: number;
  missed: number[];
  /** Blinks reported inside a no-blink window (and on no annotated event). */
  falseInWindows: number[];
  /** Blinks reported within half a second of a one-eye wink. */
  onWinks: number[];
  /** Blinks on annotated events that recall does not require (partial, closure, cut off). */
  onOther: number[];
  /** Blinks matching no annotation and outside every window (unannotated time). */
  unmatched: number[];
  times: number[];
}

const near = (t: number, a: Annotated, tol: number) => t >= a.start - tol && t <= a.end + tol;

export function scoreClip(clip: string, times: readonly number[]): ClipScore {
  const truth = annotatedEvents(clip);
  const real = truth.filter((a) => a.type === 'blink');
  const missed = real.filter((a) => !times.some((t) => near(t, a, TOLERANCE_S))).map((a) => a.start);
  const stray = times.filter((t) => !truth.some((a) => near(t, a, TOLERANCE_S)));
  const onOther = times.filter((t) => !real.some((a) => near(t, a, TOLERANCE_S)) && !stray.includes(t));
  const falseInWindows = stray.filter((t) => noBlinkWindows(clip).some((w) => t >= w.start && t <= w.end));
  const onWinks = times.filter((t) => truth.some((a) => a.type === 'wink' && near(t, a, 0.5)) && !real.some((a) => near(t, a, TOLERANCE_S)));
  return {
    clip,
    found: real.length - missed.length,
    blinks: real.length,
    missed,
    falseInWindows,
    onWinks,
    onOther: onOther.filter((t) => !onWinks.includes(t)),
    unmatched: stray.filter((t) => !falseInWindows.includes(t) && !onWinks.includes(t)),
    times: [...times],
  };
}

export function recall(scores: readonly ClipScore[]): number {
  const total = scores.reduce((n, s) => n + s.blinks, 0);
  return total ? scores.reduce((n, s) => n + s.found, 0) / total : 1;
}

export function scoreTable(title: string, scores: readonly ClipScore[]): string {
  const f = (v: number[]) => v.map((t) => t.toFixed(2)).join(' ') || '-';
  const lines = [title, `${'clip'.padEnd(30)} found  missed (s)           false in windows  on winks  on other  unannotated`];
  for (const s of scores) {
    lines.push(
      `${s.clip.replace('video_blink/', '').padEnd(30)} ${`${s.found}/${s.blinks}`.padEnd(6)} ${f(s.missed).padEnd(20)} ${f(s.falseInWindows).padEnd(17)} ${f(s.onWinks).padEnd(9)} ${f(s.onOther).padEnd(9)} ${f(s.unmatched)}`,
    );
  }
  const falses = scores.reduce((n, s) => n + s.falseInWindows.length + s.onWinks.length, 0);
  const found = scores.reduce((n, s) => n + s.found, 0);
  const total = scores.reduce((n, s) => n + s.blinks, 0);
  lines.push(`total: ${found}/${total} blinks found (${(100 * recall(scores)).toFixed(1)}%), ${falses} false (in no-blink windows or on winks)`);
  return lines.join('\n');
}

/** How a camera sees a clip: the face scaled to a height inside a frame, at a rate and a quality. */
export interface CctvView {
  /** Face height in the camera frame, px. */
  facePx: number;
  frame: { width: number; height: number };
  fps: number;
  /** H.264 constant rate factor: 28–32 is a CCTV stream's quality. */
  crf: number;
  /** Gaussian blur sigma in frame pixels after scaling (focus, a cheap lens); 0 for none. */
  blur: number;
}

export const CCTV_1080P_100: CctvView = { facePx: 100, frame: { width: 1920, height: 1080 }, fps: 15, crf: 30, blur: 0.5 };
export const CCTV_720P_80: CctvView = { facePx: 80, frame: { width: 1280, height: 720 }, fps: 15, crf: 32, blur: 0 };

/** The camera's empty scene: a plain grey wall. */
const BACKGROUND = '0x5a6068';

/**
 * The clip scaled (area filter, as a sensor averages) so that its face is `view.facePx` high, placed
 * right of the centre of a grey frame, with the sensor's temporal noise over the whole frame, at the
 * camera's rate, encoded as H.264 at the camera's CRF with a 2 s GOP; after `scene.leadS` of the
 * empty frame, played `scene.plays` times.
 */
function composeCctv(input: string, output: string, nativeFacePx: number, view: CctvView, scene: Scene): void {
  const scale = view.facePx / nativeFacePx;
  const { width, height } = view.frame;
  const blur = view.blur > 0 ? `,gblur=sigma=${view.blur}` : '';
  // The lead-in pads the clip with the background's own grey, so that the frame shows no face yet.
  const lead = scene.leadS > 0 ? `,tpad=start_duration=${scene.leadS}:color=${BACKGROUND}` : '';
  const filter = [
    `[0:v]fps=${view.fps},scale=trunc(iw*${scale}/2)*2:trunc(ih*${scale}/2)*2:flags=area${lead}[face]`,
    `color=c=${BACKGROUND}:s=${width}x${height}:r=${view.fps}[bg]`,
    `[bg][face]overlay=x=(W-w)*0.6:y=(H-h)*0.4:shortest=1${blur},noise=alls=5:allf=t[out]`,
  ].join(';');
  const loop = scene.plays > 1 ? ['-stream_loop', String(scene.plays - 1)] : [];
  execFileSync('ffmpeg', ['-v', 'error', '-y', ...loop, '-i', input, '-an', '-filter_complex', filter, '-map', '[out]', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', String(view.crf), '-g', String(2 * view.fps), '-pix_fmt', 'yuv420p', output]);
}

/** What the stream shows besides the clip: seconds of the empty frame before it, and how many times the clip plays on. */
export interface Scene {
  leadS: number;
  plays: number;
}

/**
 * A clip of the shared media as `view`'s camera delivers it, written to `output` (its face scaled
 * from the clip's own typical height, see composeCctv): the file.
 */
export async function asCameraStream(analyzer: Pick<FaceAnalyzer, 'detect'>, clip: string, output: string, view: CctvView, scene: Scene = { leadS: 0, plays: 1 }): Promise<string> {
  composeCctv(media(clip), output, await typicalFaceHeight(media(clip), (img) => analyzer.detect(img, 'full')), view, scene);
  return output;
}

/** Median height of the largest face over the clip's first seconds (one frame a second). */
async function typicalFaceHeight(file: string, detect: (img: Picture) => Promise<Detection[]>): Promise<number> {
  const heights: number[] = [];
  for await (const frame of videoFrames(file, { fps: 1 })) {
    const [face] = await detect(frame.image);
    if (face) heights.push(face.box.h);
    if (heights.length >= 3) break;
  }
  if (heights.length === 0) throw new Error(`${file}: no face`);
  heights.sort((a, b) => a - b);
  return heights[Math.floor(heights.length / 2)]!;
}

/** Times of every `blink` event the whole per-track logic (the code behind `facegate scan`) reports on a file. */
export async function blinkTimes(analyzer: FaceAnalyzer, file: string, mode: DetectMode, track: TrackConfig): Promise<number[]> {
  const times: number[] = [];
  await scanVideo(file, {
    engine: { detect: (img, focus) => analyzer.detect(img, mode, focus), analyzeFace: (img, d, o) => analyzer.analyzeFace(img, d, o) },
    config: track,
    identify: () => ({ person: null, score: -1, margin: 0, near: false }),
    unknowns: new UnknownRegistry({ similarity: 0.5, retentionS: 60, maxFrames: 1 }),
    onEvent: (e) => {
      if (e.type === 'blink') times.push(e.t);
    },
  });
  return times;
}
