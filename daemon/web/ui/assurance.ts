// What proved a person there, in the words every page shows it in (contract/assurance.ts).
import type { Assurance } from './types.js';

const WORDS: Record<Assurance, string> = {
  stereo: 'stereo',
  live: 'live',
  reviewed: 'reviewed',
  // Said in full: a record resting on a match alone is the one a reader must not take for proven.
  recognised: 'recognised, not proven',
};

export function assuranceText(a: Assurance | null | undefined): string {
  return a ? WORDS[a] : 'assurance unknown';
}
