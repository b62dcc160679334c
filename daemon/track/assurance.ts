import type { Assurance } from '../../contract/assurance.js';

/** What a track's own evidence can prove; `reviewed` is a person's word, never a camera's. */
export type TrackAssurance = Exclude<Assurance, 'reviewed'>;

/**
 * What proved a named track's person there, from its liveness verdict at the moment of the
 * decision: the one rule every record's assurance comes from.
 * - `stereo` where the verdict is live and the stereo cue spoke for it: its share of the fused
 *   score is positive only for two cameras' views whose parallax reached the limit no print did,
 *   which proves a face alone (liveness/stereo.ts);
 * - `live` where the verdict is live on the single camera's cues;
 * - `recognised` where it is not live (yet): named, not proven.
 * `liveness` is the track's LivenessSummary (events.ts, which names this module's type): a summary
 * carries a stereo share only where the track had a second camera's views (a door); without one
 * the cue said nothing.
 */
export function assuranceOf(live: boolean, liveness: { readonly score: number; readonly stereo?: number }): TrackAssurance {
  if (!live) return 'recognised';
  return (liveness.stereo ?? 0) > 0 ? 'stereo' : 'live';
}
