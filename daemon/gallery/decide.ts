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
}

/**
 * A face is a person when the best person scores at least `threshold` and beats the next person
 * by `margin`: a face close to two people is unknown rather than a coin toss.
 */
export function decide(candidates: readonly Candidate[], rules: Pick<RecognitionConfig, 'threshold' | 'margin'>): IdentityDecision {
  const [first, second] = candidates;
  if (!first) return { decision: 'unknown', match: null, score: -1, margin: 0 };
  const margin = first.score - Math.max(second?.score ?? 0, 0);
  const ok = first.score >= rules.threshold && margin >= rules.margin;
  return { decision: ok ? 'match' : 'unknown', match: ok ? first : null, score: first.score, margin };
}
