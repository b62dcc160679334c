// `npx tsx scripts/blink-traces.ts record COND...` / `... replay [COND,...]` / `... structure [COND,...]`
// Tuning blink detection without running the models again: `record` runs every annotated clip of
// ../shared/media/video_blink through the whole per-track logic (scanVideo) as a camera condition
// delivers it, and saves every eye sample a track's BlinkDetector is fed (p(open), the eye regions,
// the 68 landmarks; a follow's look only once the next detection confirmed it) and every
// interruption, one file per clip and condition; `replay` feeds those files to BlinkDetector as it
// is now and scores the blinks like test/liveness/blink-clips.test.ts,
// in seconds. `structure` feeds the recorded looks to the structure cue, the detections' alone (as
// the tracker does) and with the confirmed follows', and prints when each track would be proven and
// the largest residual it counted. The condition `attacks` records the photo-attack set instead (every identity photo as
// a moved print, test/support/attack-set.ts, in ATTACK_MOTIONS motions each, default 2; `attacksf10`
// the same at 10 fps): its replay counts the blinks read on prints, so a change is weighed on both
// sides at once. Record again only
// when what the vision side produces changes.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '../daemon/config/load.js';
import { BlinkDetector, type EyeSample } from '../daemon/liveness/blink.js';
import { STRUCTURE, StructureCue } from '../daemon/liveness/structure.js';
import { scanVideo } from '../daemon/track/scan.js';
import { UnknownRegistry } from '../daemon/track/unknowns.js';
import type { DetectMode } from '../daemon/vision/detector.js';
import type { EyeRegions } from '../daemon/vision/types.js';
import type { EyeTraceSample } from '../daemon/track/track.js';
import { eyelidOpening, faceShape } from '../daemon/vision/align.js';
import type { Landmarks68 } from '../daemon/vision/types.js';
import { testAnalyzer } from '../test/support/analyzer.js';
import { ATTACK_DETECT_MODE, attackCases, renderAttack } from '../test/support/attack-set.js';
import type { FaceAnalyzer } from '../daemon/vision/analyzer.js';
import { asCameraStream, blinkClips, CCTV_1080P_100, CCTV_720P_80, recall, scoreClip, scoreTable, type CctvView, type ClipScore } from '../test/support/blink-media.js';
import { media } from '../test/support/media.js';

const DIR = process.env.BLINK_TRACES ?? join(tmpdir(), 'blink-traces');

const C120: CctvView = { facePx: 120, frame: { width: 1920, height: 1080 }, fps: 15, crf: 28, blur: 0.5 };

/**
 * The test's three conditions, and more to check that a change holds beyond them: other sizes and
 * qualities, and cameras at 10 fps (scanned at their own rate, as a camera delivers them).
 */
const CONDITIONS: Record<string, { view?: CctvView; mode: DetectMode }> = {
  native: { mode: 'full' },
  c100: { view: CCTV_1080P_100, mode: 'auto' },
  c80: { view: CCTV_720P_80, mode: 'full' },
  c120: { view: C120, mode: 'auto' },
  c90: { view: { facePx: 90, frame: { width: 1280, height: 720 }, fps: 15, crf: 32, blur: 0.3 }, mode: 'full' },
  c100f10: { view: { ...CCTV_1080P_100, fps: 10 }, mode: 'auto' },
  c120f10: { view: { ...C120, fps: 10 }, mode: 'auto' },
};

/** The conditions that record the photo-attack set rather than the blink clips, by the camera's rate. */
const ATTACKS = new Map([['attacks', 15], ['attacksf10', 10]]);

type Region = keyof EyeRegions;
const REGIONS: readonly Region[] = ['right', 'left', 'nose', 'brows'];

interface SavedSample {
  track: number;
  t: number;
  left: number;
  right: number;
  regions: Record<Region, string>;
  /** x, y of the 68 landmarks. */
  landmarks: number[];
  /** Whether the look was a detection's or a follow's (confirmed by the next detection), and the face's height: what the structure cue weighs. */
  kind?: 'detection' | 'follow';
  faceHeight?: number;
}
type SavedEntry = SavedSample | { track: number; interrupt: true };
interface Trace {
  clip: string;
  condition: string;
  /** What the real per-track logic reported when the trace was recorded. */
  blinks: number[];
  entries: SavedEntry[];
}

