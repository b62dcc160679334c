import type { CameraHealth } from '../camera/health.js';
import { filesystemSpace } from '../base/disk-space.js';
import type { DoorStatus } from '../door/door.js';
import { pipelineLiveness, type Liveness, type PipelineProgress } from '../pipeline/pipeline-health.js';

/** What the daemon is made of, as far as its status goes; each read when a status is asked for. */
export interface StatusParts {
  device: string;
  version: string;
  startedMs: number;
  nowMs: number;
  liveness: Liveness;
  cameras: CameraHealth[];
  /** The configured doors: whether each proves faces by stereo now, and its pairs. */
  doors: DoorStatus[];
  outbox: { pending: number; bytes: number; oldestAgeS: number; dropped: Record<string, number> };
  mqtt: { enabled: boolean; connected: boolean; reconnects: number };
  templates: number;
  /** Persons left out of matching: a gallery row of theirs failed authentication. */
  quarantined: number;
  /** Free space where the state file (outbox, attendance, gallery) lives; null where it cannot be read. */
  disk: DiskSpace | null;
  /** The models running, each verified against its sha256 before it was loaded. */
  models: readonly RunningModel[];
}

export interface DiskSpace {
  path: string;
  free_bytes: number;
  total_bytes: number;
}

export interface RunningModel {
  name: string;
  package: string;
  version: string;
  sha256: string;
}

/** Free and total bytes of the file system holding `dir` (as /metrics and `facegate doctor` read them), or null. */
export function diskSpace(dir: string): DiskSpace | null {
  try {
    const s = filesystemSpace(dir);
    return { path: dir, free_bytes: s.availBytes, total_bytes: s.sizeBytes };
  } catch {
    return null;
  }
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
  doors: DoorStatus[];
  outbox: StatusParts['outbox'];
  mqtt: StatusParts['mqtt'];
  gallery: { templates: number; quarantined_persons: number };
  disk: DiskSpace | null;
  models: readonly RunningModel[];
}

export function statusReport(p: StatusParts): StatusReport {
  return {
    device: p.device,
    version: p.version,
    summary: statusLine(p),
    liveness: p.liveness,
    uptime_s: Math.floor((p.nowMs - p.startedMs) / 1000),
    cameras: p.cameras,
    doors: p.doors,
    outbox: p.outbox,
    mqtt: p.mqtt,
    gallery: { templates: p.templates, quarantined_persons: p.quarantined },
    disk: p.disk,
    models: p.models,
  };
}

/**
 * "2/3 cameras streaming, 14.5 fps processed, outbox 0, mqtt connected", cameras that need
 * attention, persons quarantined and doors fallen back to the single-camera cues if any, and what
 * is stuck, if anything.
 */
export function statusLine(p: Pick<StatusParts, 'cameras' | 'outbox' | 'mqtt' | 'liveness'> & Partial<Pick<StatusParts, 'quarantined' | 'doors'>>): string {
  const streaming = p.cameras.filter((h) => h.state === 'streaming').length;
  const fps = p.cameras.reduce((sum, h) => sum + h.fps_processed, 0);
  const mqtt = !p.mqtt.enabled ? 'mqtt off' : p.mqtt.connected ? 'mqtt connected' : 'mqtt queueing';
  const alive = p.liveness.alive ? '' : `; STUCK: ${p.liveness.problems.join('; ')}`;
  const quarantined = p.quarantined ? `, ${p.quarantined} person(s) quarantined (gallery verify)` : '';
  const single = (p.doors ?? []).filter((d) => d.state === 'single_camera').map((d) => `, door ${d.door} on single-camera cues (${d.reason})`);
  const attention = p.cameras.filter((h) => h.attention).length;
  const cameras = attention ? `, ${attention} camera(s) need attention (facegate cameras)` : '';
  return `${streaming}/${p.cameras.length} cameras streaming${cameras}, ${fps.toFixed(1)} fps processed, outbox ${p.outbox.pending}, ${mqtt}${quarantined}${single.join('')}${alive}`;
}

/** What the status service reads from the running daemon; absent while it is not running. */
export interface RunningStatusSources {
  cameras: { health(): CameraHealth[]; progress(): readonly PipelineProgress[] };
  doors: readonly { status(): DoorStatus }[];
  events: {
    identity: { deviceId: string };
    outbox: { stats(nowMs: number): StatusParts['outbox'] };
    bridge: { connected: boolean; reconnects: number };
  };
  gallery: { matcher: { size: number }; quarantinedCount: number };
}

export interface StatusServiceOptions {
  version: string;
  startedMs: number;
  now: () => number;
  monoNow: () => number;
  /** daemon.stall_s in ms: how long a streaming camera may go without a processed frame. */
  stallMs: () => number;
  mqttEnabled: () => boolean;
  running: () => RunningStatusSources | undefined;
  /** The folder of the state file, whose free space the status reports. */
  stateDir: () => string;
  models: readonly RunningModel[];
}

/**
 * Builds the daemon's status from its parts, and keeps what the watchdog last saw: the one-line
 * summary (systemd's STATUS=, /status) says what is stuck as of that check, not a fresh one, so that
 * it agrees with the WATCHDOG=1 that was (or was not) sent.
 */
export class StatusService {
  private watched: Liveness = { alive: true, problems: [] };

  constructor(private readonly o: StatusServiceOptions) {}

  /** Whether the pipeline is alive now (WATCHDOG=1, /healthz, the metrics). */
  liveness(): Liveness {
    const running = this.o.running();
    if (!running) return { alive: false, problems: ['not running'] };
    return pipelineLiveness(running.cameras.progress(), this.o.monoNow(), this.o.stallMs());
  }

  /** The watchdog's check: a fresh liveness, kept for `line()`, and whether the check before passed. */
  watch(): { liveness: Liveness; wasAlive: boolean } {
    const wasAlive = this.watched.alive;
    this.watched = this.liveness();
    return { liveness: this.watched, wasAlive };
  }

  /** The control socket's and the remote command's `status`. */
  report(): StatusReport {
    return statusReport(this.parts(this.liveness()));
  }

  /** One line for systemd's STATUS= and /status; what is stuck as the watchdog last saw it. */
  line(): string {
    return statusLine(this.parts(this.watched));
  }

  private parts(liveness: Liveness): StatusParts {
    const running = this.o.running();
    const events = running?.events;
    const nowMs = this.o.now();
    return {
      device: events?.identity.deviceId ?? '',
      version: this.o.version,
      startedMs: this.o.startedMs,
      nowMs,
      liveness,
      cameras: running?.cameras.health() ?? [],
      doors: running?.doors.map((door) => door.status()) ?? [],
      outbox: events?.outbox.stats(nowMs) ?? { pending: 0, bytes: 0, oldestAgeS: 0, dropped: {} },
      mqtt: { enabled: this.o.mqttEnabled(), connected: events?.bridge.connected ?? false, reconnects: events?.bridge.reconnects ?? 0 },
      templates: running?.gallery.matcher.size ?? 0,
      quarantined: running?.gallery.quarantinedCount ?? 0,
      disk: diskSpace(this.o.stateDir()),
      models: this.o.models,
    };
  }
}
