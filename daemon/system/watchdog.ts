import type { Logger } from '../base/log.js';
import type { PeriodicTasks } from '../base/periodic.js';
import type { Notifier } from './sd-notify.js';
import type { StatusService } from '../service/status.js';

export interface WatchdogOptions {
  status: StatusService;
  notifier: Notifier;
  /** daemon.status_interval_s: how often systemd's STATUS= line is sent again. */
  statusIntervalS: number;
  logger: Logger;
}

/**
 * systemd's side of the daemon's health: WATCHDOG=1 while the pipeline is alive, and the STATUS=
 * line. The ping is the pipeline's liveness, so a daemon whose cameras are stuck is restarted.
 */
export class Watchdog {
  private readonly log: Logger;

  constructor(private readonly o: WatchdogOptions) {
    this.log = o.logger.child({ stage: 'daemon' });
  }

  /** Checks at half the period systemd expects (or at the status interval without one), and sends the status line. */
  schedule(tasks: PeriodicTasks): void {
    const watchdogMs = this.o.notifier.watchdogMs;
    const checkMs = watchdogMs ? Math.max(100, Math.floor(watchdogMs / 2)) : this.o.statusIntervalS * 1000;
    tasks.every(checkMs, 'daemon', () => this.check());
    tasks.every(this.o.statusIntervalS * 1000, 'daemon', () => this.o.notifier.status(this.o.status.line()));
  }

  /** WATCHDOG=1 while alive; the first check that finds the pipeline stuck says why it is withheld. */
  check(): void {
    const { liveness, wasAlive } = this.o.status.watch();
    if (liveness.alive) this.o.notifier.watchdog();
    else if (wasAlive) this.log.error({ problems: liveness.problems }, 'pipeline stuck: WATCHDOG=1 withheld, systemd will restart the daemon');
  }
}
