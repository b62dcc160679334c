import type { Logger } from './log.js';

/**
 * The timers of periodic tasks: each run is guarded (a failure is logged under its stage, never
 * thrown out of the timer, so the next run still comes), no timer keeps the process alive, and
 * `stop` clears them all at once.
 */
export class PeriodicTasks {
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(private readonly logger: Logger) {}

  every(ms: number, stage: string, task: () => void): void {
    const timer = setInterval(this.guarded(stage, task), ms);
    timer.unref();
    this.timers.push(timer);
  }

  /** Once, right after the current turn, guarded like the periodic runs. */
  soon(stage: string, task: () => void): void {
    setImmediate(this.guarded(stage, task));
  }

  stop(): void {
    for (const timer of this.timers) clearInterval(timer);
  }

  private guarded(stage: string, task: () => void): () => void {
    return () => {
      try {
        task();
      } catch (e) {
        this.logger.error({ stage, err: (e as Error).message }, 'periodic task failed');
      }
    };
  }
}
