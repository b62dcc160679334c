import type { EyeSample } from '../liveness/blink.js';
import type { StereoView } from '../liveness/stereo.js';
import type { StructureLook } from '../liveness/structure.js';
import type { LivenessVerdict } from '../liveness/verdict.js';
import { assuranceOf, type TrackAssurance } from './assurance.js';
import { strongerThan } from '../../contract/assurance.js';
import { eyelidOpening, faceShape } from '../vision/align.js';
import type { Box, FaceAnalysis, Picture, RgbImage } from '../vision/types.js';
import { sizeRatio } from './associate.js';
import { BestFrames, type BestFrame } from './best-frames.js';
import { eyesClosed } from '../gallery/quality-gate.js';
import type { ChallengeRecord, ChallengeSettings } from './challenge.js';
import type { ChallengeMove } from '../liveness/challenge.js';
import type { TrackConfig } from './config.js';
import type { DoorSide } from './door-link.js';
import type { LivenessSummary, PersonRef, TrackEvent } from './events.js';
import { BoxMotion, boxFromLandmarks, relateBox, type BoxFromLandmarks } from './follow.js';
import { cutByFrame } from './frame-edge.js';
import { frameVerdict } from './frame-quality.js';
import { EmbeddingFusion } from './fusion.js';
import { IdentityVote, type MatchResult } from './identity.js';
import { TrackLiveness } from './track-liveness.js';
import type { UnknownRegistry, UnknownShare } from './unknowns.js';

/** What a track needs from outside to decide: the gallery and the registry of unknown persons. */
export interface TrackContext {
  camera: string;
  /** The door the camera belongs to, which every event of its tracks names; undefined for a camera in no door. */
  door?: string | undefined;
  config: TrackConfig;
  identify(fused: Float32Array): MatchResult;
  unknowns: UnknownRegistry;
  /** Sees every eye sample of every track (for `facegate scan --eye-trace` and tuning). */
  onEyeSample?: ((sample: EyeTraceSample) => void) | undefined;
  /** Sees every look a track trusts, at its frame's time t, where the camera is one of a door's. */
  onLook?: ((track: Track, t: number, view: StereoView) => void) | undefined;
  /**
   * Whether this camera's tracks are asked for a movement now (read at every frame: a reload may
   * change the requirement), and when; undefined where they never are.
   */
  challenge?: (() => ChallengeSettings | undefined) | undefined;
  /** Picks each movement asked for; the operating system's cryptographic generator where not given (tests give their own). */
  pickMove?: (() => ChallengeMove) | undefined;
}

export interface EyeTraceSample extends EyeSample {
  track: number;
  kind: 'detection' | 'follow';
  faceHeight: number;
}

/**
 * p(open) below which the eye model reads an eye shut, its own boundary: a best frame is wanted with
 * the eyes open, whatever the enrolment gate of a site asks of a photo.
 */
const EYE_MODEL_OPEN = 0.5;

/** Largest change of the face's height from one followed frame to the next (~67 ms). */
const MAX_FOLLOW_RATIO = 1.25;

/**
 * Distance between the last followed box and the next detection's, in face heights, above which
 * the follow had slid off the face. Talking heads drift 0.10–0.12 at the 99th percentile at the
 * sizes tested (0.013 at the median); a print jerked about in front of a camera, 0.12 at the median.
 */
const MAX_FOLLOW_DRIFT = 0.12;

/** What one frame showed of the face for liveness: its landmarks, and its eyes when they were read. */
interface Look {
  kind: 'detection' | 'follow';
  /** The frame's edge cut the face (see cutByFrame): the look feeds no liveness cue. */
  cut: boolean;
  structure: StructureLook;
  eyes?: EyeSample;
  /** The look as a door pairs it, where the camera is one of a door's. */
  view?: StereoView;
}

type QualityReason = { reason: 'too_small' | 'low_quality'; detail: string };

/** What a viewer of the camera is shown of a track: where the face is, who, and what is still missing. */
export interface TrackView {
  track: number;
  box: Box;
  who: { kind: 'person'; person: PersonRef } | { kind: 'unknown'; anonId: string | null } | { kind: 'pending' };
  /** The last match score, or null before the first identity-grade frame. */
  score: number | null;
  live: boolean;
  /** Why nothing is decided yet, or why it is not live yet (too_small, blurred, no_blink...); null when done. */
  waiting: string | null;
  /** The movement the person is asked for now, and when it was asked (the track's clock, seconds); absent when none is. */
  challenge?: { move: ChallengeMove; askedT: number };
}

