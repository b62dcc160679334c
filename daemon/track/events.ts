import type { Cue, SpoofReason } from '../liveness/verdict.js';
import type { TrackAssurance } from './assurance.js';
import type { ChallengeRecord } from './challenge.js';

/** Who a track was recognised as: what the events a recognition leads to need of the person. */
export interface PersonRef {
  id: string;
  name: string | null;
  /** Their group (shift rules go by it), when they have one. */
  group?: string;
}

interface Base {
  camera: string;
  /** The door (doors:) the camera belongs to; absent for a camera in no door. */
  door?: string;
  /** Track id, unique per camera while the tracker runs. */
  track: number;
  /** Seconds: frame timestamp (from the start of the file, or of the stream). */
  t: number;
}

/** A track's fused liveness when it was decided: the score and each cue's share of it (log-odds, see liveness/verdict.ts). */
export interface LivenessSummary extends Record<Exclude<Cue, 'challenge'>, number> {
  score: number;
  /** The share of the movements a door display asked for (liveness/challenge.ts); absent from the summaries of releases before it. */
  challenge?: number;
}

/** A JPEG of the track's best frame (face and some context). */
export type Thumbnail = Buffer;

export interface BlinkEvent extends Base {
  type: 'blink';
  closed_ms: number;
}

export interface RecognizedEvent extends Base {
  type: 'recognized';
  person: PersonRef;
  score: number;
  margin: number;
  live: boolean;
  /** When the track was first named (seconds, like `t`): the person's arrival, which a later live recognition checks in at. */
  named_t: number;
  /** Time of the first blink seen on the track, or null. */
  blink_t: number | null;
  /** Mean passive anti-spoof p(live) over the track, or null before any. */
  antispoof: number | null;
  liveness: LivenessSummary;
  /** What proved the person there when this was decided (assuranceOf): `recognised` until the track is live. */
  assurance: TrackAssurance;
  /**
   * The assurance of the track's recognition before this one, which this one raises (a track sends
   * one recognition when named and one more at each higher level: live, then stereo); absent on
   * the track's first.
   */
  raised_from?: TrackAssurance;
  /** Height in pixels of the face in the track's last identity-grade frame. */
  face_px: number;
  /** The movements a door display asked for so far, and what the face answered; absent where none was asked. */
  challenges?: ChallengeRecord[];
  thumbnail: Thumbnail | null;
}

/** A face seen for the first time: the track begins (what `new` on MQTT and a live view announce). */
export interface TrackStartedEvent extends Base {
  type: 'track_started';
  /** Height in pixels of the face as first detected. */
  face_px: number;
}

export interface SpoofSuspectedEvent extends Base {
  type: 'spoof_suspected';
  person: PersonRef | null;
  reasons: SpoofReason[];
  antispoof: number | null;
  liveness: LivenessSummary;
}

export interface UnknownEvent extends Base {
  type: 'unknown';
  anon_id: string;
  /** Best person's fused score (below the threshold or without the margin). */
  score: number;
  live: boolean;
  antispoof: number | null;
  liveness: LivenessSummary;
  /** Height in pixels of the face in the frame that decided (the alert's face_px). */
  face_px: number;
  thumbnail: Thumbnail | null;
}

/**
 * A track decided unknown was recognised after all: its unknown alert is withdrawn, and its
 * anonymous person gave back what the track had given it (`cluster`: 'removed' when nothing of it
 * was left, 'kept' when other tracks remain in it, 'gone' when it was already forgotten).
 */
export interface UnknownWithdrawnEvent extends Base {
  type: 'unknown_withdrawn';
  /** The anonymous id the track's unknown event gave it. */
  anon_id: string;
  /** Who it turned out to be. */
  person: PersonRef;
  score: number;
  cluster: 'removed' | 'kept' | 'gone';
}

export interface TooSmallEvent extends Base {
  type: 'too_small';
  reason: string;
}

export interface LowQualityEvent extends Base {
  type: 'low_quality';
  reason: string;
}

export interface TrackEndedEvent extends Base {
  type: 'track_ended';
  person: PersonRef | null;
  anon_id: string | null;
  live: boolean;
  /** Seconds the track lasted. */
  duration: number;
  blinks: number;
  antispoof: number | null;
  liveness: LivenessSummary;
  /** Every movement a door display asked of the track, and what the face answered; absent where none was asked. */
  challenges?: ChallengeRecord[];
}

export type TrackEvent =
  | TrackStartedEvent
  | BlinkEvent
  | RecognizedEvent
  | SpoofSuspectedEvent
  | UnknownEvent
  | UnknownWithdrawnEvent
  | TooSmallEvent
  | LowQualityEvent
  | TrackEndedEvent;
export type TrackEventType = TrackEvent['type'];

/** Every decision type, for what must list them all before the first one (metrics at 0). */
export const TRACK_EVENT_TYPES = ['track_started', 'recognized', 'unknown', 'unknown_withdrawn', 'spoof_suspected', 'blink', 'too_small', 'low_quality', 'track_ended'] as const satisfies readonly TrackEventType[];
// A type added to the union above and not to the list fails to compile here.
const _everyType: readonly (typeof TRACK_EVENT_TYPES)[number][] = [] as TrackEventType[];

/**
 * The track's first live recognition: what a greeting, a counter or a home automation acts on once
 * per track. A later one only raises a live one to stereo (attendance upgrades what it made).
 */
export function firstLive(e: Pick<RecognizedEvent, 'live' | 'raised_from'>): boolean {
  return e.live && (e.raised_from === undefined || e.raised_from === 'recognised');
}

/** Wall-clock time of a live recognition's first naming: its own time less the track time since. */
export function arrivalMs(e: { atMs: number; t: number; named_t: number }): number {
  const sinceS = e.t - e.named_t;
  return Number.isFinite(sinceS) && sinceS > 0 ? e.atMs - Math.round(sinceS * 1000) : e.atMs;
}
