import type { Subscribable } from '../base/subscribable.js';
import { arrivalMs, type TrackEvent } from '../track/events.js';
import type { RecognizedDecision } from './stage.js';

/**
 * The attendance sighting a tracker decision makes: a live recognition only. A recognition not
 * (yet) live makes none: the track sends it again once it is live.
 */
export function sightingOf(e: TrackEvent & { atMs: number }): RecognizedDecision | undefined {
  if (e.type !== 'recognized' || !e.live) return undefined;
  const group = e.person.group;
  return {
    personId: e.person.id,
    camera: e.camera,
    // The person arrived when they were first named; liveness may be proven seconds later.
    atMs: arrivalMs(e),
    ...(group !== undefined ? { group } : {}),
    ...(e.thumbnail ? { thumbnail: new Uint8Array(e.thumbnail) } : {}),
  };
}

/**
 * Follows the tracker's live recognitions into attendance (with their face crop as proof), as the
 * stage 'attendance'; returns the unsubscribe. `stage` is read at each decision: a reload may
 * rebuild attendance or turn it off.
 */
export function subscribeSightings(
  bus: Subscribable<{ track: TrackEvent & { atMs: number } }>,
  stage: () => { onRecognized(d: RecognizedDecision): unknown } | undefined,
): () => void {
  return bus.on('track', 'attendance', (e) => {
    const sighting = sightingOf(e);
    if (sighting) stage()?.onRecognized(sighting);
  });
}