/**
 * One person in front of one camera: where their face is, what each frame says about who they are
 * and whether they are live, and the events that follow. Frames come in two kinds: detections
 * (full analysis: embedding, anti-spoof, eyes) and follows (landmarks and eyes on a crop, between
 * detections). Returns events without thumbnails; the tracker adds them from `bestCrop()`.
 */
export class Track implements DoorSide {
  box: Box;
  lastDetectedT: number;
  readonly firstT: number;
  private rel: BoxFromLandmarks;
  private readonly motion = new BoxMotion();
  private readonly cues: TrackLiveness;
  private readonly fusion = new EmbeddingFusion();
  private readonly vote: IdentityVote;
  private readonly best: BestFrames;
  private lastT: number;
  private lastQuality: QualityReason | undefined;
  /** Face height (px) of the last identity-grade frame, for the recognized event. */
  private lastFacePx = 0;
  private anonId: string | null = null;
  /** When the track was first named (its recognized event), seconds. */
  private namedT = 0;
  /** What the unknown decision gave the anonymous person: taken back if the track is recognised later. */
  private unknownShare: UnknownShare | undefined;
  private lastScore = -1;
  private lastEmbedT = -Infinity;
  private lost = false;
  /** Looks taken on follows since the last detection, waiting for it to confirm the follow held the face. */
  private unconfirmed: Look[] = [];
  /** The assurance of the last recognition sent (undefined before any), and whether the track was refused. */
  private sent: { recognized: TrackAssurance | undefined; spoof: boolean } = { recognized: undefined, spoof: false };
  /** Events produced by the first frame (constructors cannot return them). */
  readonly pending: TrackEvent[];

  constructor(
    readonly id: number,
    private readonly ctx: TrackContext,
    face: FaceAnalysis,
    img: Picture,
    t: number,
  ) {
    this.box = face.detection.box;
    this.firstT = this.lastT = this.lastDetectedT = t;
    this.rel = relateBox(face.detection.box, face.landmarks68);
    this.cues = new TrackLiveness(ctx.config.liveness, t, ctx.pickMove);
    this.cues.stillness(img, face.detection.box);
    this.vote = new IdentityVote(ctx.config.decide_frames, ctx.config.unknown_frames);
    this.best = new BestFrames(ctx.config.best_k);
    this.pending = [{ ...this.base(t), type: 'track_started', face_px: Math.round(face.detection.box.h) }, ...this.observe(face, img, t, 'detection')];
  }

  get identity(): PersonRef | null {
    return this.vote.recognized?.person ?? null;
  }

  get camera(): string {
    return this.ctx.camera;
  }

  get frozen(): boolean {
    return this.cues.isFrozen;
  }

  /** What a door's pairs of this face stand for: weighed by the next verdict (see TrackLiveness.stereoSeen). */
  stereoSeen(parallax: number): void {
    this.cues.stereoSeen(parallax);
  }

  /**
   * Whether a detection of this track may skip the embedding and the anti-spoof model (the two
   * costliest steps): who it is has been decided, the passive score has its samples (or has none,
   * the face never large enough to be scored), it was embedded less than `reembed_s` ago, and no
   * person is half-way to being named on it (an unknown who matches someone enrolled since: the
   * frames that name them are taken at the detection rate, not one per `reembed_s`). Eyes are read
   * on every frame regardless, and anti-spoof on every large enough detection until the track is live.
   */
  settled(t: number): boolean {
    const samples = this.cues.passiveSamples;
    const passiveWaits = samples > 0 && samples < this.ctx.config.liveness.antispoof_min_samples;
    return this.vote.decided !== 'pending' && !this.vote.leaning && !passiveWaits && t - this.lastEmbedT < this.ctx.config.reembed_s;
  }

  /**
   * People were enrolled: a track decided unknown may be one of them now (promoted from this very
   * track, or enrolled while they stand there), so its next detection is embedded and matched
   * rather than up to `reembed_s` later. A named track is never renamed, so it is left alone.
   */
  rosterGrew(): void {
    if (this.vote.decided === 'unknown') this.lastEmbedT = -Infinity;
  }

  /** Whether the track is live now (see `liveness`). */
  get live(): boolean {
    return this.liveness().live;
  }

  get fused(): Float32Array | undefined {
    return this.fusion.fused();
  }

