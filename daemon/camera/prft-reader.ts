/** NTP's epoch (1900) before Unix's, in seconds. */
const NTP_UNIX_S = 2_208_988_800;

/**
 * The most a box of FFmpeg's fragmented MP4 may hold: one frame's `mdat` (a 4K key frame is a few
 * MB) with a wide margin. The reader never holds a box's payload, only counts it, so this bounds
 * how long one box may claim the stream, not memory.
 */
export const MAX_BOX_BYTES = 64 * 1024 * 1024;
/** A `prft` box is 28 bytes (version 0, 32-bit media time) or 32 (version 1). */
const PRFT_BYTES = { 0: 28, 1: 32 } as const;

/** Why the reader stopped: the stream is not the fragmented MP4 it expects. */
export interface BoxFailure {
  readonly message: string;
}

/**
 * Reads the producer reference times out of FFmpeg's fragmented MP4 (`-f mp4 -movflags
 * frag_every_frame+empty_moov -write_prft wallclock`): `onTime` gets each `prft` box's wall-clock
 * time (Unix ms) as soon as its 28 or 32 bytes are in. Only top-level boxes are read (FFmpeg writes
 * `prft` before each `moof`); every other box's payload is counted and skipped, never kept, so the
 * reader holds at most a header's 16 bytes or a `prft`'s 32 whatever the stream.
 *
 * Hostile by default: the first box must be `ftyp`, a type four printable ASCII characters, a size
 * at least its header and at most MAX_BOX_BYTES (none "to the end of the file"), a `prft` of
 * version 0 or 1 and its exact size. The first box that is not ends the reader for good
 * (`failure()` says why); what comes after is dropped unread, so its bytes can be fed on without
 * effect (FFmpeg's pipe must still be drained, or it would stop writing the frames too).
 */
export class PrftReader {
  /** A header (up to 16 bytes) or a whole prft (up to 32). */
  private readonly head = new Uint8Array(PRFT_BYTES[1]);
  private held = 0;
  /** Bytes `head` must hold before the next step. */
  private want = 8;
  /** Payload bytes of the current (skipped) box still to come. */
  private skipping = 0;
  private boxes = 0;
  private failed: BoxFailure | undefined;

  constructor(private readonly onTime: (unixMs: number) => void) {}

  /** Why it stopped, or undefined while it reads. */
  failure(): BoxFailure | undefined {
    return this.failed;
  }

  push(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length && !this.failed) {
      if (this.skipping > 0) {
        const n = Math.min(this.skipping, chunk.length - at);
        this.skipping -= n;
        at += n;
        continue;
      }
      const n = Math.min(this.want - this.held, chunk.length - at);
      this.head.set(chunk.subarray(at, at + n), this.held);
      this.held += n;
      at += n;
      if (this.held === this.want) this.step();
    }
  }

  private step(): void {
    const size32 = readU32(this.head, 0);
    if (size32 === 1 && this.held < 16) {
      this.want = 16;
      return;
    }
    const type = this.type();
    if (type === undefined) return this.fail(`a box type that is not four printable characters (bytes ${hex(this.head.subarray(4, 8))})`);
    if (this.boxes === 0 && type !== 'ftyp') return this.fail(`the stream starts with a ${type} box, not ftyp`);
    if (size32 === 0) return this.fail(`a ${type} box that runs to the end of the stream`);
    const headerBytes = size32 === 1 ? 16 : 8;
    const size = size32 === 1 ? readU32(this.head, 8) * 2 ** 32 + readU32(this.head, 12) : size32;
    if (size < headerBytes || size > MAX_BOX_BYTES) return this.fail(`a ${type} box of ${size} bytes (at least ${headerBytes}, at most ${MAX_BOX_BYTES})`);
    if (type !== 'prft') {
      this.next();
      this.skipping = size - headerBytes;
      return;
    }
    if (size32 === 1 || (size !== PRFT_BYTES[0] && size !== PRFT_BYTES[1])) return this.fail(`a prft box of ${size} bytes${size32 === 1 ? ' with a 64-bit size' : ''}, not ${PRFT_BYTES[0]} or ${PRFT_BYTES[1]}`);
    if (this.held < size) {
      this.want = size;
      return;
    }
    const version = this.head[8]!;
    if (size !== PRFT_BYTES[version as 0 | 1]) return this.fail(`a prft box of version ${version} and ${size} bytes`);
    // Version and flags (4 bytes), track_ID (4), then the NTP time: 32 bits of seconds since 1900, 32 of fraction.
    const seconds = readU32(this.head, 16);
    const fraction = readU32(this.head, 20);
    this.next();
    this.onTime((seconds - NTP_UNIX_S) * 1000 + (fraction / 2 ** 32) * 1000);
  }

  /** The box is done: the next one's header comes. */
  private next(): void {
    this.boxes++;
    this.held = 0;
    this.want = 8;
  }

  private type(): string | undefined {
    for (let i = 4; i < 8; i++) if (this.head[i]! < 0x20 || this.head[i]! > 0x7e) return undefined;
    return String.fromCharCode(...this.head.subarray(4, 8));
  }

  private fail(message: string): void {
    this.failed = { message };
    this.held = 0;
    this.skipping = 0;
  }
}

function readU32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) >>> 0) + (b[at + 1]! << 16) + (b[at + 2]! << 8) + b[at + 3]!;
}

function hex(b: Uint8Array): string {
  return [...b].map((v) => v.toString(16).padStart(2, '0')).join(' ');
}
