/** Told synchronously when a value is handed to a reader, and when the queue lets go of one. */
export interface SlotHooks<T> {
  onTake?(value: T): void;
  onEvict?(value: T): void;
}

/**
 * A camera's mailbox of unread frames, at most `depth` of them: when a new frame finds it full,
 * the oldest unread one is dropped and counted. The reader gets frames in order, so a pipeline
 * that is late for a moment (the other cameras' detections landing on the same worker, a garbage
 * collection) catches up on the frames it was late for instead of losing them; one that stays
 * behind loses the oldest, and works at most `depth` frames behind the camera. The newest value
 * is kept, read or not, for the live view.
 */
export class FrameQueue<T> {
  private readonly unread: T[] = [];
  /** The newest value put, held for peek() until a newer one comes (read or not). */
  private newest: T | undefined;
  private waiters: ((value: T | undefined) => void)[] = [];
  private closed = false;
  dropped = 0;
  taken = 0;

  constructor(
    private readonly depth: number,
    private readonly hooks: SlotHooks<T> = {},
  ) {
    if (!Number.isInteger(depth) || depth < 1) throw new RangeError(`queue depth must be a positive integer, got ${depth}`);
  }

  put(value: T): void {
    if (this.closed) {
      this.hooks.onEvict?.(value);
      return;
    }
    const old = this.newest;
    this.newest = value;
    // The previous newest stays held while it waits to be read; once read, only peek() held it.
    if (old !== undefined && !this.unread.includes(old)) this.hooks.onEvict?.(old);
    const waiters = this.waiters;
    if (waiters.length > 0) {
      this.waiters = [];
      this.taken++;
      for (const w of waiters) {
        this.hooks.onTake?.(value);
        w(value);
      }
      return;
    }
    this.unread.push(value);
    if (this.unread.length > this.depth) {
      const oldest = this.unread.shift()!;
      this.dropped++;
      this.hooks.onEvict?.(oldest);
    }
  }

  /** The newest value, read or not, without taking it (for the live view). */
  peek(): T | undefined {
    return this.newest;
  }

  /** The oldest unread value, waiting for one; undefined once closed or when `signal` aborts. */
  take(signal?: AbortSignal): Promise<T | undefined> {
    const value = this.unread.shift();
    if (value !== undefined) {
      this.taken++;
      this.hooks.onTake?.(value);
      // Taken and no longer the newest: the queue holds it no more (the reader does).
      if (value !== this.newest) this.hooks.onEvict?.(value);
      return Promise.resolve(value);
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

  /** No more values: waiting readers get undefined, and every value held is let go. */
  close(): void {
    this.closed = true;
    const held = new Set([...this.unread, ...(this.newest === undefined ? [] : [this.newest])]);
    this.unread.length = 0;
    this.newest = undefined;
    for (const value of held) this.hooks.onEvict?.(value);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w(undefined);
  }
}
