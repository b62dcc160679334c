/**
 * Which clock a frame's capture time is on: `camera` where it is its arrival less its camera's
 * measured latency (the camera's own clock, through its RTCP sender reports), `arrival` where it is
 * when FFmpeg handed it over.
 */
export type CaptureClockKind = 'camera' | 'arrival';

/**
 * How a camera's latency (arrival on this host − the camera's own time of a packet) is measured and
 * when it is trusted (docs/camera.md, "Capture times"):
 * - `window` samples, the latest (a few seconds of stream: 4 s at 6 fps, 1.6 s at 15);
 * - trusted while at least `share` of them lie in [`minMs`, `maxMs`]: before a camera's first RTCP
 *   report FFmpeg writes its time of muxing instead, which reads −1 frame interval (−167 ms at
 *   6 fps, −33 at 30), and a camera whose clock runs ahead of this host's reads negative too: both
 *   are left out. `minMs` allows clocks on one NTP server their few ms; `maxMs` is more than any
 *   camera's buffer, less than a clock set by hand.
 * - a camera time more than `jumpBackMs` before the one of the packet before it (its clock was set
 *   back; B-frames step packets' times back by a few frame intervals by design) starts the window
 *   afresh.
 * - a camera still untrusted `untrustedAfterMs` after its first box is said to be on arrival time
 *   (its first report comes 1–3 s after the first packet on the tests' server, and the window
 *   fills after it).
 */
export const CAPTURE_LATENCY = { window: 24, share: 0.9, minMs: -5, maxMs: 3000, jumpBackMs: 2000, untrustedAfterMs: 12_000 } as const;

export type CaptureLatencyOptions = typeof CAPTURE_LATENCY;

/**
 * The latency the samples give: their median, where the window is full and at least `share` of them
 * are in range; undefined otherwise.
 */
export function trustedLatency(samples: readonly number[], o: Pick<CaptureLatencyOptions, 'window' | 'share' | 'minMs' | 'maxMs'> = CAPTURE_LATENCY): number | undefined {
  if (samples.length < o.window) return undefined;
  const recent = samples.slice(-o.window);
  const inRange = recent.filter((s) => Number.isFinite(s) && s >= o.minMs && s <= o.maxMs).length;
  if (inRange < o.share * recent.length) return undefined;
  const sorted = [...recent].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * What changed with a box: the camera's time became trusted, stopped being trusted (`lost`), its
 * clock jumped back (`jumped_back`, the window starts again), or it never was trusted in time
 * (`never`, once per session).
 */
export type CaptureClockNews = 'trusted' | 'lost' | 'jumped_back' | 'never';

/**
 * One FFmpeg session's latency estimate. Box k of the fragmented MP4 comes out when packet k+1
 * comes in (the muxer writes a fragment when the next packet arrives), so the sample is box k's
 * arrival less box k+1's camera time: what packet k+1 took from the camera's clock to this host.
 * Both times are wall-clock (Unix ms): the camera's by its reports, the arrival by this host's.
 */
export class CaptureLatency {
  private readonly samples: number[] = [];
  private previous: { arrivalMs: number; cameraMs: number } | undefined;
  private firstArrivalMs: number | undefined;
  private latency: number | undefined;
  /** Whether `never` was said, or need not be: the camera's time was trusted once this session. */
  private neverSaid = false;

  constructor(private readonly o: CaptureLatencyOptions = CAPTURE_LATENCY) {}

  /** The latency now (ms), or undefined while the camera's time is not trusted. */
  get latencyMs(): number | undefined {
    return this.latency;
  }

  /** A prft box's camera time (Unix ms), arrived at `arrivalMs` (this host's Unix ms). */
  push(arrivalMs: number, cameraMs: number): CaptureClockNews | undefined {
    this.firstArrivalMs ??= arrivalMs;
    const previous = this.previous;
    this.previous = { arrivalMs, cameraMs };
    const was = this.latency;
    if (previous && cameraMs < previous.cameraMs - this.o.jumpBackMs) {
      this.samples.length = 0;
      this.latency = undefined;
      return was === undefined ? undefined : 'jumped_back';
    }
    if (previous) {
      this.samples.push(previous.arrivalMs - cameraMs);
      if (this.samples.length > this.o.window) this.samples.shift();
    }
    this.latency = trustedLatency(this.samples, this.o);
    if (was === undefined && this.latency !== undefined) {
      this.neverSaid = true;
      return 'trusted';
    }
    if (was !== undefined && this.latency === undefined) return 'lost';
    if (this.latency === undefined && !this.neverSaid && arrivalMs - this.firstArrivalMs >= this.o.untrustedAfterMs) {
      this.neverSaid = true;
      return 'never';
    }
    return undefined;
  }
}
