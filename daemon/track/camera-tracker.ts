import type { Logger } from '../base/log.js';
import { looksLikeFace } from '../vision/analyzer.js';
import type { CameraEngine } from '../vision/engine.js';
import { encodeJpeg } from '../vision/image.js';
import { clipBox, iou } from '../vision/geometry.js';
import { MotionMask } from '../vision/motion.js';
import type { SearchArea } from '../vision/tiles.js';
import type { Box, FaceAnalysis, Picture } from '../vision/types.js';
import { associate, sizeRatio } from './associate.js';
import { STILL_SWEEP_S, type TrackConfig } from './config.js';
import type { DoorSink } from './door-link.js';
import type { TrackEvent } from './events.js';
import type { MatchResult } from './identity.js';
import { followDrift, Track, type TrackContext } from './track.js';
import type { UnknownRegistry } from './unknowns.js';

export interface CameraTrackerOptions {
  camera: string;
  engine: CameraEngine;
  config: TrackConfig;
  identify(fused: Float32Array): MatchResult;
  unknowns: UnknownRegistry;
  logger?: Logger;
  onEyeSample?: TrackContext['onEyeSample'];
  /** The camera's door, where it is one of a door's cameras: every look a track trusts goes to it. */
  door?: DoorSink | undefined;
  /** Whether and when its tracks are asked for a movement (TrackContext.challenge). */
  challenge?: TrackContext['challenge'];
}

/**
 * Detect frames between looks at the motion around the body (arms, hands, torso) of a person
 * already proven live: people gesturing while they talk keep that motion going on every frame, and
 * searching it each time ran the full pass and every tile it touched, most of a busy camera's
 * detector runs. Every other detect frame, a face that arrives there (someone stepping up beside
 * them) is found 1/detect_fps later at most. Motion away from them, or about a face not yet proven
 * live, is searched at once: which regions run decides which of boxes a few pixels apart a tracked
 * face is found with, and a picture held up must be looked at the same way on every detect frame
 * (on a print tilting back, which box its eye crops came from decided whether it blinked).
 */
const BODY_SEARCH_EVERY = 2;

/** Overlap with a settled track's predicted box from which a detection is that track's face without embedding it. */
const SETTLED_IOU = 0.5;
/**
 * Landmarks found this far off the box they were run on (centre distance in face heights, or
 * size) are run again on the box they give: past the few per cent that landmarks wander by.
 */
const REFINE_OFF = 0.05;

/**
 * Frames whose capture time is kept for a door: a follow's look is trusted only at the next
 * detection (up to coast_s, 0.8 s, later), so a look may name a frame that far back; 10 s at 60
 * frames a second.
 */
const KEPT_CAPTURE_TIMES = 600;

/** Milliseconds spent per stage and how often, for the benchmark and the health page. */
export interface TrackerStats {
  frames: number;
  skipped: number;
  detectFrames: number;
  /**
   * Detect frames run over the whole frame (the first, then every STILL_SWEEP_S), those that swept
   * where the picture changed since the last sweep, and those where nothing moved so none ran.
   */
  sweepFrames: number;
  changeSweepFrames: number;
  stillFrames: number;
  followFrames: number;
  droppedDetections: number;
  ms: { detect: number; analyze: number; follow: number; decide: number };
  /**
   * Faces the costly models ran on: the landmark model runs on every face looked at (detected or
   * followed), the embedder and the anti-spoof model only on detected faces whose track still needs
   * them. What a camera costs is mostly these times their per-face cost.
   */
  runs: FaceModelRuns;
}

export interface FaceModelRuns {
  landmarks: number;
  embedder: number;
  antispoof: number;
}

/**
 * The per-camera loop: a full detection at detect_fps; between detections each tracked
 * face is followed by the landmark model on a crop around its last position at eye_fps, so its eyes
 * are sampled often enough to see a blink. Time comes only from the frames' timestamps, so a file
 * scans as fast as it decodes and gives the same events every time.
 */
export class CameraTracker {
  private tracks: Track[] = [];
  private nextId = 1;
  private lastFrameT = -Infinity;
  private lastDetectT = -Infinity;
  /** Follow frames since the last detect frame (see `process`). */
  private followsSinceDetect = 0;
  private lastSweepT = -Infinity;
  private lastFullSweepT = -Infinity;
  private activityT = -Infinity;
  private lastBodySearchT = -Infinity;
  private readonly motion = new MotionMask();
  /** Each recent frame's time → its capture time (ms), only where the camera is one of a door's. */
  private readonly captured = new Map<number, number>();
  private readonly context: TrackContext;
  readonly stats: TrackerStats = { frames: 0, skipped: 0, detectFrames: 0, sweepFrames: 0, changeSweepFrames: 0, stillFrames: 0, followFrames: 0, droppedDetections: 0, ms: { detect: 0, analyze: 0, follow: 0, decide: 0 }, runs: { landmarks: 0, embedder: 0, antispoof: 0 } };

