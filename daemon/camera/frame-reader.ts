/**
 * Where FFmpeg's raw frames are read to: each read fills the start of `next()`, then `filled` says
 * how many bytes it wrote there. A socket reads straight into it (process.ts), so the bytes land in
 * the frame's own buffer, with no chunk allocated, copied or collected on the way.
 */
export interface FrameSink {
  next(): Uint8Array;
  filled(bytes: number): void;
}

/**
 * Cuts FFmpeg's raw-video stream into exact frames: reads fall anywhere across frame boundaries.
 * Each frame is filled in a buffer of its own from `allocate` (by default a fresh one), so the
 * pipeline may keep it while the next one fills; the buffer is handed over with the frame.
 */
export class FrameAssembler implements FrameSink {
  private current: Uint8Array;
  private done = 0;

  constructor(
    readonly frameBytes: number,
    private readonly onFrame: (data: Uint8Array) => void,
    private readonly allocate: () => Uint8Array = () => new Uint8Array(frameBytes),
  ) {
    if (!Number.isInteger(frameBytes) || frameBytes <= 0) throw new RangeError(`frame size must be a positive integer, got ${frameBytes}`);
    this.current = allocate();
  }

  /** The rest of the frame being filled. */
  next(): Uint8Array {
    return this.current.subarray(this.done);
  }

  filled(bytes: number): void {
    if (!Number.isInteger(bytes) || bytes < 0 || bytes > this.frameBytes - this.done) throw new RangeError(`filled ${bytes} bytes where ${this.frameBytes - this.done} were free`);
    this.done += bytes;
    if (this.done < this.frameBytes) return;
    const frame = this.current;
    this.done = 0;
    // The finished frame goes on before the next buffer is taken: handing it on lets go of the
    // frame it replaces, whose buffer is then the one free to take.
    try {
      this.onFrame(frame);
    } finally {
      this.current = this.allocate();
    }
  }

  /** A chunk read elsewhere (a pipe's 64 KiB), copied in. */
  push(chunk: Uint8Array): void {
    copyInto(this, chunk);
  }

  /** Bytes of an unfinished frame (a process that died mid-frame leaves some). */
  get pending(): number {
    return this.done;
  }

  reset(): void {
    this.done = 0;
  }

  /**
   * Gives up the frame being filled and starts the next in a buffer of its own; returns the one
   * given up. For a writer that may still write into it (a read asked for ahead): the caller
   * keeps it from being reused until that writer has gone.
   */
  setAside(): Uint8Array {
    const held = this.current;
    this.done = 0;
    this.current = this.allocate();
    return held;
  }
}

/** Writes `chunk` into a sink as reads would have: for streams that hand over chunks of their own. */
export function copyInto(sink: FrameSink, chunk: Uint8Array): void {
  let offset = 0;
  while (offset < chunk.length) {
    const target = sink.next();
    const n = Math.min(target.length, chunk.length - offset);
    target.set(chunk.subarray(offset, offset + n));
    offset += n;
    sink.filled(n);
  }
}
