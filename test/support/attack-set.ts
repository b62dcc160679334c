// The photo-attack set: every identity photo of ../shared/media (and the spoof stills) played as a
// print held up to a camera in the motions of print-attack.ts, through the whole per-track logic,
// with a gallery of everyone in those photos so that recognition is checked on the same tracks.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TrackConfig } from '../../daemon/track/config.js';
import type { RecognitionConfig } from '../../daemon/vision/config.js';
import { decide } from '../../daemon/gallery/decide.js';
import { Matcher } from '../../daemon/gallery/matcher.js';
import { scanVideo } from '../../daemon/track/scan.js';
import type { TrackEvent } from '../../daemon/track/events.js';
import { UnknownRegistry } from '../../daemon/track/unknowns.js';
import type { FaceAnalyzer } from '../../daemon/vision/analyzer.js';
import { decodeImageFile } from '../../daemon/vision/image.js';
import { media } from './media.js';
import { MOTIONS, writePrintAttack, type Motion } from './print-attack.js';

export interface AttackCase {
  /** Relative to ../shared/media. */
  photo: string;
  /** Who is in it (identity id from the folder's labels.csv), or null for a photo of several people or none known. */
  identity: string | null;
  motion: Motion;
  /** Face height when the print is square to the camera: 100–300 px (`carried` grows to it from a third of it). */
  facePx: number;
  /** The camera: 1280×720 or 1920×1080. */
  frameHeight: 720 | 1080;
  /** H.264 quality of the camera's stream, 23–32. */
  crf: number;
  seed: number;
}

/** What the per-track logic made of an attack's clip. */
export interface AttackOutcome {
  /** Any track of the clip was live at any moment (recognised live, or ended live). */
  live: boolean;
  /** Stream time of the first live event, seconds. */
  liveAtS?: number;
  blinks: number;
  /** Identities the tracks were recognised as. */
  recognised: string[];
  /** Each track's moments, in stream time: what attendance would have made of it (scripts/bench/checkin-policy.ts). */
  tracks: TrackMoments[];
}

/** When a track started, was first named, first live and first refused (spoof_suspected), seconds of stream time. */
export interface TrackMoments {
  startS: number;
  namedS?: number;
  liveS?: number;
  refusedS?: number;
  /** Proven by two cameras when it was first live (the stereo cue's share was positive). */
  stereo?: boolean;
}

/** Follows a scan's events into each track's moments. */
export function trackMoments(): { onEvent(e: TrackEvent): void; tracks: TrackMoments[] } {
  const byTrack = new Map<number, TrackMoments>();
  const of = (track: number, t: number) => {
    let m = byTrack.get(track);
    if (!m) byTrack.set(track, (m = { startS: t }));
    return m;
  };
  return {
    onEvent(e) {
      if (e.type === 'track_started') of(e.track, e.t);
      if (e.type === 'recognized') {
        const m = of(e.track, e.t);
        m.namedS ??= e.t;
        if (e.live && m.liveS === undefined) {
          m.liveS = e.t;
          m.stereo = (e.liveness.stereo ?? 0) > 0;
        }
      }
      if (e.type === 'track_ended' && e.live) of(e.track, e.t).liveS ??= e.t;
      if (e.type === 'spoof_suspected') of(e.track, e.t).refusedS ??= e.t;
    },
    get tracks() {
      return [...byTrack.values()];
    },
  };
}

export interface AttackResult extends AttackOutcome {
  case: AttackCase;
}

export const IDENTITY_FOLDERS = ['identities/deepface', 'identities/face_recognition'];
const SPOOF_STILLS = ['spoof/silentface_image_F1_print_attack.jpg', 'spoof/silentface_image_F2_screen_attack.jpg', 'spoof/silentface_image_T1_real.jpg'];
const SIZES = [100, 160, 220, 300];
/** The cameras' resolutions and stream qualities, taken in turn (with SIZES, every pair of them comes up). */
export const FRAME_HEIGHTS = [720, 1080] as const;
export const CRFS = [23, 26, 29, 32];
export const frameOf = (height: 720 | 1080): { width: number; height: number } => (height === 720 ? { width: 1280, height: 720 } : { width: 1920, height: 1080 });

/** A folder's photos and who is in each (null: several people). */
export function labels(folder: string): Map<string, string | null> {
  const rows = readFileSync(media(`${folder}/labels.csv`), 'utf8').trim().split(/\r?\n/).slice(1);
  return new Map(rows.map((r) => r.split(',')).map((c) => [c[0]!, c[2] === 'MULTI' ? null : c[2]!]));
}

/**
 * Every photo, in `motionsEach` motions (taken in turn from MOTIONS so that each motion meets every
 * kind of photo), at face heights taken in turn from 100 to 300 px (a carried print grows from
 * ~100 to 300 px), in 720p and 1080p, at CRF 23 to 32.
 */