  constructor(private readonly o: CameraTrackerOptions) {
    const door = o.door;
    this.context = {
      camera: o.camera,
      door: door?.door,
      config: o.config,
      identify: o.identify,
      unknowns: o.unknowns,
      onEyeSample: o.onEyeSample,
      challenge: o.challenge,
      onLook: door
        ? (track, t, view) => {
            const capturedMs = this.captured.get(t);
            if (capturedMs !== undefined) door.look(track, { capturedMs, view });
          }
        : undefined,
    };
  }

  get activeTracks(): readonly Track[] {
    return this.tracks;
  }

  /** The last detect frame's time with a face tracked or motion no track explains (the first frame's counts). */
  get lastActivityT(): number {
    return this.activityT;
  }

  /** People were enrolled: the unknown tracks in view are matched again at their next detection (`Track.rosterGrew`). */
  rosterGrew(): void {
    for (const track of this.tracks) track.rosterGrew();
  }

  /**
   * One frame at time t (seconds, increasing), taken at `capturedMs` (the monotonic clock, ms; a
   * door pairs its cameras' looks by it); `behind`: frames of this camera were dropped just before
   * it, unprocessed. Frames faster than eye_fps are skipped.
   *
   * A detection is due every 1/detect_fps s. A camera that is behind would find one due on every
   * frame it gets, since more than that passed between them: its frames cost a detection each (a
   * tiled 1080p one runs the detector up to ten times) against a follow's few milliseconds a face,
   * so it fell further behind the more it was behind, down to 18 % of four busy cameras' frames on
   * a slow day where one camera alone kept up. Behind, and with faces to follow, a detection waits
   * for the follows that its rates put between two (eye_fps / detect_fps − 1): the detections a
   * second hardly change, and the faces in view are watched on the frames between.
   */
  async process(img: Picture, t: number, frame: { capturedMs?: number; behind?: boolean } = {}): Promise<TrackEvent[]> {
    const { capturedMs, behind = false } = frame;
    const config = this.o.config;
    const eyeStep = 1 / config.eye_fps;
    // A quarter of a step of slack: timestamps of real streams jitter around the nominal rate.
    if (t - this.lastFrameT < 0.75 * eyeStep) {
      this.stats.skipped++;
      return [];
    }
    this.lastFrameT = t;
    this.stats.frames++;
    if (this.o.door && capturedMs !== undefined) {
      this.captured.set(t, capturedMs);
      // A Map keeps insertion order, and times increase: the first key is the oldest.
      if (this.captured.size > KEPT_CAPTURE_TIMES) this.captured.delete(this.captured.keys().next().value!);
    }
    const events: TrackEvent[] = [];
    const due = t - this.lastDetectT >= 1 / config.detect_fps - 0.25 * eyeStep;
    if (due && !(behind && this.followsFirst(t))) {
      this.lastDetectT = t;
      this.followsSinceDetect = 0;
      this.stats.detectFrames++;
      events.push(...(await this.detectFrame(img, t)));
    } else {
      this.followsSinceDetect++;
      this.stats.followFrames++;
      events.push(...(await this.followFrame(img, t, this.tracks)));
    }
    events.push(...this.expire(t));
    return this.withThumbnails(events);
  }

  /** Ends every track (the video is over, or the camera stops). */
  async finish(t: number): Promise<TrackEvent[]> {
    const events = this.tracks.flatMap((tr) => tr.end(t));
    this.tracks = [];
    return this.withThumbnails(events);
  }

