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

/** The cues that gave a decision its liveness, each with its share (log-odds): `blink +2.3, stereo +4.4`; the ones that gave nothing left out. */
export function cuesText(liveness: Readonly<Record<string, number>> | null | undefined): string[] {
  return liveness ? Object.entries(liveness).filter(([k, v]) => k !== 'score' && v !== 0).map(([k, v]) => `${k} ${v > 0 ? '+' : ''}${v.toFixed(1)}`) : [];
}