  /** A detection continued this track. */
  detected(face: FaceAnalysis, img: Picture, t: number): TrackEvent[] {
    // The eyes seen on the follows since the last detection count only if this detection finds the
    // face where, and as large as, the follow last had it. Landmarks that slid off a moving face
    // (a print jerked about, a head turned fast) cut eye crops that read shut and change as a lid
    // would; the detection after shows the slide. Waiting for it delays a blink by at most the
    // follows between two detections.
    const held = followDrift(this.box, face.detection.box) <= MAX_FOLLOW_DRIFT && sizeRatio(this.box, face.detection.box) <= MAX_FOLLOW_RATIO;
    const events = held ? this.unconfirmed.flatMap((look) => this.useLook(look)) : [];
    this.unconfirmed = [];
    this.lastDetectedT = t;
    this.lost = false;
    this.cues.stillness(img, face.detection.box);
    this.rel = relateBox(face.detection.box, face.landmarks68);
    return [...events, ...this.observe(face, img, t, 'detection')];
  }

  /** Landmarks and eyes on the predicted box, between detections. */
  followed(face: FaceAnalysis, img: Picture, t: number): TrackEvent[] {
    // Landmarks that no longer sit on a face (it left, or turned away) make boxes that grow or shrink
    // fast: stop following until the detector finds the face again, and trust none of those eyes.
    if (sizeRatio(boxFromLandmarks(face.landmarks68, this.rel), this.box) > MAX_FOLLOW_RATIO) {
      this.lost = true;
      this.unconfirmed = [];
      this.cues.interrupt();
      return [];
    }
    return this.observe(face, img, t, 'follow');
  }

  /** The box this track's landmarks put around a face. */
  boxOf(face: FaceAnalysis): Box {
    return boxFromLandmarks(face.landmarks68, this.rel);
  }

  /** Following failed since the last detection: wait for the detector. */
  get followLost(): boolean {
    return this.lost;
  }

  /** The box to follow the face with on a frame at time t: where it was, moved on at its speed. */
  predictedBox(t: number): Box {
    return this.motion.predict(t) ?? this.box;
  }

  bestCrop(): RgbImage | undefined {
    return this.best.top()?.crop;
  }

  bestFrames(): readonly BestFrame[] {
    return this.best.frames();
  }

  liveness(): LivenessVerdict {
    return this.cues.verdict(this.lastDetectedT - this.firstT);
  }

  /** The track is over (unseen for expire_s, or the video ended): final reports. */
  end(t: number): TrackEvent[] {
    const events: TrackEvent[] = [];
    const base = this.base(t);
    const decided = this.vote.decided;
    if (decided === 'pending') {
      const q = this.lastQuality ?? { reason: 'low_quality' as const, detail: this.vote.undecided() };
      events.push({ ...base, type: q.reason, reason: q.detail });
    }
    const verdict = this.liveness();
    // Opt-in only: no blink seen is no proof of a picture (a real person's blinks are missed at CCTV sizes).
    const alertAfter = this.ctx.config.liveness.no_blink_alert_s;
    const watchedLongEnough = alertAfter > 0 && this.cues.eyesReadableS >= alertAfter;
    if (decided !== 'pending' && !verdict.live && !this.sent.spoof && verdict.reasons.includes('no_blink') && watchedLongEnough) {
      events.push(this.spoofEvent(t, verdict));
    }
    events.push({
      ...base,
      type: 'track_ended',
      person: this.identity,
      anon_id: this.anonId,
      live: verdict.live,
      duration: round3(this.lastT - this.firstT),
      blinks: this.cues.blinks.length,
      antispoof: this.antispoofMean(),
      liveness: summary(verdict),
      ...this.challengesAsked(),
    });
    this.fusion.clear();
    this.best.clear();
    this.unknownShare?.fused.fill(0);
    return events;
  }