  /**
   * Where this detect frame looks: around each track, where the picture moved for a reason no track
   * explains (a face moving, talking or blinking moves its own region), and every sweep_s wherever
   * it changed since the last sweep, explained or not, so that a face that arrived next to a tracked
   * one, or that the detector missed while it moved and then stood still, is still found. Where
   * nothing changed the picture is the one the last look saw, and the detector would find the same;
   * the whole frame is still looked at every STILL_SWEEP_S, in case a change crept in below the
   * motion threshold (light coming up slowly on someone standing still).
   */
  private focus(img: Picture, t: number): SearchArea[] | undefined {
    const config = this.o.config;
    const faces = this.tracks.map((tr) => tr.predictedBox(t));
    // The head and shoulders around each tracked face: the motion the person makes (hair, a turn of
    // the head, the neck and shoulders as they talk or step). A face that arrives right there is
    // left to the next sweep.
    const explained = faces.map((b) => ({ x: b.x - b.w, y: b.y - b.h / 2, w: 3 * b.w, h: 3 * b.h }));
    // Where their arms and body move: an arm's reach (about four faces) to each side, from a face
    // above the head (a raised hand) to four below the chin.
    const body = (b: Box): Box => ({ x: b.x + b.w / 2 - 4 * b.w, y: b.y - b.h, w: 8 * b.w, h: 6 * b.h });
    const live = this.tracks.map((tr) => tr.live);
    const bodies = faces.filter((_, i) => live[i]).map(body);
    const unproven = faces.filter((_, i) => !live[i]).map(body);
    const slack = 0.25 / config.eye_fps;
    const fullSweep = config.sweep_s === 0 || t - this.lastFullSweepT >= Math.max(config.sweep_s, STILL_SWEEP_S);
    const changeSweep = t - this.lastSweepT >= config.sweep_s;
    const bodyDue = fullSweep || changeSweep || t - this.lastBodySearchT >= BODY_SEARCH_EVERY / config.detect_fps - slack;
    if (bodyDue) this.lastBodySearchT = t;
    const moved = this.motion.update(img, explained, { zones: bodies, unless: unproven, due: bodyDue });
    if (moved.length > 0 || this.tracks.length > 0) this.activityT = t;
    if (fullSweep) {
      this.lastFullSweepT = this.lastSweepT = t;
      this.motion.takeChanged();
      this.stats.sweepFrames++;
      return undefined;
    }
    let changed: Box[] = [];
    if (changeSweep) {
      this.lastSweepT = t;
      changed = this.motion.takeChanged();
      if (changed.length > 0) this.stats.changeSweepFrames++;
    }
    // Each tracked face where it is predicted, with an eighth of a face of slack all round: where it
    // will be found again. Only the part inside the frame: a face leaving past an edge is looked
    // for there by the one tile that holds that part, not by every tile its whole box would touch.
    const tracked = faces.flatMap((b): SearchArea[] => {
      const area = clipBox({ x: b.x - b.w / 8, y: b.y - b.h / 8, w: 1.25 * b.w, h: 1.25 * b.h }, img.width, img.height);
      return area.w > 0 && area.h > 0 ? [{ kind: 'tracked', facePx: b.h, ...area }] : [];
    });
    const arrivals = [...moved, ...changed].map((b): SearchArea => ({ kind: 'arrival', ...b }));
    return [...arrivals, ...tracked];
  }

  private async detectFrame(img: Picture, t: number): Promise<TrackEvent[]> {
    const config = this.o.config;
    let started = performance.now();
    const focus = this.focus(img, t);
    if (focus?.length === 0) this.stats.stillFrames++;
    const detections = focus?.length === 0 ? [] : await this.o.engine.detect(img, focus);
    this.stats.ms.detect += performance.now() - started;

    started = performance.now();
    const faces: FaceAnalysis[] = [];
    const predicted = this.tracks.map((tr) => ({ track: tr, box: tr.predictedBox(t) }));
    for (const d of detections) {
      const usable = d.box.h >= config.min_face_px;
      const track = this.plainlyOf(d.box, predicted);
      const settled = track !== undefined && track.settled(t);
      const embed = usable && !settled;
      // The passive score stands beside the blink until the track is live, so a track keeps scoring
      // until then: its mean is not fixed by the few frames before its identity was decided. Faces
      // smaller than the model's range are not scored at all.
      const antispoof = usable && d.box.h >= config.liveness.antispoof_min_face_px && !(settled && track.live);
      const face = await this.o.engine.analyzeFace(img, d, { embed, eyes: true, antispoof });
      this.counted(embed, antispoof);
      if (looksLikeFace(face)) faces.push(face);
    }
    this.stats.ms.analyze += performance.now() - started;

    started = performance.now();
    const slots = this.tracks.map((tr) => ({ box: tr.predictedBox(t), embedding: tr.fused }));
    const pairs = associate(slots, faces.map((f) => ({ box: f.detection.box, embedding: f.embedding })), { minIou: config.match_iou, minSimilarity: config.match_similarity, splitSimilarity: config.split_similarity });
    const events: TrackEvent[] = [];
    const matchedTracks = new Set<Track>();
    const matchedFaces = new Set<number>();
    for (const [ti, fi] of pairs) {
      const track = this.tracks[ti]!;
      matchedTracks.add(track);
      matchedFaces.add(fi);
      events.push(...track.detected(faces[fi]!, img, t));
    }
    for (const [fi, face] of faces.entries()) {
      if (matchedFaces.has(fi)) continue;
      if (this.tracks.length >= config.max_tracks) {
        this.stats.droppedDetections++;
        continue;
      }
      const track = new Track(this.nextId++, this.context, face, img, t);
      this.tracks.push(track);
      this.o.logger?.debug({ stage: 'track', camera: this.o.camera, track: track.id, box: face.detection.box }, 'track started');
      events.push(...track.pending);
    }
    for (const f of faces) f.embedding = undefined; // the tracks keep what they need
    this.stats.ms.decide += performance.now() - started;
    // Faces the detector missed this time are followed by landmarks for a while (detectors drop faces mid-blink).
    const coasting = this.tracks.filter((tr) => !matchedTracks.has(tr) && t - tr.lastDetectedT <= config.coast_s && tr.lastDetectedT < t);
    events.push(...(await this.followFrame(img, t, coasting)));
    return events;
  }

