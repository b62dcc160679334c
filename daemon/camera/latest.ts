/** Told synchronously when a value is handed to a reader, and when the slot lets go of one. */
export interface SlotHooks<T> {
  onTake?(value: T): void;
  onEvict?(value: T): void;
}

/**
 * A one-frame mailbox: the newest value replaces an unread one, which is counted as dropped. The
 * reader always gets the newest frame and nothing queues, however far behind the pipeline is.
 */
export class LatestSlot<T> {
  private value: T | undefined;
  private unread = false;
  private waiters: ((value: T | undefined) => void)[] = [];
  private closed = false;
  dropped = 0;
  taken = 0;

  constructor(private readonly hooks: SlotHooks<T> = {}) {}

  put(value: T): void {
    if (this.closed) {
      this.hooks.onEvict?.(value);
      return;
    }
    if (this.unread) this.dropped++;
    const old = this.value;
    this.value = value;
    this.unread = true;
    if (old !== undefined) this.hooks.onEvict?.(old);
    const waiters = this.waiters;
    if (waiters.length > 0) {
      this.waiters = [];
      this.unread = false;
      this.taken++;
      for (const w of waiters) {
        this.hooks.onTake?.(value);
        w(value);
      }
    }
  }

  /** The newest value, read or not, without taking it (for the live view). */
  peek(): T | undefined {
    return this.value;
  }

  /** The newest unread value, waiting for one; undefined once closed or when `signal` aborts. */
  take(signal?: AbortSignal): Promise<T | undefined> {
    if (this.unread) {
      this.unread = false;
      this.taken++;
      this.hooks.onTake?.(this.value!);
      return Promise.resolve(this.value);
    }
    if (this.closed || signal?.aborted) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const onAbort = () => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(undefined);
      };
      const waiter = (value: T | undefined) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(value);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** No more values: waiting readers get undefined. */
  close(): void {
    this.closed = true;
    const value = this.value;
    this.value = undefined;
    this.unread = false;
    if (value !== undefined) this.hooks.onEvict?.(value);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w(undefined);
  }
}