export function attackCases(motionsEach: number): AttackCase[] {
  const photos: Array<{ photo: string; identity: string | null }> = [];
  for (const folder of IDENTITY_FOLDERS) {
    const known = labels(folder);
    for (const file of readdirSync(media(folder)).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort()) photos.push({ photo: `${folder}/${file}`, identity: known.get(file) ?? null });
  }
  for (const still of SPOOF_STILLS) photos.push({ photo: still, identity: null });
  const cases: AttackCase[] = [];
  photos.forEach(({ photo, identity }, i) => {
    for (let k = 0; k < motionsEach; k++) {
      const n = i * motionsEach + k;
      const motion = MOTIONS[(i + k) % MOTIONS.length]!;
      cases.push({
        photo,
        identity,
        motion,
        facePx: motion === 'carried' ? 300 : SIZES[n % SIZES.length]!,
        // Sizes repeat every 4 cases: the resolution changes every 4 so that each size meets each.
        frameHeight: FRAME_HEIGHTS[Math.floor(n / SIZES.length) % FRAME_HEIGHTS.length]!,
        crf: CRFS[(n + Math.floor(n / 8)) % CRFS.length]!,
        seed: n + 1,
      });
    }
  });
  return cases;
}

/** A gallery of everyone the photos show, one template per single-person photo, in the real matcher. */
export async function attackGallery(analyzer: FaceAnalyzer, cases: readonly AttackCase[]): Promise<Matcher> {
  const matcher = new Matcher();
  let id = 0;
  for (const photo of new Set(cases.filter((c) => c.identity).map((c) => c.photo))) {
    const [face] = await analyzer.analyze(await decodeImageFile(media(photo)), { embed: true });
    const identity = cases.find((c) => c.photo === photo)!.identity!;
    if (face?.embedding) matcher.add(++id, identity, face.embedding);
  }
  return matcher;
}

/** One attack rendered into `dir` as a camera's stream at `fps` frames a second: its file. */
export async function renderAttack(analyzer: FaceAnalyzer, c: AttackCase, dir: string, fps = 15): Promise<string> {
  const photo = await decodeImageFile(media(c.photo));
  const [face] = await analyzer.detect(photo, 'auto');
  if (!face) throw new Error(`${c.photo}: no face to print`);
  const file = join(dir, `${c.photo.replace(/[^a-z0-9]+/gi, '_')}-${c.motion}-${c.facePx}-${c.frameHeight}-${fps}.mp4`);
  await writePrintAttack({ photo, face: face.box, motion: c.motion, facePx: c.facePx, seconds: 3, frame: frameOf(c.frameHeight), fps, crf: c.crf, seed: c.seed }, file);
  return file;
}

/** One attack rendered into `dir`, then scanned as a camera's stream would be. */
export async function runAttack(analyzer: FaceAnalyzer, gallery: Matcher, c: AttackCase, o: { dir: string; track: TrackConfig; recognition: RecognitionConfig }): Promise<AttackResult> {
  const file = await renderAttack(analyzer, c, o.dir);
  return { case: c, ...(await scanAttack(analyzer, gallery, file, o)) };
}

/** An attack's clip through the whole per-track logic, each fused face searched in `gallery` and decided as the daemon decides. */
export async function scanAttack(analyzer: FaceAnalyzer, gallery: Matcher, file: string, o: { track: TrackConfig; recognition: RecognitionConfig }): Promise<AttackOutcome> {
  const moments = trackMoments();
  const result: Omit<AttackOutcome, 'tracks'> = { live: false, blinks: 0, recognised: [] };
  await scanVideo(file, {
    engine: { detect: (img, focus) => analyzer.detect(img, ATTACK_DETECT_MODE, focus), analyzeFace: (img, d, opts) => analyzer.analyzeFace(img, d, opts) },
    config: o.track,
    identify: (fused) => {
      const d = decide(gallery.search(fused, 2).candidates, o.recognition);
      return { person: d.match ? { id: d.match.personId, name: d.match.personId } : null, score: d.score, margin: d.margin, near: d.near };
    },
    unknowns: new UnknownRegistry({ similarity: 0.5, retentionS: 60, maxFrames: 1 }),
    onEvent: (e) => {
      moments.onEvent(e);
      if (e.type === 'blink') result.blinks++;
      if ((e.type === 'recognized' || e.type === 'track_ended') && e.live) {
        result.live = true;
        result.liveAtS ??= e.t;
      }
      if (e.type === 'recognized' && !result.recognised.includes(e.person.id)) result.recognised.push(e.person.id);
    },
  });
  return { ...result, tracks: moments.tracks };
}

/** How the attacks' frames are searched for faces: as a camera's (tiles where faces are small). */
export const ATTACK_DETECT_MODE = 'auto' as const;
