import { createHash } from 'node:crypto';
import type { EventBody } from './writer.js';

export interface UnknownFace {
  camera: string;
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
  const base = { type: 'unknown' as const, camera: face.camera, anonymous_id: face.anonymousId, face_px: Math.round(face.facePx) };
  if (!fits) return { ...base, image_sha256: null };
  return { ...base, image_sha256: createHash('sha256').update(face.jpeg!).digest('hex'), image: Buffer.from(face.jpeg!).toString('base64') };
}
