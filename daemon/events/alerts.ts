import { createHash } from 'node:crypto';
import type { UnknownWithdrawnEvent } from '../track/events.js';
import type { EventBody } from './writer.js';
import { doorField } from '../../contract/fields.js';

export interface UnknownFace {
  camera: string;
  /** The camera's door, where it is one of a door's cameras. */
  door?: string | undefined;
  anonymousId: string;
  facePx: number;
  /** JPEG face crop; attached only when within the size cap. */
  jpeg?: Uint8Array;
}

/**
 * The `alerts/unknown` body. The crop is attached as base64 only when it fits `maxKb` (0: never),
 * so one alert cannot flood the outbox or the broker; its sha256 goes inside the signed fields.
 */
export function unknownAlertBody(face: UnknownFace, maxKb: number): EventBody<'unknown'> {
  const fits = face.jpeg !== undefined && maxKb > 0 && face.jpeg.length <= maxKb * 1024;
  const base = { type: 'unknown' as const, camera: face.camera, ...doorField(face.door), anonymous_id: face.anonymousId, face_px: Math.round(face.facePx) };
  if (!fits) return { ...base, image_sha256: null };
  return { ...base, image_sha256: createHash('sha256').update(face.jpeg!).digest('hex'), image: Buffer.from(face.jpeg!).toString('base64') };
}

/**
 * The `alerts/unknown/withdrawn` body: the track alerted as unknown was an enrolled person after
 * all. Ids only, like the alerts: every subscriber reads it.
 */
export function unknownWithdrawalBody(e: UnknownWithdrawnEvent, alertId: string | null): EventBody<'unknownWithdrawn'> {
  return { type: 'unknown_withdrawn', camera: e.camera, ...doorField(e.door), track: e.track, anonymous_id: e.anon_id, alert_id: alertId, person_id: e.person.id, score: e.score };
}

/** Tracks remembered at once; far more than cameras × track.max_tracks, so only a leak would reach it. */
const MAX_ALERTED_TRACKS = 10_000;

/**
 * The unknown alert of each running track that has one, so that a withdrawal names the alert it
 * withdraws. Forgotten when the track ends; bounded whatever the tracker does.
 */
export class UnknownAlerts {
  private readonly alerts = new Map<string, { anonId: string; alertId: string }>();

  alerted(camera: string, track: number, anonId: string, alertId: string): void {
    const key = trackKey(camera, track);
    this.alerts.delete(key);
    this.alerts.set(key, { anonId, alertId });
    // Oldest first: a Map iterates in insertion order.
    for (const oldest of this.alerts.keys()) {
      if (this.alerts.size <= MAX_ALERTED_TRACKS) break;
      this.alerts.delete(oldest);
    }
  }

  /** The id of the track's alert for this anonymous id, which is withdrawn now (null when not held). */
  withdraw(camera: string, track: number, anonId: string): string | null {
    const key = trackKey(camera, track);
    const alert = this.alerts.get(key);
    this.alerts.delete(key);
    return alert?.anonId === anonId ? alert.alertId : null;
  }

  ended(camera: string, track: number): void {
    this.alerts.delete(trackKey(camera, track));
  }

  get size(): number {
    return this.alerts.size;
  }
}

const trackKey = (camera: string, track: number) => `${camera}\u0000${track}`;
