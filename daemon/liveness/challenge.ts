import { CHALLENGE_MOVES } from '../../contract/display.js';
import { alignment, fivePoints, toAlignedFrame } from '../vision/align.js';
import { headPose } from '../vision/quality.js';
import type { Landmarks68 } from '../vision/types.js';

/** A movement a door display may ask of a person: their head turned to their own left or right, or a nod. */
export type ChallengeMove = (typeof CHALLENGE_MOVES)[number];

/** The head's pose on one look, degrees, as vision's quality reads it: yaw + turned toward the image's right, pitch + looking down. */
export interface PoseSample {
  t: number;
  yaw: number;
  pitch: number;
}

/**
 * The limits of the answer check, read off the real footage's turns and nods (`npm run bench --
 * challenge`, over pose series recorded by scripts/pose-traces.ts):
 * - `baselineS`: the pose the answer is measured from is the median of the looks this long before
 *   the request (the face as it was when it was asked);
 * - `reactionS`: a movement that starts sooner after the request is no answer to it: people need a
 *   few tenths of a second to read and start (and a replay that happened to move just then gains
 *   nothing);
 * - `windowS`: the movement must be made and the head back within this long of the request;
 * - `yawDeg`, `pitchDeg`: how far from the baseline a turn or a nod goes (a nod moves the
 *   landmarks less than a turn, and the pitch that they give is noisier, so the two are weighed
 *   each against its own limit);
 * - `backShare`: the head is back once both angles are within this share of their limits.
 */
export const CHALLENGE = { baselineS: 1, reactionS: 0.25, windowS: 4, yawDeg: 15, pitchDeg: 12, backShare: 0.5 } as const;

export type ChallengeRules = { readonly [K in keyof typeof CHALLENGE]: number };

/**
 * What the looks since a request say of it:
 * - `pending`: the window is still open and no movement has been made and undone yet;
 * - `correct`: the first movement after the request was the one asked for, there and back, at `atT`;
 * - `wrong`: the first movement was another (`moved`), there and back;
 * - `none`: the window closed without a movement made and undone (including no look at all).
 */
export type ChallengeAnswer = { answer: 'pending' } | { answer: 'correct'; atT: number } | { answer: 'wrong'; moved: ChallengeMove; atT: number } | { answer: 'none' };

/**
 * The head's yaw and pitch on one look, from its 68 landmarks (as the track's quality check reads
 * a turned head); undefined for landmarks that collapse onto a point or a line.
 */
export function poseOf(landmarks: Landmarks68): { yaw: number; pitch: number } | undefined {
  try {
    const { yaw, pitch } = headPose(landmarks, toAlignedFrame(alignment(fivePoints(landmarks)), landmarks));
    return Number.isFinite(yaw) && Number.isFinite(pitch) ? { yaw, pitch } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether the looks answered a request for `move` made at `askedT`, by `nowT` (all seconds on the
 * track's clock; `poses` in time order). The first movement after `reactionS` decides: a yaw or a
 * pitch that leaves the baseline by its limit starts it, the angle that went furthest against its
 * limit names it (a yaw toward the image's right is the person's own left, as the camera faces
 * them), and it counts once both angles are back. A replay's own movements therefore pass only
 * where its first movement in the window happens to be the one asked for and undone within it: what
 * the bench counts as the chance of a replay.
 */
export function answerOf(move: ChallengeMove, askedT: number, poses: readonly PoseSample[], nowT: number, rules: ChallengeRules = CHALLENGE): ChallengeAnswer {
  const closeT = askedT + rules.windowS;
  const before = poses.filter((p) => p.t <= askedT && p.t >= askedT - rules.baselineS);
  // Where nothing was seen just before the request, the first looks after it stand for the face as asked.
  const after = poses.filter((p) => p.t > askedT && p.t <= Math.min(nowT, closeT));
  const base = before.length > 0 ? before : after.slice(0, 3);
  if (base.length === 0) return nowT >= closeT ? { answer: 'none' } : { answer: 'pending' };
  const yaw0 = median(base.map((p) => p.yaw));
  const pitch0 = median(base.map((p) => p.pitch));
  let peak: { yaw: number; pitch: number } | undefined;
  for (const p of after) {
    const yaw = (p.yaw - yaw0) / rules.yawDeg;
    const pitch = (p.pitch - pitch0) / rules.pitchDeg;
    if (!peak) {
      if (p.t < askedT + rules.reactionS) continue;
      if (Math.abs(yaw) >= 1 || Math.abs(pitch) >= 1) peak = { yaw, pitch };
      continue;
    }
    if (Math.abs(yaw) > Math.abs(peak.yaw)) peak.yaw = yaw;
    if (Math.abs(pitch) > Math.abs(peak.pitch)) peak.pitch = pitch;
    if (Math.abs(yaw) <= rules.backShare && Math.abs(pitch) <= rules.backShare) {
      const moved: ChallengeMove = Math.abs(peak.yaw) >= Math.abs(peak.pitch) ? (peak.yaw > 0 ? 'turn_left' : 'turn_right') : 'nod';
      return moved === move ? { answer: 'correct', atT: p.t } : { answer: 'wrong', moved, atT: p.t };
    }
  }
  return nowT >= closeT ? { answer: 'none' } : { answer: 'pending' };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * What the movements made as asked weigh in the fused liveness (log-odds of a live person against a
 * replayed video), from `npm run bench -- challenge`: real answers passed 20 of 20 times (0.95 with
 * one failure added, the set being small), a replay's own movements passed one request 9.4 % of the
 * time, and a second after a first 23 % of the time (2.2 % both): a replay that moves a lot passes
 * the second more often, so the second weighs less than the first.
 * - the first: ln(0.95 / 0.094) = 2.3, below LIVE_LOG_ODDS: it adds to the other cues rather than
 *   proving a face alone;
 * - each further one: ln(0.95 / 0.23) = 1.4, so that two (3.7) prove a face where nothing else
 *   speaks against it.
 */
export const CHALLENGE_LOG_ODDS = { first: 2.3, further: 1.4 } as const;

/** The share of `answered` movements made as asked in the fused score. */
export function challengeLogOdds(answered: number): number {
  return answered <= 0 ? 0 : CHALLENGE_LOG_ODDS.first + (answered - 1) * CHALLENGE_LOG_ODDS.further;
}
