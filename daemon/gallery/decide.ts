import type { RecognitionConfig } from '../vision/config.js';
import type { Candidate } from './matcher.js';

export interface IdentityDecision {
  decision: 'match' | 'unknown';
  /** The matched person; null when unknown. */
  match: Candidate | null;
  /** Best person's score (-1 when the gallery is empty). */
  score: number;
  /** Best score minus the second-best person's (or minus 0 when only one person is enrolled). */
  margin: number;
  /**
   * Unknown, but not clearly nobody: the best person scores within `margin` below the threshold, or
   * passes it without the lead over the next. An enrolled person's small, compressed face scores
   * there (one reference photo, ~105 px faces in CCTV footage: 0.34–0.50 against a 0.45 threshold),
   * so a tracker waits on such a face rather than call it a stranger.
   */
  near: boolean;
}

/**
 * A face is a person when the best person scores at least `threshold` and beats the next person
 * by `margin`: a face close to two people is unknown rather than a coin toss. An unknown face is
 * `near` unless it scores clearly below the threshold, by the margin.
 */
export function decide(candidates: readonly Candidate[], rules: Pick<RecognitionConfig, 'threshold' | 'margin'>): IdentityDecision {
  const [first, second] = candidates;
  if (!first) return { decision: 'unknown', match: null, score: -1, margin: 0, near: false };
  const margin = first.score - Math.max(second?.score ?? 0, 0);
  const ok = first.score >= rules.threshold && margin >= rules.margin;
  const near = !ok && first.score >= rules.threshold - rules.margin;
  return { decision: ok ? 'match' : 'unknown', match: ok ? first : null, score: first.score, margin, near };
}