  /**
   * The track a detection is plainly the face of: it overlaps that track's predicted box well and
   * no other track's at all, so it will be continued by overlap alone. Only such a track may skip
   * models on it (see `Track.settled`).
   */
  private plainlyOf(box: Box, predicted: ReadonlyArray<{ track: Track; box: Box }>): Track | undefined {
    const near = predicted.filter((p) => iou(p.box, box) >= this.o.config.match_iou);
    return near.length === 1 && iou(near[0]!.box, box) >= SETTLED_IOU ? near[0]!.track : undefined;
  }

  private async followFrame(img: Picture, t: number, tracks: readonly Track[]): Promise<TrackEvent[]> {
    const started = performance.now();
    const events: TrackEvent[] = [];
    for (const track of tracks) {
      if (!this.followable(track, t)) continue;
      const box = track.predictedBox(t);
      if (box.w < 4 || box.h < 4 || box.x + box.w <= 0 || box.y + box.h <= 0 || box.x >= img.width || box.y >= img.height) continue;
      let face = await this.o.engine.analyzeFace(img, { box, score: 0 }, { eyes: true });
      this.counted(false, false);
      // The face turned back or slowed against its predicted motion: landmarks on a crop that
      // misses it pull together, and the eyes cut from them can read a still print's open eyes as
      // shut. Once more on the box the landmarks gave, which holds the face.
      const found = track.boxOf(face);
      if (followDrift(box, found) > REFINE_OFF || sizeRatio(box, found) > 1 + REFINE_OFF) {
        face = await this.o.engine.analyzeFace(img, { box: found, score: 0 }, { eyes: true });
        this.counted(false, false);
      }
      events.push(...track.followed(face, img, t));
    }
    this.stats.ms.follow += performance.now() - started;
    return events;
  }

  /** Whether a frame that comes behind is still a follow: the follows between two detections have not all run, and a face is there to follow. */
  private followsFirst(t: number): boolean {
    const { eye_fps, detect_fps } = this.o.config;
    return this.followsSinceDetect < Math.round(eye_fps / detect_fps) - 1 && this.tracks.some((tr) => this.followable(tr, t));
  }

  /** A track a follow frame looks at: detected within coast_s, and not lost by its last follow. */
  private followable(track: Track, t: number): boolean {
    return t - track.lastDetectedT <= this.o.config.coast_s && !track.followLost;
  }

  private counted(embedder: boolean, antispoof: boolean): void {
    const runs = this.stats.runs;
    runs.landmarks++;
    if (embedder) runs.embedder++;
    if (antispoof) runs.antispoof++;
  }

  private expire(t: number): TrackEvent[] {
    const events: TrackEvent[] = [];
    this.tracks = this.tracks.filter((tr) => {
      if (t - tr.lastDetectedT <= this.o.config.expire_s) return true;
      events.push(...tr.end(t));
      return false;
    });
    return events;
  }

  private async withThumbnails(events: TrackEvent[]): Promise<TrackEvent[]> {
    for (const e of events) {
      if (e.type !== 'recognized' && e.type !== 'unknown') continue;
      const crop = this.tracks.find((tr) => tr.id === e.track)?.bestCrop();
      if (!crop) continue;
      e.thumbnail = await encodeJpeg(crop, 80);
      if (e.type === 'unknown') this.o.unknowns.setThumbnail(e.anon_id, e.thumbnail);
    }
    return events;
  }
}
