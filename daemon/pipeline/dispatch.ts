import type { RecognizedDecision } from '../attendance/stage.js';
import { unknownAlertBody, unknownWithdrawalBody, type UnknownAlerts } from '../events/alerts.js';
import type { CountKind } from '../events/day-counters.js';
import type { EventWriter } from '../events/writer.js';
import type { SpoofAlertReason } from '../events/topics.js';
import { arrivalMs, type TrackEvent } from '../track/events.js';
import type { Subscribable } from '../base/subscribable.js';

/** What a decision of the tracker turns into; each target is a stage the daemon built. */
export interface DispatchTargets {
  /** Undefined when attendance is turned off. */
  attendance: { onRecognized(d: RecognizedDecision): unknown } | undefined;
  writer: EventWriter;
  /** Retained per-camera day counters on MQTT. */
  count(camera: string, kind: CountKind, atMs: number): void;
  unknownImageMaxKb: number;
  /** The unknown alerts of running tracks, for their withdrawal; kept across events (the events stage's). */
  unknownAlerts: UnknownAlerts;
  /** Every tracker event, for the per-track events on MQTT (they keep their own limits). */
  reportTrack?(event: TrackEvent & { atMs: number }): void;
}

export interface TrackDispatchOptions extends Omit<DispatchTargets, 'attendance'> {
  /** Read at each decision: a reload may rebuild attendance or turn it off. */
  attendance: () => DispatchTargets['attendance'];
}

/**
 * Routes every tracker decision on the bus to attendance, alerts and counters, as the stage
 * 'dispatch'; returns the unsubscribe.
 */
export function subscribeDispatch(bus: Subscribable<{ track: TrackEvent & { atMs: number } }>, o: TrackDispatchOptions): () => void {
  return bus.on('track', 'dispatch', (e) => dispatchTrackEvent(e, { ...o, attendance: o.attendance() }));
}

/**
 * Routes one tracker decision: a live recognition becomes attendance (with its face crop as proof),
 * an unknown face and a suspected spoof become signed alerts in the outbox, and an unknown face
 * recognised later a signed withdrawal of its alert. A recognition that is not (yet) live changes
 * nothing: the track sends it again once it is live.
 */
export function dispatchTrackEvent(e: TrackEvent & { atMs: number }, t: DispatchTargets): void {
  t.reportTrack?.(e);
  switch (e.type) {
    case 'recognized': {
      if (!e.live) return;
      t.count(e.camera, 'recognized', e.atMs);
      const group = e.person.group;
      t.attendance?.onRecognized({
        personId: e.person.id,
        camera: e.camera,
        // The person arrived when they were first named; liveness may be proven seconds later.
        atMs: arrivalMs(e),
        ...(group !== undefined ? { group } : {}),
        ...(e.thumbnail ? { thumbnail: new Uint8Array(e.thumbnail) } : {}),
      });
      return;
    }
    case 'unknown': {
      t.count(e.camera, 'unknown', e.atMs);
      const body = unknownAlertBody({ camera: e.camera, anonymousId: e.anon_id, facePx: e.face_px, ...(e.thumbnail ? { jpeg: e.thumbnail } : {}) }, t.unknownImageMaxKb);
      t.unknownAlerts.alerted(e.camera, e.track, e.anon_id, t.writer.write('unknown', body, e.atMs));
      return;
    }
    case 'unknown_withdrawn':
      t.writer.write('unknownWithdrawn', unknownWithdrawalBody(e, t.unknownAlerts.withdraw(e.camera, e.track, e.anon_id)), e.atMs);
      return;
    case 'track_ended':
      t.unknownAlerts.ended(e.camera, e.track);
      return;
    case 'spoof_suspected': {
      t.count(e.camera, 'spoof', e.atMs);
      t.writer.write(
        'spoof',
        {
          type: 'spoof',
          camera: e.camera,
          anonymous_id: `${e.camera}-track-${e.track}`,
          person_id: e.person?.id ?? null,
          reason: spoofAlertReason(e.reasons),
          score: e.antispoof ?? 0,
        },
        e.atMs,
      );
      return;
    }
    default:
      return;
  }
}

/**
 * The one reason an alert gives, the strongest first: a held picture (its surround moved with it,
 * or the frame about it moved while the camera did not; it may have blinked, as a replayed video does), a frozen one, no proof of life, or the passive
 * score under policy passive.
 */
export function spoofAlertReason(reasons: readonly string[]): SpoofAlertReason {
  if (reasons.includes('held_picture')) return 'held_picture';
  if (reasons.includes('frozen')) return 'frozen';
  return reasons.includes('no_blink') ? 'no_blink' : 'passive';
}
