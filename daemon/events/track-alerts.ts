import { unknownAlertBody, unknownWithdrawalBody, type UnknownAlerts } from './alerts.js';
import { doorField } from '../../contract/fields.js';
import type { CountKind } from './day-counters.js';
import type { SpoofAlertReason } from '../../contract/alerts.js';
import type { EventWriter } from './writer.js';
import { firstLive, type TrackEvent } from '../track/events.js';

/** Where a tracker decision's alerts and day counts go: the events stage's own parts. */
export interface AlertTargets {
  writer: EventWriter;
  /** Retained per-camera day counters on MQTT. */
  count(camera: string, kind: CountKind, atMs: number): void;
  unknownImageMaxKb: number;
  /** The unknown alerts of running tracks, for their withdrawal; kept across events. */
  unknownAlerts: UnknownAlerts;
}

/**
 * One tracker decision as alerts and counts: a live recognition is counted, an unknown face and a
 * suspected spoof become signed alerts in the outbox (and are counted), and an unknown face
 * recognised later a signed withdrawal of its alert.
 */
export function alertTrackEvent(e: TrackEvent & { atMs: number }, t: AlertTargets): void {
  switch (e.type) {
    case 'recognized':
      if (firstLive(e)) t.count(e.camera, 'recognized', e.atMs);
      return;
    case 'unknown': {
      t.count(e.camera, 'unknown', e.atMs);
      const body = unknownAlertBody({ camera: e.camera, door: e.door, anonymousId: e.anon_id, facePx: e.face_px, ...(e.thumbnail ? { jpeg: e.thumbnail } : {}) }, t.unknownImageMaxKb);
      t.unknownAlerts.alerted(e.camera, e.track, e.anon_id, t.writer.write('unknown', body, e.atMs));
      return;
    }
    case 'unknown_withdrawn':
      t.writer.write('unknownWithdrawn', unknownWithdrawalBody(e, t.unknownAlerts.withdraw(e.camera, e.track, e.anon_id)), e.atMs);
      return;
    case 'track_ended':
      t.unknownAlerts.ended(e.camera, e.track);
      return;
    case 'spoof_suspected':
      t.count(e.camera, 'spoof', e.atMs);
      t.writer.write(
        'spoof',
        {
          type: 'spoof',
          camera: e.camera,
          ...doorField(e.door),
          anonymous_id: `${e.camera}-track-${e.track}`,
          person_id: e.person?.id ?? null,
          reason: spoofAlertReason(e.reasons),
          score: e.antispoof ?? 0,
        },
        e.atMs,
      );
      return;
    default:
      return;
  }
}

/**
 * The one reason an alert gives, the strongest first: a held picture (its surround moved with it,
 * or the frame about it moved while the camera did not; it may have blinked, as a replayed video
 * does), a frozen one, no proof of life, or the passive score under policy passive.
 */
export function spoofAlertReason(reasons: readonly string[]): SpoofAlertReason {
  if (reasons.includes('held_picture')) return 'held_picture';
  if (reasons.includes('frozen')) return 'frozen';
  return reasons.includes('no_blink') ? 'no_blink' : 'passive';
}