  private observe(face: FaceAnalysis, img: Picture, t: number, kind: 'detection' | 'follow'): TrackEvent[] {
    const events: TrackEvent[] = [];
    this.box = boxFromLandmarks(face.landmarks68, this.rel);
    this.motion.observe(this.box, t);
    const frame = { width: img.width, height: img.height };
    const cut = cutByFrame(kind === 'detection' ? [face.detection.box, this.box] : [this.box], frame);
    const look: Look = { kind, cut, structure: { t, landmarks: face.landmarks68, faceHeight: face.detection.box.h } };
    // The box the landmarks give (a follow has no detection box of its own): the face's scale and where the frame cuts it.
    if (this.ctx.onLook) look.view = { landmarks: face.landmarks68, box: this.box, frame };
    if (face.eyes) {
      look.eyes = { t, left: face.eyes.left.pOpen, right: face.eyes.right.pOpen, regions: face.eyes.regions, lids: eyelidOpening(face.landmarks68), shape: faceShape(face.landmarks68) };
      this.ctx.onEyeSample?.({ ...look.eyes, track: this.id, kind, faceHeight: face.detection.box.h });
    }
    if (kind === 'follow') this.unconfirmed.push(look);
    else events.push(...this.useLook(look));
    this.lastT = t;
    if (kind === 'detection') {
      // Detections only: a follow's landmarks are cut from a predicted box (see StructureCue).
      if (!cut) this.cues.detectionPicture(t, img, face.landmarks68, face.detection.box.h);
      events.push(...this.identityFrame(face, img, t, cut));
    }
    events.push(...this.livenessEvents(t));
    return events;
  }

  /**
   * One look at the face, trusted and in time order: a detection's landmarks to the structure cue,
   * its eyes to the blink detector, and the look to the camera's door (whose pairs judge a cut face
   * themselves). A face the frame cuts feeds no cue, and breaks the run of lid levels so that no
   * blink spans it.
   */
  private useLook(look: Look): TrackEvent[] {
    if (look.view) this.ctx.onLook?.(this, look.structure.t, look.view);
    if (look.cut) {
      this.cues.interrupt();
      return [];
    }
    if (look.kind === 'detection') this.cues.structureLook(look.structure);
    this.cues.pose(look.structure.t, look.structure.landmarks);
    const blink = look.eyes ? this.cues.eyes(look.eyes) : undefined;
    return blink ? [{ ...this.base(blink.t), type: 'blink', closed_ms: Math.round(blink.closedMs) }] : [];
  }

  private identityFrame(face: FaceAnalysis, img: Picture, t: number, cut: boolean): TrackEvent[] {
    // Liveness needs no identity-grade frame: a turned or blurred print is still a print. A face the
    // frame cuts is scored on a crop padded past the edge: it says nothing either way.
    if (face.antispoof && !cut) this.cues.passiveScore(face.antispoof.pLive);
    const verdict = frameVerdict(face.quality, this.ctx.config);
    if (!verdict.usable) {
      this.lastQuality = { reason: verdict.reason, detail: verdict.detail };
      return [];
    }
    this.lastQuality = undefined;
    this.lastFacePx = Math.round(face.quality.faceHeight);
    if (!face.embedding) return [];
    this.lastEmbedT = t;
    this.fusion.add(face.embedding, verdict.weight);
    this.best.offer({ t, weight: verdict.weight, eyesShut: eyesClosed(face, EYE_MODEL_OPEN), embedding: face.embedding, img, box: face.detection.box });
    const result = this.ctx.identify(this.fusion.fused()!);
    this.lastScore = result.score;
    // A blurred frame may name someone, not make the track unknown while a sharper frame may follow.
    if (!result.person && !verdict.decisive) {
      this.vote.blurredMiss();
      return [];
    }
    const change = this.vote.push(result);
    if (!change) return [];
    if (change.kind === 'unknown') {
      this.unknownShare = this.ctx.unknowns.join(this.fusion.fused()!, { camera: this.ctx.camera, t }, this.best.frames().map((f) => ({ embedding: Float32Array.from(f.embedding), quality: f.weight })));
      this.anonId = this.unknownShare.id;
      const liveness = this.liveness();
      return [{ ...this.base(t), type: 'unknown', anon_id: this.anonId, score: round3(change.score), live: liveness.live, antispoof: this.antispoofMean(), liveness: summary(liveness), face_px: Math.round(face.quality.faceHeight), thumbnail: null }];
    }
    if (!this.unknownShare || !this.anonId) return [];
    // Alerted as unknown, and an enrolled person after all: the alert is withdrawn, and the
    // anonymous person gives back this track's face.
    const withdrawn = { anon_id: this.anonId, cluster: this.ctx.unknowns.withdraw(this.unknownShare) };
    this.unknownShare = undefined;
    this.anonId = null;
    return [{ ...this.base(t), type: 'unknown_withdrawn', ...withdrawn, person: change.person, score: round3(change.score) }];
  }

