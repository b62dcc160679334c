import type { OverlayBox } from '../camera/draw.js';
import type { TrackView } from '../track/track.js';

type Rgb = readonly [number, number, number];
const LIVE: Rgb = [0, 220, 0];
const NOT_LIVE_YET: Rgb = [255, 190, 0];
const UNKNOWN: Rgb = [230, 40, 40];
const UNDECIDED: Rgb = [170, 170, 170];

/**
 * A camera's tracks as the live view draws them: green a live, recognised person; amber one not
 * live yet; red an unknown face; grey while undecided. The label says who (name, else id), the
 * score, and what is still missing, so a technician aiming a camera sees why nobody checks in.
 */
export function trackOverlay(tracks: readonly TrackView[]): OverlayBox[] {
  return tracks.map((t) => {
    const who = t.who.kind === 'person' ? (t.who.person.name ?? t.who.person.id) : t.who.kind === 'unknown' ? `unknown ${t.who.anonId ?? ''}`.trim() : `track ${t.track}`;
    const score = t.score === null ? '' : ` ${t.score.toFixed(2)}`;
    const state = t.waiting ?? (t.live ? 'live' : '');
    const color = t.who.kind === 'person' ? (t.live ? LIVE : NOT_LIVE_YET) : t.who.kind === 'unknown' ? UNKNOWN : UNDECIDED;
    return { ...t.box, color, label: `${who}${score}${state ? ` · ${state}` : ''}` };
  });
}
