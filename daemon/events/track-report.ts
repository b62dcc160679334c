import { createHash } from 'node:crypto';
import type { TrackEvent } from '../track/events.js';
import type { Payload } from '../../contract/topics.js';
import type { EventBody } from './writer.js';
import { doorField } from '../../contract/fields.js';

/** What a track looks like to a subscriber: the fields its events and `last` carry. */
export type TrackView = Omit<Payload<'trackLast'>, 'time'>;

export interface TrackReportOptions {
  /** At most one update per track this often, unless the change matters (a decision, becoming live, proven by stereo). */
  intervalMs: number;
  /** Tracks reported at once per camera; the rest are not reported at all. */
  maxTracks: number;
  /** Largest thumbnail attached, in KiB; 0: none. */
  snapshotMaxKb: number;
  personNames: boolean;
}

/** What one tracker event leads to on MQTT: an event for the outbox, and the camera's new retained `last`. */
export interface TrackReport {
  event?: EventBody<'trackEvent'>;
  last?: TrackView;
}

/** Changes that matter may come faster than the interval, but a track never sends more than this many in a row. */
const BURST = 3;
/** Reasons are tracker text: bounded so that one event stays small whatever the tracker says. */
const MAX_REASON = 200;
/** A track unheard of this long is taken as gone when its camera is full (a restarted tracker never ends its old ids). */
const STALE_MS = 300_000;

const DECISIONS = new Set(['recognized', 'unknown', 'spoof_suspected']);

/**
 * The view of a track after one of its tracker events. Pure: the previous view (or none, for a
 * track not seen yet) and the event give the next one. Names are left out unless asked for.
 */
export function nextTrackView(prev: TrackView | undefined, e: TrackEvent, personNames: boolean): TrackView {
  const base: TrackView = prev ?? {
    camera: e.camera,
    ...doorField(e.door),
    track: e.track,
    state: 'tracking',
    person_id: null,
    anonymous_id: null,
    score: null,
    margin: null,
    live: false,
    antispoof: null,
    liveness: null,
    assurance: null,
    reasons: [],
    face_px: null,
  };
  const named = (person: { id: string; name: string | null } | null) => {
    const { name: _name, ...rest } = base;
    const name = personNames ? person?.name : undefined;
    return { ...rest, person_id: person?.id ?? null, ...(name ? { name } : {}) };
  };
  switch (e.type) {
    case 'recognized':
      return {
        ...named(e.person),
        state: 'recognized',
        anonymous_id: null,
        score: e.score,
        margin: e.margin,
        live: e.live,
        antispoof: e.antispoof,
        liveness: e.liveness,
        assurance: e.assurance,
        reasons: e.live ? [] : ['not_live_yet'],
        face_px: e.face_px,
      };
    case 'unknown':
      return { ...named(null), state: 'unknown', anonymous_id: e.anon_id, score: e.score, margin: null, live: e.live, antispoof: e.antispoof, liveness: e.liveness, assurance: null, reasons: [], face_px: e.face_px };
    case 'spoof_suspected':
      // Refused: whatever the recognition was proven by no longer stands.
      return { ...named(e.person), state: 'spoof_suspected', live: false, antispoof: e.antispoof, liveness: e.liveness, assurance: null, reasons: e.reasons.slice(0, 8) };
    case 'too_small':
    case 'low_quality':
      return { ...base, state: e.type, reasons: [e.type, e.reason.slice(0, MAX_REASON)] };
    case 'track_ended':
      return { ...named(e.person), anonymous_id: e.anon_id ?? base.anonymous_id, live: e.live, antispoof: e.antispoof, liveness: e.liveness };
    case 'track_started':
      return { ...base, face_px: e.face_px };
    case 'blink':
      return base;
    case 'unknown_withdrawn':
      // The `recognized` event that follows it at once carries the change.
      return base;
  }
}

/** Whether going from one view to the next is worth sending before the interval: a decision, a new person, becoming live. */
export function changeMatters(prev: TrackView, next: TrackView): boolean {
  if (next.state !== prev.state && DECISIONS.has(next.state)) return true;
  if (next.person_id !== prev.person_id || next.anonymous_id !== prev.anonymous_id) return true;
  // Becoming live, and a live track proven better (stereo at a door): what a check-in rests on.
  return next.live && (!prev.live || next.assurance !== prev.assurance);
}

