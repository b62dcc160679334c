import { randomInt } from 'node:crypto';
import { CHALLENGE_MOVES } from '../../contract/display.js';
import { answerOf, CHALLENGE, poseOf, type ChallengeMove, type PoseSample } from '../liveness/challenge.js';
import type { Landmarks68 } from '../vision/types.js';

/** Where a camera's tracks are asked for movements (liveness.challenge, for the cameras it holds at): when and how many. */
export interface ChallengeSettings {
  /** Seconds after the track was named, still not live, before the first request. */
  afterS: number;
  /** Requests per track at most. */
  rounds: number;
}

/** One movement asked of a track, as its decisions keep it (seconds on the track's clock, like an event's `t`). */
export interface ChallengeRecord {
  move: ChallengeMove;
  asked_t: number;
  answer: 'pending' | 'correct' | 'wrong' | 'none';
  /** When the head was back from the movement (correct, wrong), or the window closed (none); null while pending. */
  answered_t: number | null;
  /** With a wrong answer: the movement made instead. */
  moved?: ChallengeMove;
}

/** Seconds between one answer and the next request: long enough for the display to change. */
const NEXT_AFTER_S = 0.5;
/** Poses kept: the baseline before a request and its whole window. */
const KEPT_S = CHALLENGE.baselineS + CHALLENGE.windowS + 1;

/** A move from the operating system's cryptographic generator: what the display asks must not be guessable from what it asked before. */
export function randomMove(): ChallengeMove {
  return CHALLENGE_MOVES[randomInt(CHALLENGE_MOVES.length)]!;
}

/**
 * The movements asked of one track and what its looks answered: the head's pose on each look
 * trusted (in time order), a request once the track has been named and not live for `afterS`, its
 * answer read by `answerOf`, and the next request after it while the track is still not live.
 */
export class TrackChallenge {
  private readonly poses: PoseSample[] = [];
  private readonly asked: ChallengeRecord[] = [];

  constructor(private readonly pick: () => ChallengeMove = randomMove) {}

  /** One trusted look's landmarks, in time order. */
  look(t: number, landmarks: Landmarks68): void {
    const pose = poseOf(landmarks);
    if (pose) this.pose({ t, ...pose });
  }

  /** One look's pose, in time order. */
  pose(sample: PoseSample): void {
    this.poses.push(sample);
    while (this.poses.length > 0 && this.poses[0]!.t < sample.t - KEPT_S) this.poses.shift();
  }

  /**
   * At a frame's time `t`: settles the open request's answer, or asks for the next movement where
   * it is due: `settings` given (this camera asks), the track named at `namedT`, and not live.
   */
  step(t: number, o: { settings: ChallengeSettings | undefined; namedT: number | undefined; live: boolean }): void {
    const last = this.asked.at(-1);
    if (last?.answer === 'pending') {
      const a = answerOf(last.move, last.asked_t, this.poses, t);
      if (a.answer === 'pending') return;
      last.answer = a.answer;
      last.answered_t = a.answer === 'none' ? round3(last.asked_t + CHALLENGE.windowS) : round3(a.atT);
      if (a.answer === 'wrong') last.moved = a.moved;
      return;
    }
    if (!o.settings || o.live || o.namedT === undefined || this.asked.length >= o.settings.rounds) return;
    const due = last ? last.answered_t! + NEXT_AFTER_S : o.namedT + o.settings.afterS;
    if (t >= due) this.asked.push({ move: this.pick(), asked_t: round3(t), answer: 'pending', answered_t: null });
  }

  /** Movements made as asked. */
  get answered(): number {
    return this.asked.filter((c) => c.answer === 'correct').length;
  }

  /** The request waiting for its answer, if any. */
  get open(): { move: ChallengeMove; askedT: number } | undefined {
    const last = this.asked.at(-1);
    return last?.answer === 'pending' ? { move: last.move, askedT: last.asked_t } : undefined;
  }

  /** Every request so far with its answer, copied: what a decision keeps. */
  records(): ChallengeRecord[] {
    return this.asked.map((c) => ({ ...c }));
  }
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}
