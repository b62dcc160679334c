import type { CameraHealth, CameraState } from '../camera/health.js';
import type { EventBody } from './writer.js';

/** States in which a camera gives no frames through a fault of its own (`connecting` is only a try, `stopped` our own stop). */
const DOWN: ReadonlySet<CameraState> = new Set(['backoff', 'failed', 'stalled']);
/** A failure's words come from FFmpeg's classified output; bounded all the same. */
const MESSAGE_MAX_CHARS = 200;

/**
 * Turns each camera's state changes into its outages: one `camera_offline` when it goes down (or
 * cannot be reached from the start), one `camera_online` when its frames come back, however many
 * retries lie between. A camera stopped (removed by a reload, the daemon stopping) is forgotten.
 */
export class CameraLinks {
  private readonly down = new Map<string, { sinceMs: number; reason: string }>();

  next(health: CameraHealth, atMs: number): EventBody<'bridgeEvent'> | undefined {
    const camera = health.camera;
    const outage = this.down.get(camera);
    if (health.state === 'stopped') {
      this.down.delete(camera);
      return undefined;
    }
    if (health.state === 'streaming') {
      if (!outage) return undefined;
      this.down.delete(camera);
      return { type: 'camera_online', data: { camera, reason: outage.reason, down_s: Math.max(0, Math.round((atMs - outage.sinceMs) / 1000)) } };
    }
    if (!DOWN.has(health.state) || outage) return undefined;
    const reason = health.last_error?.kind ?? health.state;
    this.down.set(camera, { sinceMs: atMs, reason });
    return { type: 'camera_offline', data: { camera, state: health.state, reason, message: (health.last_error?.message ?? '').slice(0, MESSAGE_MAX_CHARS) } };
  }
}