  /**
   * recognized: once when named, and once more each time its assurance rises (recognised → live →
   * stereo), so at most one per level: a track live on one camera's cues and proven by its door's
   * pairs afterwards tells attendance so (a `stereo` requirement). Once the track was refused only
   * stereo still rises (attendance withdrew what it made and keeps it for a person to judge; the
   * door's pairs outweigh every single-camera cue).
   * spoof_suspected (once).
   */
  private livenessEvents(t: number): TrackEvent[] {
    const events: TrackEvent[] = [];
    const named = this.vote.recognized;
    this.cues.challengeStep(t, this.ctx.challenge?.(), named?.person && this.sent.recognized ? this.namedT : undefined, this.liveness().live);
    const verdict = this.liveness();
    this.cues.reported(verdict);
    const assurance = assuranceOf(verdict.live, summary(verdict));
    const previous = this.sent.recognized;
    // Stereo rises even past a refusal: two views proved what no flat thing shows, whatever the
    // single-camera cues said (a person who holds still is called frozen before the pairs come).
    const rises = previous !== undefined && strongerThan(assurance, previous) && (!this.sent.spoof || assurance === 'stereo');
    if (named?.person && (previous === undefined || rises)) {
      if (previous === undefined) this.namedT = t;
      this.sent.recognized = assurance;
      events.push({
        ...this.base(t),
        type: 'recognized',
        person: named.person,
        score: round3(named.score),
        margin: round3(named.margin),
        live: verdict.live,
        named_t: round3(this.namedT),
        blink_t: this.cues.blinks[0] ? round3(this.cues.blinks[0].t) : null,
        antispoof: this.antispoofMean(),
        liveness: summary(verdict),
        assurance,
        ...(previous !== undefined ? { raised_from: previous } : {}),
        face_px: this.lastFacePx,
        ...this.challengesAsked(),
        thumbnail: null,
      });
    }
    const certain = verdict.passiveFailed || verdict.reasons.includes('frozen') || verdict.reasons.includes('held_picture');
    if (certain && !this.sent.spoof && this.vote.decided !== 'pending') events.push(this.spoofEvent(t, verdict));
    return events;
  }

  private spoofEvent(t: number, verdict: LivenessVerdict): TrackEvent {
    this.sent.spoof = true;
    return { ...this.base(t), type: 'spoof_suspected', person: this.identity, reasons: verdict.reasons, antispoof: this.antispoofMean(), liveness: summary(verdict) };
  }

  /** The movements asked of the track with their answers, as an event carries them: nothing where none was asked. */
  private challengesAsked(): { challenges?: ChallengeRecord[] } {
    const asked = this.cues.challenges();
    return asked.length > 0 ? { challenges: asked } : {};
  }

  private antispoofMean(): number | null {
    const mean = this.cues.antispoofMean;
    return mean === undefined ? null : round3(mean);
  }

  private base(t: number) {
    return { camera: this.ctx.camera, ...(this.ctx.door !== undefined ? { door: this.ctx.door } : {}), track: this.id, t: round3(t) };
  }

  /** The track as a viewer is shown it. */
  view(): TrackView {
    const named = this.vote.recognized?.person;
    const who: TrackView['who'] = named ? { kind: 'person', person: named } : this.vote.decided === 'unknown' ? { kind: 'unknown', anonId: this.anonId } : { kind: 'pending' };
    const verdict = this.liveness();
    const quality = this.lastQuality ? (this.lastQuality.detail ? `${this.lastQuality.reason}: ${this.lastQuality.detail}` : this.lastQuality.reason) : null;
    const waiting = quality ?? (this.vote.decided === 'pending' ? 'deciding' : verdict.live ? null : verdict.reasons.join(', ') || 'not live yet');
    const challenge = verdict.live ? undefined : this.cues.openChallenge;
    return { track: this.id, box: this.box, who, score: this.lastScore < 0 ? null : round3(this.lastScore), live: verdict.live, waiting, ...(challenge ? { challenge } : {}) };
  }

  /** Best fused score so far (for logs). */
  get score(): number {
    return this.lastScore;
  }
}

/** How far the detection is from the followed box: centre distance over the face height. */
export function followDrift(followed: Box, detected: Box): number {
  const dx = followed.x + followed.w / 2 - (detected.x + detected.w / 2);
  const dy = followed.y + followed.h / 2 - (detected.y + detected.h / 2);
  return Math.hypot(dx, dy) / detected.h;
}

function summary(verdict: LivenessVerdict): LivenessSummary {
  return { score: verdict.score, ...verdict.cues };
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}
