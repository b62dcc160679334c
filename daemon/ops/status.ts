import type { CameraHealth } from '../camera/health.js';
import type { Liveness } from './health.js';

/** What the daemon is made of, as far as its status goes; each read when a status is asked for. */
export interface StatusParts {
  device: string;
  version: string;
  startedMs: number;
  nowMs: number;
  liveness: Liveness;
  cameras: CameraHealth[];
  outbox: { pending: number; bytes: number; oldestAgeS: number; dropped: Record<string, number> };
  mqtt: { enabled: boolean; connected: boolean; reconnects: number };
  templates: number;
  /** Persons left out of matching: a gallery row of theirs failed authentication. */
  quarantined: number;
}

/**
 * The one status of the daemon: the control socket's `status`, the remote `status` command and
 * the one-line summary (systemd STATUS=, /status, the log) are all made from it.
 */
export interface StatusReport {
  device: string;
  version: string;
  summary: string;
  liveness: Liveness;
  uptime_s: number;
  cameras: CameraHealth[];
  outbox: StatusParts['outbox'];
  mqtt: StatusParts['mqtt'];
  gallery: { templates: number; quarantined_persons: number };
}

export function statusReport(p: StatusParts): StatusReport {
  return {
    device: p.device,
    version: p.version,
    summary: statusLine(p),
    liveness: p.liveness,
    uptime_s: Math.floor((p.nowMs - p.startedMs) / 1000),
    cameras: p.cameras,
    outbox: p.outbox,
    mqtt: p.mqtt,
    gallery: { templates: p.templates, quarantined_persons: p.quarantined },
  };
}

/**
 * "2/3 cameras streaming, 14.5 fps, outbox 0, mqtt connected", persons quarantined if any, and
 * what is stuck, if anything.
 */
export function statusLine(p: Pick<StatusParts, 'cameras' | 'outbox' | 'mqtt' | 'liveness'> & Partial<Pick<StatusParts, 'quarantined'>>): string {
  const streaming = p.cameras.filter((h) => h.state === 'streaming').length;
  const fps = p.cameras.reduce((sum, h) => sum + h.fps_processed, 0);
  const mqtt = !p.mqtt.enabled ? 'mqtt off' : p.mqtt.connected ? 'mqtt connected' : 'mqtt queueing';
  const alive = p.liveness.alive ? '' : `; STUCK: ${p.liveness.problems.join('; ')}`;
  const quarantined = p.quarantined ? `, ${p.quarantined} person(s) quarantined (gallery verify)` : '';
  return `${streaming}/${p.cameras.length} cameras streaming, ${fps.toFixed(1)} fps, outbox ${p.outbox.pending}, ${mqtt}${quarantined}${alive}`;
}
