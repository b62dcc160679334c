import type { Assurance } from '../../contract/assurance.js';

/** A check-in or check-out a track made, kept until the track ends in case it is refused. */
export interface TrackDecision {
  recordId: string;
  personId: string;
  date: string;
  kind: 'check_in' | 'check_out';
  /** The time the decision put on the record. */
  atMs: number;
  /** The admitted sighting's time (the cooldown's key). */
  sightingMs: number;
  /** The signed attendance event that said it. */
  eventId: string;
  group: string | null;
  /** What proved it; raised when the track proves the person better before it ends. */
  assurance: Assurance;
  /** The liveness cues' shares when the track made it: what a review of it, withdrawn, is shown. */
  liveness: Readonly<Record<string, number>>;
}

/** Tracks remembered at once; far more than cameras × track.max_tracks, so only a leak would reach it. */
const MAX_TRACKS = 10_000;

/** What each running track made, by camera and track; bounded whatever the tracker sends. */
export class TrackDecisions {
  private readonly byTrack = new Map<string, TrackDecision[]>();

  add(camera: string, track: number, d: TrackDecision): void {
    const key = trackKey(camera, track);
    const list = this.byTrack.get(key) ?? [];
    this.byTrack.delete(key);
    this.byTrack.set(key, [...list, d]);
    dropOldest(this.byTrack);
  }

  /** The track's decisions, kept here (an upgrade changes them in place). */
  of(camera: string, track: number): readonly TrackDecision[] {
    return this.byTrack.get(trackKey(camera, track)) ?? [];
  }

  /** The track's decisions, forgotten here. */
  take(camera: string, track: number): TrackDecision[] {
    const key = trackKey(camera, track);
    const list = this.byTrack.get(key) ?? [];
    this.byTrack.delete(key);
    return list;
  }

  get size(): number {
    return this.byTrack.size;
  }
}

/**
 * The unverified arrival each running track was kept as, until it ends: once that arrival is
 * reviewed, the review stands for the track, and its later sightings (named, then live but below a
 * `stereo` requirement, then refused) are not kept as another. Bounded as TrackDecisions.
 */
export class TrackArrivals {
  private readonly byTrack = new Map<string, string>();

  set(camera: string, track: number, arrivalId: string): void {
    const key = trackKey(camera, track);
    this.byTrack.delete(key);
    this.byTrack.set(key, arrivalId);
    dropOldest(this.byTrack);
  }

  of(camera: string, track: number): string | undefined {
    return this.byTrack.get(trackKey(camera, track));
  }

  forget(camera: string, track: number): void {
    this.byTrack.delete(trackKey(camera, track));
  }
}

/** One running track of one camera, as both maps key it. */
function trackKey(camera: string, track: number): string {
  return `${camera}\u0000${track}`;
}

/** Oldest first (a Map iterates in insertion order), down to MAX_TRACKS. */
function dropOldest(byTrack: Map<string, unknown>): void {
  for (const oldest of byTrack.keys()) {
    if (byTrack.size <= MAX_TRACKS) break;
    byTrack.delete(oldest);
  }
}
