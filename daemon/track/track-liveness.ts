import { BlinkDetector, type Blink, type EyeSample } from '../liveness/blink.js';
import type { LivenessConfig } from '../liveness/config.js';
import { FrozenCheck, meanAbsDiff, regionSignature } from '../liveness/frozen.js';
import { PassiveScore } from '../liveness/passive.js';
import { ScreenCue } from '../liveness/screen.js';
import { StructureCue, type StructureLook } from '../liveness/structure.js';
import { SurroundCue } from '../liveness/surround.js';
import { livenessVerdict, type LivenessVerdict } from '../liveness/verdict.js';
import type { Box, Landmarks68, Picture } from '../vision/types.js';
import { TrackChallenge, type ChallengeRecord, type ChallengeSettings } from './challenge.js';
import type { ChallengeMove } from '../liveness/challenge.js';

/**
 * What the frames of one track have shown of whether its face is a live person: each cue's state
 * (blinks, the landmarks' structure, the passive score, the surround, a screen's frame, a frozen
 * picture, what a door's second camera proved, and the movements a door display asked for), and
 * the verdict fused from them. The track
 * decides which frames to trust and when to report; this holds what they said.
 */
export class TrackLiveness {
  private readonly blinkDetector: BlinkDetector;
  private readonly blinkList: Blink[] = [];
  private readonly passive = new PassiveScore();
  private readonly structure = new StructureCue();
  private readonly surround = new SurroundCue();
  private readonly screen = new ScreenCue();
  private readonly frozen = new FrozenCheck();
  private readonly config: LivenessConfig;
  private eyesReadable = 0;
  /** Time of the last look given to the blink detector. */
  private eyesT: number;
  private region: { box: Box; signature: Float32Array } | undefined;
  /** The strongest parallax a door's pairs of this face stood for, in face heights (see stereoSeen). */
  private stereo: number | undefined;
  /** Whether a verdict so far was live (see LivenessEvidence.wasLive). */
  private wasLive = false;
  private readonly challenge: TrackChallenge;

  constructor(config: LivenessConfig, t: number, pickMove?: () => ChallengeMove) {
    this.config = config;
    this.eyesT = t;
    this.blinkDetector = new BlinkDetector(config);
    this.challenge = new TrackChallenge(pickMove);
  }

  /** A trusted look's landmarks, in time order: the head's pose, for the answer to a requested movement. */
  pose(t: number, landmarks: Landmarks68): void {
    this.challenge.look(t, landmarks);
  }

  /** At a frame's time: the open request's answer settled, or the next movement asked for where due (see TrackChallenge.step). */
  challengeStep(t: number, settings: ChallengeSettings | undefined, namedT: number | undefined, live: boolean): void {
    this.challenge.step(t, { settings, namedT, live });
  }

  /** The movement asked for and not answered yet, if any. */
  get openChallenge(): { move: ChallengeMove; askedT: number } | undefined {
    return this.challenge.open;
  }

  /** Every movement asked for so far, with its answer. */
  challenges(): ChallengeRecord[] {
    return this.challenge.records();
  }

  get blinks(): readonly Blink[] {
    return this.blinkList;
  }

  get eyesReadableS(): number {
    return this.eyesReadable;
  }

  /** Samples of the passive score so far (0: the face was never large enough to be scored). */
  get passiveSamples(): number {
    return this.passive.samples;
  }

  get antispoofMean(): number | undefined {
    return this.passive.mean;
  }

  /** The face region has looked the same on every detection for a while. */
  get isFrozen(): boolean {
    return this.frozen.frozen;
  }

  /** The region of a detection looked at again: has anything moved since the last one? */
  stillness(img: Picture, box: Box): void {
    if (this.region) this.frozen.push(meanAbsDiff(regionSignature(img, this.region.box), this.region.signature));
    this.region = { box, signature: regionSignature(img, box) };
  }

  /** A detection's landmarks, in time order, for the structure cue (a follow's are cut from a predicted box). */
  structureLook(look: StructureLook): void {
    this.structure.push(look);
  }

  /** A detection's picture, for the cues that look about the face: its surround and a screen's edges. */
  detectionPicture(t: number, img: Picture, landmarks: Landmarks68, faceHeight: number): void {
    this.surround.push({ t, img, landmarks, faceHeight });
    this.screen.push({ t, img, landmarks, faceHeight });
  }

  passiveScore(pLive: number): void {
    this.passive.add(pLive);
  }

  /** One look at the eyes, in time order: the blink it completed, if any. */
  eyes(sample: EyeSample): Blink | undefined {
    const dt = sample.t - this.eyesT;
    this.eyesT = sample.t;
    const blink = this.blinkDetector.push(sample);
    const levels = this.blinkDetector.levels();
    if (levels && Math.min(levels.left, levels.right) >= this.config.min_open_level && dt > 0 && dt < 1) this.eyesReadable += dt;
    if (blink) this.blinkList.push(blink);
    return blink;
  }

  /** The landmarks left the face: a run of lid levels is broken, and no blink spans the gap. */
  interrupt(): void {
    this.blinkDetector.interrupt();
  }

  /**
   * What a door's pairs of this face stand for (face heights). A face may be paired by more than
   * one door track (its partner in the other camera lost and found again): the strongest holds,
   * since each is already one value standing for its own pairs.
   */
  stereoSeen(parallax: number): void {
    if (Number.isFinite(parallax)) this.stereo = Math.max(this.stereo ?? -Infinity, parallax);
  }

  /** The verdict now, `watchedS` after the track's first detection. */
  verdict(watchedS: number): LivenessVerdict {
    const verdict = livenessVerdict(
      {
        blinks: this.blinkList.length,
        eyesReadableS: this.eyesReadable,
        structure: this.structure.evidence,
        antispoof: this.passive.mean,
        antispoofSamples: this.passive.samples,
        frozen: this.frozen.frozen,
        surround: this.surround.evidence,
        screen: this.screen.evidence,
        watchedS,
        wasLive: this.wasLive,
        stereo: this.stereo,
        challengesAnswered: this.challenge.answered,
      },
      this.config,
    );
    return verdict;
  }

  /** A verdict that was reported: later ones know the track has been live (LivenessEvidence.wasLive). */
  reported(verdict: LivenessVerdict): void {
    this.wasLive ||= verdict.live;
  }
}
