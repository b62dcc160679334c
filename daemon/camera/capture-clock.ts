import type { Logger } from '../base/log.js';
import { CaptureLatency, type CaptureClockKind, type CaptureClockNews } from './capture-latency.js';
import { PrftReader } from './prft-reader.js';

/** What `status` says of a camera whose capture times are measured. */
export interface CaptureClockStatus {
  /** `camera` while its frames are timed by its own clock, `arrival` while by when they came. */
  clock: CaptureClockKind;
  /** The latency measured (arrival − the camera's time, ms, rounded), or null while not trusted. */
  latency_ms: number | null;
}

const SAID: Record<Exclude<CaptureClockNews, 'trusted'>, string> = {
  never:
    "camera clock: no usable capture time from the camera's RTCP sender reports; its frames are timed by their arrival, so a lag behind the door's other cameras goes unseen (turn on the camera's RTCP sender reports and NTP)",
  lost: "camera clock: the camera's times no longer give a steady latency; its frames are timed by their arrival until they do (check the camera's NTP setting)",
  jumped_back: "camera clock: the camera's clock jumped back; its frames are timed by their arrival until its latency is measured again (check the camera's NTP setting)",
};

/**
 * One camera's capture clock across its FFmpeg sessions: the prft boxes of each session's clock
 * output (ffmpeg-args.ts, clockOutputArgs) read as they come, the latency they give, and each
 * frame's capture time from it. Each thing that puts the camera back on arrival time is said once
 * per camera (FG_WARN_CAMERA_CLOCK), not once per session: a camera that sends no reports would
 * say it at every reconnect otherwise.
 */
export class CaptureClock {
  private reader: PrftReader | undefined;
  private latency = new CaptureLatency();
  private readonly said = new Set<string>();
  /** When the chunk being read came (Unix ms): the arrival of every box it completes. */
  private arrivalMs = 0;

  constructor(
    private readonly log: Logger,
    /** This host's wall clock (Unix ms), which the camera's times are compared with. */
    private readonly wallNow: () => number = Date.now,
  ) {}

  /** A new FFmpeg session: its stream starts afresh, and so does its latency. */
  session(): void {
    this.latency = new CaptureLatency();
    const latency = this.latency;
    this.reader = new PrftReader((cameraMs) => this.news(latency.push(this.arrivalMs, cameraMs)));
  }

  /** A chunk of the session's clock output, as it came. Never throws: a malformed box ends this session's reading. */
  chunk(data: Uint8Array): void {
    const reader = this.reader;
    if (!reader || reader.failure()) return;
    this.arrivalMs = this.wallNow();
    reader.push(data);
    if (!reader.failure()) return;
    this.latency = new CaptureLatency();
    this.sayOnce('stream', { reason: reader.failure()!.message }, "camera clock: FFmpeg's clock output could not be read; the camera's frames are timed by their arrival until it reconnects (report it with the FFmpeg version)", 'FG_WARN_CAMERA_CLOCK_STREAM');
  }

  /** A frame read at `monoMs`: when the camera took it, and by which clock. */
  captured(monoMs: number): { capturedMs: number; clock: CaptureClockKind } {
    const latency = this.latency.latencyMs;
    return latency === undefined ? { capturedMs: monoMs, clock: 'arrival' } : { capturedMs: monoMs - latency, clock: 'camera' };
  }

  status(): CaptureClockStatus {
    const latency = this.latency.latencyMs;
    return { clock: latency === undefined ? 'arrival' : 'camera', latency_ms: latency === undefined ? null : Math.round(latency) };
  }

  private news(news: CaptureClockNews | undefined): void {
    if (news === undefined) return;
    if (news === 'trusted') {
      this.log.info({ latency_ms: this.status().latency_ms }, "camera clock: frames are timed by the camera's own clock");
      return;
    }
    this.sayOnce(news, {}, SAID[news], 'FG_WARN_CAMERA_CLOCK');
  }

  private sayOnce(what: string, fields: Record<string, unknown>, message: string, code: string): void {
    if (this.said.has(what)) return;
    this.said.add(what);
    this.log.warn({ code, ...fields }, message);
  }
}
