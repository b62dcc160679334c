/**
 * Cuts FFmpeg's raw-video pipe into exact frames: pipe chunks (64 KiB) fall anywhere across frame
 * boundaries. Each frame is filled in a buffer of its own from `allocate` (by default a fresh one),
 * so the pipeline may keep it while the next one fills; the buffer is handed over with the frame.
 */
export class FrameAssembler {
  private current: Uint8Array;
  private filled = 0;

  constructor(
    readonly frameBytes: number,
    private readonly onFrame: (data: Uint8Array) => void,
    private readonly allocate: () => Uint8Array = () => new Uint8Array(frameBytes),
  ) {
    if (!Number.isInteger(frameBytes) || frameBytes <= 0) throw new RangeError(`frame size must be a positive integer, got ${frameBytes}`);
    this.current = allocate();
  }

  push(chunk: Uint8Array): void {
    let offset = 0;
    while (offset < chunk.length) {
      const n = Math.min(this.frameBytes - this.filled, chunk.length - offset);
      this.current.set(chunk.subarray(offset, offset + n), this.filled);
      this.filled += n;
      offset += n;
      if (this.filled === this.frameBytes) {
        const done = this.current;
        this.filled = 0;
        // The finished frame goes on before the next buffer is taken: handing it on lets go of
        // the frame it replaces, whose buffer is then the one free to take.
        try {
          this.onFrame(done);
        } finally {
          this.current = this.allocate();
        }
      }
    }
  }

  /** Bytes of an unfinished frame (a process that died mid-frame leaves some). */
  get pending(): number {
    return this.filled;
  }

  reset(): void {
    this.filled = 0;
  }
}
