/**
 * The pixel buffers of one camera's frames, reused: a 1080p camera at 15 fps would otherwise
 * allocate ~90 MB a second that the garbage collector must find again, and each frame sent to a
 * vision worker would be copied once more to be moved there. Pooled buffers live on
 * SharedArrayBuffers, which a worker reads where they are.
 *
 * A buffer is counted while something holds it (the camera's one-frame slot, the pipeline working
 * on it) and is handed out again only once nothing does, so a worker never reads a frame that
 * FFmpeg is overwriting. When every pooled buffer is held, a plain buffer is handed out instead:
 * nothing waits and nothing is dropped, that frame only costs what a frame cost without the pool.
 */
export class FramePool {
  private readonly free: Uint8Array[] = [];
  private readonly holds = new Map<Uint8Array, number>();
  /** Plain buffers handed out because every pooled one was held (camera health and /metrics). */
  overflows = 0;

  constructor(
    readonly frameBytes: number,
    capacity: number,
  ) {
    if (!Number.isInteger(frameBytes) || frameBytes <= 0) throw new RangeError(`frame size must be a positive integer, got ${frameBytes}`);
    for (let i = 0; i < capacity; i++) this.free.push(new Uint8Array(new SharedArrayBuffer(frameBytes)));
  }

  /** A buffer to fill, held once (by whoever fills it). */
  acquire(): Uint8Array {
    const data = this.free.pop();
    if (!data) {
      this.overflows++;
      return new Uint8Array(this.frameBytes);
    }
    this.holds.set(data, 1);
    return data;
  }

  /** One more holder of `data` (a no-op for buffers not from this pool). */
  retain(data: Uint8Array): void {
    const n = this.holds.get(data);
    if (n !== undefined) this.holds.set(data, n + 1);
  }

  /** One holder fewer; the last one gives the buffer back. */
  release(data: Uint8Array): void {
    const n = this.holds.get(data);
    if (n === undefined) return;
    if (n > 1) {
      this.holds.set(data, n - 1);
      return;
    }
    this.holds.delete(data);
    this.free.push(data);
  }

  /** Pooled buffers held right now. */
  get held(): number {
    return this.holds.size;
  }
}
