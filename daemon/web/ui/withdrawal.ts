// A check-in or check-out withdrawn because its track was refused afterwards, in the words every
// page says it in: the row that made it stays, struck through, with why and when.
import { siteClock } from './clock.js';
import type { Withdrawn } from './types.js';

/** The tracker's refusals (contract/alerts.ts, SpoofAlertReason) as a reader says them. */
export const REFUSAL_WORDS: Readonly<Record<string, string>> = {
  held_picture: 'a held picture or screen',
  frozen: 'a frozen face',
  no_blink: 'no blink',
  passive: 'the passive check',
};

export function withdrawalText(w: Withdrawn): string {
  return `${w.kind === 'check_in' ? 'check-in' : 'check-out'} withdrawn at ${siteClock(w.withdrawn_at)}: ${REFUSAL_WORDS[w.reason] ?? w.reason.replace(/_/g, ' ')}`;
}
