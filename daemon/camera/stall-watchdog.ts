import type { Clock, Timers } from './process.js';

/**
 * One FFmpeg process's no-frame watchdog: it calls `onQuiet` once no frame has come for `ms`,
 * counted from the process's start until its first frame, and from the last frame after. Re-armed
 * lazily: a frame only moves the time it counts from, and the timer checks that when it fires, so
 * frames cost no timer calls.
 */
export class StallWatchdog {
  private timer: unknown;
  private since = 0;
  private limit = 0;

  constructor(
    private readonly clock: Clock,
    private readonly timers: Timers,
    private readonly onQuiet: () => void,
  ) {}

  /** Watches a process started at `startedAt`, quiet for at most `ms`. */
  start(startedAt: number, ms: number): void {
    this.since = startedAt;
    this.limit = ms;
    this.arm(ms);
  }

  /** A frame came at `at`. */
  frame(at: number): void {
    this.since = at;
  }

  stop(): void {
    this.timers.clearTimeout(this.timer);
  }

  private arm(ms: number): void {
    this.timer = this.timers.setTimeout(() => this.check(), ms);
  }

  private check(): void {
    const quiet = this.clock.now() - this.since;
    if (quiet < this.limit) {
      this.arm(this.limit - quiet);
      return;
    }
    this.onQuiet();
  }
}