const sameView = (a: TrackView, b: TrackView) =>
  a.state === b.state && a.person_id === b.person_id && a.anonymous_id === b.anonymous_id && a.live === b.live && a.assurance === b.assurance && a.reasons.join('\n') === b.reasons.join('\n');

/** The event body: the view, and the thumbnail when it fits the cap (its sha256 signed with the rest). */
export function trackEventBody(type: 'new' | 'update' | 'end', view: TrackView, thumbnail: Uint8Array | null, snapshotMaxKb: number): EventBody<'trackEvent'> {
  const fits = thumbnail !== null && snapshotMaxKb > 0 && thumbnail.length <= snapshotMaxKb * 1024;
  if (!fits) return { type, ...view, image_sha256: null };
  return { type, ...view, image_sha256: createHash('sha256').update(thumbnail).digest('hex'), image: Buffer.from(thumbnail).toString('base64') };
}

interface Reported {
  /** The view last sent, which changes are measured against. */
  sent: TrackView;
  /** The view after the last event, sent or held back: what the end reports. */
  latest: TrackView;
  lastSentMs: number;
  lastHeardMs: number;
  /** Sends left before the interval must pass again (refilled one per interval, counted from refilledMs). */
  tokens: number;
  refilledMs: number;
}

/**
 * Per-track events from the tracker's event stream, bounded whatever the scene: `new` on a track's
 * first event, `update` when its view changes (at most one per interval unless the change
 * matters, and never more than a short burst), `end` when it ends; at most `maxTracks` per camera.
 * Holds only the views of the tracks it reports; time is the events' own, so it needs no clock.
 */
export class TrackReporter {
  private readonly cameras = new Map<string, Map<number, Reported>>();
  /** Tracker events left unreported because their track found its camera full. */
  skipped = 0;

  constructor(private readonly o: TrackReportOptions) {}

  report(e: TrackEvent & { atMs: number }): TrackReport {
    let tracks = this.cameras.get(e.camera);
    if (!tracks) this.cameras.set(e.camera, (tracks = new Map()));
    const known = tracks.get(e.track);
    const thumbnail = 'thumbnail' in e ? e.thumbnail : null;
    if (!known) {
      // An end with no report before it (the track was skipped, or began before a restart) says nothing.
      if (e.type === 'track_ended' || !this.makeRoom(tracks, e.atMs)) {
        if (e.type !== 'track_ended') this.skipped++;
        return {};
      }
      const view = nextTrackView(undefined, e, this.o.personNames);
      tracks.set(e.track, { sent: view, latest: view, lastSentMs: e.atMs, lastHeardMs: e.atMs, tokens: BURST - 1, refilledMs: e.atMs });
      return { event: trackEventBody('new', view, thumbnail, this.o.snapshotMaxKb), ...(DECISIONS.has(e.type) ? { last: view } : {}) };
    }
    known.lastHeardMs = e.atMs;
    const view = nextTrackView(known.latest, e, this.o.personNames);
    known.latest = view;
    if (e.type === 'track_ended') {
      tracks.delete(e.track);
      return { event: trackEventBody('end', view, null, this.o.snapshotMaxKb) };
    }
    if (sameView(known.sent, view)) return {};
    this.refill(known, e.atMs);
    const due = changeMatters(known.sent, view) || e.atMs - known.lastSentMs >= this.o.intervalMs;
    if (!due || known.tokens < 1) return {};
    known.tokens--;
    known.sent = view;
    known.lastSentMs = e.atMs;
    return { event: trackEventBody('update', view, thumbnail, this.o.snapshotMaxKb), ...(DECISIONS.has(e.type) ? { last: view } : {}) };
  }

  /** Tracks a camera reports now. */
  reporting(camera: string): number {
    return this.cameras.get(camera)?.size ?? 0;
  }

  private refill(r: Reported, atMs: number): void {
    const earned = Math.floor((atMs - r.refilledMs) / this.o.intervalMs);
    if (earned <= 0) return;
    r.tokens = Math.min(BURST, r.tokens + earned);
    r.refilledMs += earned * this.o.intervalMs;
  }

  private makeRoom(tracks: Map<number, Reported>, atMs: number): boolean {
    if (tracks.size < this.o.maxTracks) return true;
    for (const [id, r] of tracks) {
      if (atMs - r.lastHeardMs >= STALE_MS) {
        tracks.delete(id);
        return true;
      }
    }
    return false;
  }
}
