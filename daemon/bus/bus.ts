import type { Logger } from '../base/log.js';
import type { Subscribable } from '../base/subscribable.js';

type Listener<P> = (payload: P) => void | Promise<void>;

/**
 * A small typed event bus (zigbee2mqtt's eventBus, typed by a map of event name → payload).
 * Each listener is registered under its stage; a listener that throws or rejects is logged under
 * that stage and never stops the emitter or the other listeners.
 */
export class EventBus<M extends object> implements Subscribable<M> {
  private readonly listeners = new Map<keyof M, { stage: string; fn: Listener<never> }[]>();
  /** Listener failures, per stage, for metrics. */
  readonly failures = new Map<string, number>();

  constructor(private readonly logger: Logger) {}

  on<K extends keyof M>(name: K, stage: string, fn: Listener<M[K]>): () => void {
    const entry = { stage, fn: fn as Listener<never> };
    this.listeners.set(name, [...(this.listeners.get(name) ?? []), entry]);
    return () => this.listeners.set(name, (this.listeners.get(name) ?? []).filter((l) => l !== entry));
  }

  /** Whether any stage listens to `name`: an event costly to make is made only then. */
  listens(name: keyof M): boolean {
    return (this.listeners.get(name)?.length ?? 0) > 0;
  }

  /** The stages listening to anything, for metrics that list each stage from the start. */
  stages(): string[] {
    return [...new Set([...this.listeners.values()].flatMap((list) => list.map((l) => l.stage)))];
  }

  /**
   * Calls every listener in order; resolves when async ones have settled, never rejects. A listener
   * that returns nothing is called at once, before `emit` returns, so that a change announced here
   * (a person erased) is seen by every stage before the announcer's caller goes on.
   */
  async emit<K extends keyof M>(name: K, payload: M[K]): Promise<void> {
    for (const { stage, fn } of this.listeners.get(name) ?? []) {
      try {
        const done = (fn as Listener<M[K]>)(payload);
        if (done instanceof Promise) await done;
      } catch (e) {
        this.failed(stage, name, e);
      }
    }
  }

  private failed(stage: string, name: keyof M, e: unknown): void {
    this.failures.set(stage, (this.failures.get(stage) ?? 0) + 1);
    this.logger.error({ stage, event: String(name), err: e instanceof Error ? { message: e.message, stack: e.stack } : String(e) }, 'listener failed; the other stages go on');
  }
}
