/** Who the fused embedding of a track looks like after one more good frame. */
import type { PersonRef } from './events.js';

export interface MatchResult {
  person: PersonRef | null;
  score: number;
  margin: number;
}

export type IdentityChange =
  | { kind: 'recognized'; person: PersonRef; score: number; margin: number }
  | { kind: 'unknown'; score: number };

/**
 * The identity decision of one track over its good frames. A person is named when the fused
 * embedding matches them (threshold and margin, as the matcher decides) on `frames` consecutive good
 * frames; the track is unknown once `frames` good frames have matched nobody. An unknown track
 * can still be recognised later (more frames fused), but a named one is never renamed: a second
 * person's name on the same track would be a tracking error, not a better answer.
 */
export class IdentityVote {
  private streakPerson: string | null = null;
  private streak = 0;
  private misses = 0;
  private state: 'pending' | 'unknown' | 'recognized' = 'pending';
  private named: MatchResult | null = null;

  constructor(private readonly frames: number) {}

  get decided(): 'pending' | 'unknown' | 'recognized' {
    return this.state;
  }

  /** The match that named the track (its latest score), once recognised. */
  get recognized(): MatchResult | null {
    return this.named;
  }

  push(r: MatchResult): IdentityChange | undefined {
    if (this.state === 'recognized') {
      if (r.person?.id === this.named?.person?.id) this.named = r;
      return undefined;
    }
    if (r.person) {
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
    this.misses++;
    // Not reset by a match: a fused score flickering around the threshold is not a decision either way.
    if (this.state === 'pending' && this.misses >= this.frames) {
      this.state = 'unknown';
      return { kind: 'unknown', score: r.score };
    }
    return undefined;
  }
}
