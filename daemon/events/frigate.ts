import { createHash } from 'node:crypto';
import { arrivalMs, firstLive, type TrackEvent } from '../track/events.js';
import type { MqttBridge } from './bridge.js';

/**
 * One face recognition as Frigate (0.16 and later) publishes it on `<topic_prefix>/tracked_object_update`:
 * automations that read these keys run unchanged on facegate's recognitions.
 */
export interface FrigateFaceUpdate {
  type: 'face';
  /** Frigate's tracked-object id shape: `<start, unix seconds with 6 decimals>-<6 of [a-z0-9]>`, stable for one track. */
  id: string;
  name: string;
  score: number;
  camera: string;
  /** Unix seconds, with fractions. */
  timestamp: number;
}

/** The id of a track as Frigate writes its object ids: the same for every recognition of one track. */
export function frigateEventId(camera: string, track: number, startMs: number): string {
  const start = (startMs / 1000).toFixed(6);
  const suffix = BigInt(`0x${createHash('sha256').update(`${camera}\0${track}\0${start}`).digest('hex').slice(0, 12)}`).toString(36).padStart(6, '0').slice(-6);
  return `${start}-${suffix}`;
}

/**
 * A live recognition in Frigate's face shape; anything else is not one. The name is the person's,
 * or their id where they have none: Frigate's is a face library name, never empty.
 */
export function frigateFaceUpdate(e: TrackEvent & { atMs: number }): FrigateFaceUpdate | undefined {
  if (e.type !== 'recognized' || !firstLive(e)) return undefined;
  return {
    type: 'face',
    id: frigateEventId(e.camera, e.track, arrivalMs(e)),
    name: e.person.name ?? e.person.id,
    score: e.score,
    camera: e.camera,
    timestamp: e.atMs / 1000,
  };
}

/** Publishes recognitions on the configured Frigate topic: live only, not retained, as Frigate does. */
export class FrigateFaces {
  constructor(
    private readonly bridge: MqttBridge,
    private readonly topic: string,
  ) {}

  async report(e: TrackEvent & { atMs: number }): Promise<void> {
    const face = frigateFaceUpdate(e);
    if (!face || !this.bridge.connected) return;
    await this.bridge.publish(this.topic, JSON.stringify(face), { qos: 1, retain: false });
  }
}
