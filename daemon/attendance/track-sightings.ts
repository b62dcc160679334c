import type { Subscribable } from '../base/subscribable.js';
import { arrivalMs, type TrackEvent } from '../track/events.js';
import type { RecognizedDecision } from './stage.js';
import { spoofAlertReason } from '../events/track-alerts.js';
import type { SpoofAlertReason } from '../../contract/alerts.js';

/**
 * The attendance sighting a tracker decision makes: every recognition, with what proved the person
 * there. Whether it counts is the camera's requirement's to say (the stage): a track sends its
 * recognition when it is named, and again each time what proves it rises (live, then stereo).
 */
export function sightingOf(e: TrackEvent & { atMs: number }): RecognizedDecision | undefined {
  if (e.type !== 'recognized') return undefined;
  const group = e.person.group;
  return {
    personId: e.person.id,
    camera: e.camera,
    track: e.track,
    // The person arrived when they were first named; liveness may be proven seconds later.
    atMs: arrivalMs(e),
    assurance: e.assurance,
    liveness: { ...e.liveness },
    ...(group !== undefined ? { group } : {}),
    ...(e.thumbnail ? { thumbnail: new Uint8Array(e.thumbnail) } : {}),
  };
}

/** What attendance does with a track's decisions (the stage, or nothing while attendance is off). */
export interface SightingTarget {
  onRecognized(d: RecognizedDecision): unknown;
  onRefused(camera: string, track: number, reason: SpoofAlertReason): unknown;
  onTrackEnded(camera: string, track: number): void;
}

/**
 * Follows the tracker into attendance, as the stage 'attendance': recognitions become sightings
 * (with their face crop as proof), a track refused afterwards withdraws what it made, and
 * one that ends keeps it. Returns the unsubscribe. `stage` is read at each decision: a reload may
 * rebuild attendance or turn it off.
 */
export function subscribeSightings(bus: Subscribable<{ track: TrackEvent & { atMs: number } }>, stage: () => SightingTarget | undefined): () => void {
  return bus.on('track', 'attendance', (e) => {
    if (e.type === 'spoof_suspected') {
      stage()?.onRefused(e.camera, e.track, spoofAlertReason(e.reasons));
      return;
    }
    if (e.type === 'track_ended') {
      stage()?.onTrackEnded(e.camera, e.track);
      return;
    }
    const sighting = sightingOf(e);
    if (sighting) stage()?.onRecognized(sighting);
  });
}
