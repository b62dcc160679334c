// What attendance makes of a track's moments (test/support/attack-set.ts, TrackMoments), under each
// `attendance.require` and with a single-camera track held back from its first live decision until
// it has been watched `waitS`: the arithmetic of the liveness bench's check-in figures, apart from
// the scans that give the moments.
import type { TrackMoments } from '../../test/support/attack-set.js';

export type Require = 'stereo' | 'live' | 'recognised';
export const REQUIRES: readonly Require[] = ['recognised', 'live', 'stereo'];

/**
 * What a track leaves in attendance:
 * - `none`: no check-in (never named, never proven as required, or refused before it was);
 * - `standing`: a check-in that stands when the track ends;
 * - `retracted`: a check-in its track's refusal withdrew afterwards;
 * with `atS`, seconds from the track's start to the check-in, where one was made.
 *
 * Held back by `waitS`, a track first live before it has been watched that long is live at
 * `waitS` instead, unless it was refused by then: the cues only ever add proof (a blink, the
 * face's motion) or refuse, so a track live before the wait is still live at its end, and one
 * refused by then never checks in. Stereo proof is not held back: two cameras need no single
 * camera's cues.
 */
export function checkInOf(m: TrackMoments, require: Require, waitS = 0): { made: 'none' | 'standing' | 'retracted'; atS?: number } {
  if (m.namedS === undefined) return { made: 'none' };
  let at: number | undefined;
  if (require === 'recognised') at = m.namedS;
  else if (m.liveS !== undefined && (require === 'live' || m.stereo)) at = Math.max(m.namedS, m.stereo ? m.liveS : Math.max(m.liveS, m.startS + waitS));
  if (at === undefined) return { made: 'none' };
  if (m.refusedS !== undefined && m.refusedS <= at) return { made: 'none' };
  return { made: m.refusedS === undefined ? 'standing' : 'retracted', atS: at - m.startS };
}

/**
 * How a real person's tracks end, as review sees them: proven `stereo` or `live` by a track the
 * tracker did not refuse, else `refused` (a track taken for a picture), else `recognised` only
 * (named, never proven), else `unnamed`.
 */
export function endOf(tracks: readonly TrackMoments[]): 'stereo' | 'live' | 'recognised' | 'refused' | 'unnamed' {
  const kept = tracks.filter((m) => m.refusedS === undefined);
  if (kept.some((m) => m.liveS !== undefined && m.stereo)) return 'stereo';
  if (kept.some((m) => m.liveS !== undefined && m.namedS !== undefined)) return 'live';
  if (tracks.some((m) => m.refusedS !== undefined)) return 'refused';
  return tracks.some((m) => m.namedS !== undefined) ? 'recognised' : 'unnamed';
}

/** What attendance makes of one person's (or one attack's) tracks: the best any of them made, at the first moment one made it, from the first track's start. */
export function caseCheckIn(tracks: readonly TrackMoments[], require: Require, waitS = 0): { made: 'none' | 'standing' | 'retracted'; atS?: number } {
  const first = Math.min(...tracks.map((m) => m.startS));
  let best: { made: 'none' | 'standing' | 'retracted'; atS?: number } = { made: 'none' };
  const rank = { none: 0, retracted: 1, standing: 2 } as const;
  for (const m of tracks) {
    const c = checkInOf(m, require, waitS);
    const atS = c.atS === undefined ? undefined : c.atS + m.startS - first;
    if (rank[c.made] > rank[best.made] || (c.made === best.made && atS !== undefined && (best.atS === undefined || atS < best.atS))) best = { made: c.made, ...(atS !== undefined ? { atS } : {}) };
  }
  return best;
}

/** Cases under one policy: how many left a check-in standing, how many only a withdrawn one, how many none, and the times to those standing. */
export function caseCounts(cases: readonly (readonly TrackMoments[])[], require: Require, waitS = 0): { standing: number; retracted: number; none: number; timesS: number[] } {
  const counts = { standing: 0, retracted: 0, none: 0, timesS: [] as number[] };
  for (const tracks of cases) {
    const c = caseCheckIn(tracks, require, waitS);
    counts[c.made]++;
    if (c.made === 'standing' && c.atS !== undefined) counts.timesS.push(c.atS);
  }
  counts.timesS.sort((a, b) => a - b);
  return counts;
}
