/** Who the fused embedding of a track looks like after one more good frame. */
import type { PersonRef } from './events.js';

export interface MatchResult {
  person: PersonRef | null;
  score: number;
  margin: number;
  /**
   * Matched nobody, but not clearly: the best person scored within the margin below the threshold,
   * or passed it without the lead over the next (decide.ts). False when a person matched.
   */
  near: boolean;
}

export type IdentityChange =
  | { kind: 'recognized'; person: PersonRef; score: number; margin: number }
  | { kind: 'unknown'; score: number };

/**
 * The identity decision of one track over its good frames. A person is named when the fused
 * embedding matches them (threshold and margin, as the matcher decides) on `frames` consecutive good
 * frames; the track is unknown once it has matched nobody, clearly (below the threshold by the
 * margin), on `unknownFrames` consecutive good frames. A fused score in between (`near`) keeps the track
 * pending: an enrolled person's small, compressed face scores there, and an unknown alert on them
 * is the worse mistake. An unknown track can still be recognised later (more frames fused), but a
 * named one is never renamed: a second person's name on the same track would be a tracking error,
 * not a better answer.
 */
export class IdentityVote {
  private streakPerson: string | null = null;
  private streak = 0;
  /** Consecutive good frames that clearly matched nobody. */
  private misses = 0;
  private good = 0;
  /** Frames that matched nobody but were too blurred to count towards calling the track unknown (see blurredMiss). */
  private blurred = 0;
  private last: MatchResult | undefined;
  private state: 'pending' | 'unknown' | 'recognized' = 'pending';
  private named: MatchResult | null = null;

  constructor(
    private readonly frames: number,
    private readonly unknownFrames: number = frames,
  ) {}

  get decided(): 'pending' | 'unknown' | 'recognized' {
    return this.state;
  }

  /**
   * A person matched the last good frame(s) and is not named yet: the streak is under way, and its
   * next frames decide it, so they are wanted now rather than after a pause (see `Track.settled`).
   */
  get leaning(): boolean {
    return this.state !== 'recognized' && this.streak > 0;
  }

  /** The match that named the track (its latest score), once recognised. */
  get recognized(): MatchResult | null {
    return this.named;
  }

  /**
   * A usable frame that matched nobody but was too blurred to say the person is unknown (a sharper
   * frame may still name them): not a vote, only counted so that a track ending undecided says so.
   */
  blurredMiss(): void {
    this.blurred++;
  }

  push(r: MatchResult): IdentityChange | undefined {
    this.good++;
    this.last = r;
    if (this.state === 'recognized') {
      if (r.person?.id === this.named?.person?.id) this.named = r;
      return undefined;
    }
    if (r.person) {
      this.misses = 0;
      this.streak = r.person.id === this.streakPerson ? this.streak + 1 : 1;
      this.streakPerson = r.person.id;
      if (this.streak >= this.frames) {
        this.state = 'recognized';
        this.named = r;
        return { kind: 'recognized', person: r.person, score: r.score, margin: r.margin };
      }
      return undefined;
    }
    this.streak = 0;
    this.streakPerson = null;
    // A fused score flickering around the threshold is not a decision either way.
    this.misses = r.near ? 0 : this.misses + 1;
    if (this.state === 'pending' && this.misses >= this.unknownFrames) {
      this.state = 'unknown';
      return { kind: 'unknown', score: r.score };
    }
    return undefined;
  }

  /** Why a track that ends pending was never decided (its `low_quality` report). */
  undecided(): string {
    const score = this.last ? Math.round(this.last.score * 1000) / 1000 : null;
    const needed = Math.min(this.frames, this.unknownFrames);
    if (this.good < needed) return `only ${this.good} good frame(s), ${needed} needed${this.blurred > 0 ? `; ${this.blurred} more matched nobody but were too blurred to call unknown` : ''}`;
    if (this.last?.near) return `undecided after ${this.good} good frames: score ${score} too close to an enrolled person to call unknown`;
    return `undecided after ${this.good} good frames (score ${score} around the threshold)`;
  }
}