const landmarks68 = (xy: readonly number[]): Landmarks68 => Array.from({ length: xy.length / 2 }, (_, i) => ({ x: xy[2 * i]!, y: xy[2 * i + 1]! })) ;
const toBase64 = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
function fromBase64(s: string): Float32Array {
  const b = Buffer.from(s, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** The videos a condition records: the annotated clips as that camera delivers them, or the photo attacks. */
async function clipsOf(condition: string, analyzer: FaceAnalyzer, work: string): Promise<Array<{ name: string; file: string; mode: DetectMode }>> {
  const attackFps = ATTACKS.get(condition);
  if (attackFps !== undefined) {
    const clips = [];
    for (const c of attackCases(Number(process.env.ATTACK_MOTIONS ?? 2))) clips.push({ name: `${c.photo} ${c.motion} ${c.facePx}px`, file: await renderAttack(analyzer, c, work, attackFps), mode: ATTACK_DETECT_MODE });
    return clips;
  }
  const spec = CONDITIONS[condition];
  if (!spec) throw new Error(`unknown condition ${condition} (${[...Object.keys(CONDITIONS), ...ATTACKS.keys()].join(', ')})`);
  const clips = [];
  for (const clip of blinkClips()) {
    const file = spec.view ? await asCameraStream(analyzer, clip, join(work, clip.replace('video_blink/', '')), spec.view) : media(clip);
    clips.push({ name: clip, file, mode: spec.mode });
  }
  return clips;
}

async function record(conditions: string[]): Promise<void> {
  mkdirSync(DIR, { recursive: true });
  const analyzer = await testAnalyzer();
  const config = defaultConfig();
  // What is recorded is what each track's detector is fed, when it is fed: a follow's look waits for
  // the next detection to confirm it, and may never be fed. A look is matched to its track by its
  // eye regions, which the track announces (onEyeSample) as soon as it has them. The track calls
  // interrupt() on its detector when the face is lost: the replay must too.
  let entries: SavedEntry[] = [];
  const landmarksOf = new WeakMap<EyeRegions, number[]>();
  const lookOf = new WeakMap<EyeRegions, EyeTraceSample>();
  let feeding = false;
  const trackOf = new WeakMap<BlinkDetector, number>();
  const proto = BlinkDetector.prototype;
  const push = proto.push;
  const interrupt = proto.interrupt;
  proto.push = function (this: BlinkDetector, s: EyeSample) {
    const look = lookOf.get(s.regions);
    const track = look?.track ?? -1;
    trackOf.set(this, track);
    const regions = Object.fromEntries(REGIONS.map((r) => [r, toBase64(s.regions[r])])) as Record<Region, string>;
    entries.push({ track, t: s.t, left: s.left, right: s.right, regions, landmarks: landmarksOf.get(s.regions) ?? [], ...(look ? { kind: look.kind, faceHeight: look.faceHeight } : {}) });
    feeding = true;
    try {
      return push.call(this, s);
    } finally {
      feeding = false;
    }
  };
  proto.interrupt = function (this: BlinkDetector) {
    const track = trackOf.get(this);
    if (!feeding && track !== undefined) entries.push({ track, interrupt: true });
    interrupt.call(this);
  };
  const work = mkdtempSync(join(tmpdir(), 'fg-blink-traces-'));
  try {
    for (const condition of conditions) {
      // scan decodes at eye_fps: a camera slower than that is read at its own rate, not repeated up to it.
      const track = { ...config.track, eye_fps: Math.min(config.track.eye_fps, CONDITIONS[condition]?.view?.fps ?? ATTACKS.get(condition) ?? Infinity) };
      for (const clip of await clipsOf(condition, analyzer, work)) {
        entries = [];
        const blinks: number[] = [];
        await scanVideo(clip.file, {
          engine: {
            detect: (img, focus) => analyzer.detect(img, clip.mode, focus),
            analyzeFace: async (img, d, o) => {
              const face = await analyzer.analyzeFace(img, d, o);
              if (face.eyes) landmarksOf.set(face.eyes.regions, face.landmarks68.flatMap((p) => [p.x, p.y]));
              return face;
            },
          },
          config: track,
          identify: () => ({ person: null, score: -1, margin: 0, near: false }),
          unknowns: new UnknownRegistry({ similarity: 0.5, retentionS: 60, maxFrames: 1 }),
          onEyeSample: (s) => lookOf.set(s.regions, s),
          onEvent: (e) => {
            if (e.type === 'blink') blinks.push(e.t);
          },
        });
        const trace: Trace = { clip: clip.name, condition, blinks, entries };
        writeFileSync(join(DIR, `${condition}__${clip.name.replace(/^video_blink\//, '').replace(/[^a-z0-9.]+/gi, '_')}.json`), JSON.stringify(trace));
        console.log(`${condition} ${clip.name}: ${entries.length} entries, blinks ${blinks.join(' ') || '-'}`);
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
    await analyzer.close();
  }
}

/** Blink times the detector as it is now finds in one recorded trace. */
function replayTrace(trace: Trace): number[] {
  const rules = defaultConfig().track.liveness;
  const detectors = new Map<number, BlinkDetector>();
  const times: number[] = [];
  for (const e of trace.entries) {
    let d = detectors.get(e.track);
    if (!d) detectors.set(e.track, (d = new BlinkDetector(rules)));
    if ('interrupt' in e) {
      d.interrupt();
      continue;
    }
    const regions = Object.fromEntries(REGIONS.map((r) => [r, fromBase64(e.regions[r])])) as unknown as EyeRegions;
    const blink = d.push({ t: e.t, left: e.left, right: e.right, regions, lids: eyelidOpening(landmarks68(e.landmarks)), shape: faceShape(landmarks68(e.landmarks)) });
    if (blink) times.push(Math.round(blink.t * 1000) / 1000);
  }
  return times;
}

/** The traces recorded for one condition, in file order. */
function tracesOf(condition: string): Trace[] {
  return readdirSync(DIR)
    .filter((f) => f.startsWith(`${condition}__`))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(DIR, f), 'utf8')) as Trace);
}

function replay(conditions: string[]): void {
  for (const condition of conditions) {
    const traces = tracesOf(condition);
    if (traces.length === 0) continue;
    const found = traces.map((trace) => ({ trace, times: replayTrace(trace) }));
    const differ = found.filter(({ trace, times }) => times.join() !== trace.blinks.join()).length;
    if (ATTACKS.has(condition)) {
      const blinked = found.filter(({ times }) => times.length > 0);
      console.log(`${condition}: ${blinked.length}/${found.length} prints with a blink`);
      for (const { trace, times } of blinked) console.log(`  ${trace.clip}: ${times.join(' ')}`);
    } else {
      const scores: ClipScore[] = found.map(({ trace, times }) => scoreClip(trace.clip, times));
      const grin = scores.find((s) => s.clip.endsWith('liveportrait_d18.mp4'))?.times.filter((t) => t >= 3.8 && t <= 5.0).length ?? 0;
      console.log(scoreTable(`${condition}: recall ${(100 * recall(scores)).toFixed(0)}%, blinks in the grin ${grin}`, scores));
    }
    if (differ) console.log(`(the detector now differs from when these were recorded on ${differ} clip(s))`);
  }
}

/**
 * The structure cue (StructureCue as it is now) over each recorded track, fed the detections' looks
 * as the tracker feeds it, and fed the follows' that the next detection confirmed as well: when
 * the track would be proven, and the largest residual it counted. Traces recorded before looks
 * carried their kind are skipped.
 */
function structure(conditions: string[]): void {
  const feeds = { detections: ['detection'], 'with confirmed follows': ['detection', 'follow'] } as const;
  for (const condition of conditions) {
    const traces = tracesOf(condition);
    if (traces.length === 0) continue;
    const worst = Object.fromEntries(Object.keys(feeds).map((k) => [k, { residual: 0, proven: 0, tracks: 0, clip: '' }]));
    console.log(`${condition}: per clip, time to proof from the track's first look (s) and the largest residual counted (% of the face height)`);
    for (const trace of traces) {
      const byTrack = new Map<number, SavedSample[]>();
      for (const e of trace.entries) {
        if ('interrupt' in e || !e.kind || !e.faceHeight) continue;
        const looks = byTrack.get(e.track) ?? [];
        looks.push(e);
        byTrack.set(e.track, looks);
      }
      if (byTrack.size === 0) continue;
      const cells = Object.entries(feeds).map(([name, kinds]) => {
        let first: number | undefined;
        let residual = 0;
        for (const looks of byTrack.values()) {
          const cue = new StructureCue();
          for (const look of looks) {
            if (!(kinds as readonly string[]).includes(look.kind!)) continue;
            cue.push({ t: look.t, landmarks: landmarks68(look.landmarks), faceHeight: look.faceHeight! });
            if (cue.evidence.hits >= STRUCTURE.hits && first === undefined) first = look.t - looks[0]!.t;
          }
          residual = Math.max(residual, cue.evidence.maxResidual);
          const w = worst[name]!;
          w.tracks++;
          if (cue.evidence.hits >= STRUCTURE.hits) w.proven++;
          if (cue.evidence.maxResidual > w.residual) Object.assign(w, { residual: cue.evidence.maxResidual, clip: trace.clip });
        }
        return `${name} ${first === undefined ? '-' : first.toFixed(1)} (${(100 * residual).toFixed(2)} %)`;
      });
      console.log(`  ${trace.clip.replace(/^video_blink\//, '').padEnd(44)} ${cells.join(' | ')}`);
    }
    for (const [name, w] of Object.entries(worst)) console.log(`  ${name}: proven ${w.proven}/${w.tracks} tracks; largest residual ${(100 * w.residual).toFixed(2)} % (${w.clip})`);
  }
}

const [command, ...args] = process.argv.slice(2);
const allConditions = [...Object.keys(CONDITIONS), ...ATTACKS.keys()];
if (command === 'record') await record(args.length ? args : Object.keys(CONDITIONS));
else if (command === 'replay') replay(args[0] ? args[0].split(',') : allConditions);
else if (command === 'structure') structure(args[0] ? args[0].split(',') : allConditions);
else console.error('usage: blink-traces.ts record [COND...] | replay [COND,...] | structure [COND,...]');
