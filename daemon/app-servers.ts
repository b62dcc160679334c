import type { Config } from './config/schema.js';
import type { Logger } from './base/log.js';
import type { Subscribable } from './base/subscribable.js';
import type { DaemonEvents } from './bus/events.js';
import { FacegateError } from './base/errors.js';
import { hostPort } from './config/ops-sections.js';
import type { CameraHealth } from './camera/health.js';
import type { Liveness } from './pipeline/pipeline-health.js';
import type { Actor } from './service/audit.js';
import type { ReloadResult } from './service/reload.js';
import type { PurgeResult } from './service/retention.js';
import type { StatusReport } from './service/status.js';
import { OpsHttpServer } from './system/http.js';
import { ControlServer } from './control/server.js';
import { controlHandlers } from './control/handlers.js';
import { tokenVerifier } from './control/token.js';
import { readHistory, withdrawnTracks, type HistoryFilter, type TimelineRecognition } from './attendance/history.js';
import { WebConsole } from './web/console.js';
import { consoleDaemon } from './web/console-daemon.js';
import { PasswordHasher } from './web/passwords.js';
import { UserStore } from './web/users.js';
import type { Running } from './app-running.js';

/**
 * The daemon's servers, each started once the parts it serves run, and added to `parts` so that the
 * stop closes it in reverse order: the metrics and health server and the live view before the
 * cameras start, the control sockets and the web console after. What they serve is the running
 * daemon's (app.ts); a port that cannot be had is a coded error that names its setting.
 */

/** What the servers read of the daemon besides its parts: its status, metrics, clock, and the owner's reload and purge. */
export interface ServedDaemon {
  readonly bus: Subscribable<DaemonEvents>;
  readonly metrics: { text(): string };
  readonly currentConfig: Config;
  status(): StatusReport;
  statusLine(): string;
  liveness(): Liveness;
  cameraHealth(): CameraHealth[];
  /** The site's zone, the one clock of every door. */
  timeZone(): string;
  reloadConfig(by: Actor): ReloadResult;
  purgeRetention(by: Actor): PurgeResult;
}

const portError = (e: unknown) => (e as NodeJS.ErrnoException).code ?? (e as Error).message;

/** /metrics and /healthz, and the live view (the web console draws its camera pictures through it, without its own server when live_view is off). */
export async function startMonitoring(config: Config, r: Running, logger: Logger, daemon: ServedDaemon): Promise<void> {
  if (config.metrics.enabled) {
    const { host, port } = config.metrics;
    const http = new OpsHttpServer({ host, port, metrics: () => daemon.metrics.text(), liveness: () => daemon.liveness(), status: () => daemon.statusLine(), logger, audit: r.audit });
    try {
      await http.start();
    } catch (e) {
      throw new FacegateError('FG_ERR_METRICS_PORT', `cannot serve metrics on ${hostPort(host, port)}: ${portError(e)}`, 'pick a free metrics.port, an address of this box as metrics.host, or turn metrics off');
    }
    r.parts.add('metrics server', () => http.stop());
  }
  const view = r.liveView;
  if (!view) return;
  r.parts.add('live view', () => view.stop());
  if (!config.live_view.enabled) return;
  try {
    await view.start();
  } catch (e) {
    throw new FacegateError('FG_ERR_LIVE_VIEW_PORT', `cannot serve the live view on 127.0.0.1:${config.live_view.port}: ${portError(e)}`, 'pick a free live_view.port or turn the live view off');
  }
}

/** The doors that act on the daemon: the control sockets and the web console, each calling the services with its caller as actor. */
export async function startDoors(config: Config, r: Running, logger: Logger, daemon: ServedDaemon, now: () => number): Promise<void> {
  const deviceId = r.events.identity.deviceId;
  if (config.control.enabled) {
    const c = config.control;
    const handlers = controlHandlers({
      status: () => daemon.status(),
      cameraHealth: () => daemon.cameraHealth(),
      onTrack: (listener) => daemon.bus.on('track', 'control', listener),
      timeZone: () => daemon.timeZone(),
      reload: (by) => daemon.reloadConfig(by),
      persons: r.persons,
      purgeRetention: (by) => daemon.purgeRetention(by),
      reviews: r.reviews,
    });
    const control = new ControlServer({ dir: c.socket_dir, groups: c.groups, handlers, audit: r.audit, logger, ...(c.token_public_key ? { verifyToken: tokenVerifier(c.token_public_key, deviceId) } : {}) });
    await control.start();
    r.parts.add('control sockets', () => control.stop());
  }
  if (config.web.enabled) {
    const displays = { tokens: r.displays.tokens, feed: r.displays.feed, targets: () => r.displays.targets().names, config: config.display };
    const parts = { deviceId, gallery: r.gallery, persons: r.persons, unknowns: r.unknowns, audit: r.audit, liveView: r.liveView!, thresholds: r.thresholds, scores: r.scores, timeline: r.timeline, displays, reviews: r.reviews };
    const services = { faces: r.faces, thresholdChanges: r.thresholdChanges, history: (filter: HistoryFilter) => readHistory(r.gallery.db, filter), withdrawnTracks: (entries: readonly TimelineRecognition[]) => withdrawnTracks(r.gallery.db, entries, daemon.timeZone()), users: new UserStore(r.gallery.db, new PasswordHasher(), r.audit, now) };
    const served = { cameraHealth: () => daemon.cameraHealth(), status: () => daemon.status(), recognition: () => daemon.currentConfig.recognition, timeZone: () => daemon.timeZone() };
    const web = new WebConsole(config.web, await consoleDaemon({ ...parts, ...services, ...served }), logger);
    await web.start();
    r.parts.add('web console', () => web.stop());
  }
}
