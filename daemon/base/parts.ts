import type { Logger } from './log.js';

/**
 * What a service has started, in order, so that it stops in reverse: every part has one shape, a
 * name and a stop. A start that fails half-way stops exactly what it had started.
 */
export class StartedParts {
  private readonly stack: Array<{ name: string; stop: () => unknown }> = [];

  constructor(private readonly log: Logger) {}

  /** `name` is running now; `stop` ends it (it may return a promise). */
  add(name: string, stop: () => unknown): void {
    this.stack.push({ name, stop });
  }

  /**
   * Stops every part, the last started first. A part whose stop fails is logged and the others
   * still stop, so that nothing keeps running after a failing one (no camera left streaming, the
   * lock always released for the next start).
   */
  async stopAll(): Promise<void> {
    for (let part = this.stack.pop(); part; part = this.stack.pop()) {
      try {
        await part.stop();
      } catch (e) {
        this.log.error({ part: part.name, err: e instanceof Error ? e.message : String(e) }, 'stopping a part failed; the others stop all the same');
      }
    }
  }
}
