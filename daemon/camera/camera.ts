import type { Logger } from '../base/log.js';
import { backoffDelayMs, healthyPeriodMs, type BackoffPolicy } from './backoff.js';
import { CaptureClock, type CaptureClockStatus } from './capture-clock.js';
import type { CameraConfig } from './config.js';
import { barsToSay, CLOCK_FD, ffmpegCommand, outputFps, type Decoding } from './ffmpeg-args.js';
import { classifyFfmpegStderr, needsAPerson, type Failure } from './ffmpeg-errors.js';
import { FfmpegLog } from './ffmpeg-log.js';
import type { Frame } from './frame.js';
import { FramePool } from './frame-pool.js';
import { copyInto, FrameAssembler, type FrameSink } from './frame-reader.js';
import { HourCounter, rateAttention, RateMeter, type CameraHealth, type CameraState } from './health.js';
import { FrameQueue } from './frame-queue.js';
import { spawnFfmpeg, systemClock, systemTimers, type Clock, type FfmpegProcess, type SpawnFfmpeg, type Timers } from './process.js';
import { sourceKind } from './source.js';
import { StallWatchdog } from './stall-watchdog.js';
import { redactText } from '../base/log.js';
import { yuv420Layout } from '../base/yuv.js';

export interface CameraDeps {
  logger: Logger;
  spawn?: SpawnFfmpeg;
  clock?: Clock;
  timers?: Timers;
  random?: () => number;
  /** The FFmpeg executable; 'ffmpeg' on PATH by default. */
  ffmpegPath?: string;
  /** First reconnect delay; later ones double up to backoff_max_s. */
  backoffBaseMs?: number;
  /** After SIGTERM, how long FFmpeg gets before SIGKILL. */
  killGraceMs?: number;
  /**
   * Time frames by the camera's own clock where it is an RTSP camera (capture-clock.ts): for the
   * cameras of a door, whose looks are paired by capture time. A camera in no door pays nothing.
   */
  captureClock?: boolean;
  /** This host's wall clock (Unix ms), for the camera clock; Date.now by default. */
  wallNow?: () => number;
}

/** What the rest of the daemon sees of a camera. */
export interface CameraSource {
  readonly name: string;
  start(signal?: AbortSignal): void;
  stop(): Promise<void>;
  /**
   * The newest frame, taken or not; for viewers that must not steal frames from the pipeline. Its
   * pixels may be reused for a later frame once two newer ones have arrived: copy them before
   * working on them asynchronously.
   */
  latest(): Frame | undefined;
  /**
   * The oldest frame not yet taken, waiting for one; a frame that finds QUEUED_FRAMES unread is
   * queued and the oldest of them is dropped and counted. The frame's pixels are the caller's until
   * it asks for the next frame.
   */
  next(signal?: AbortSignal): Promise<Frame | undefined>;
  frames(signal?: AbortSignal): AsyncIterable<Frame>;
  /**
   * A quiet scene is watched for less (the stream's key frames only, or every frame of the sub
   * stream where the camera has one), and every frame of the stream again once something moves:
   * FFmpeg is started again at once, which is no disconnect; its frames come from the next key frame.
   * A sub stream takes over only at its first frame, the main stream read until then.
   */
  setQuiet(quiet: boolean): void;
  health(): CameraHealth;
  /** Called on every state change; returns the unsubscribe function. */
  onState(listener: (health: CameraHealth) => void): () => void;
}

/**
 * Frames a camera keeps for a pipeline that is late: a moment's delay (the other cameras'
 * detections queued on the same vision worker, a garbage collection) is caught up on instead of
 * costing frames, and blinks are sampled at the camera's rate; a pipeline that stays behind works
 * at most this many frames (133 ms at 15 fps) behind the camera, losing the oldest.
 */
const QUEUED_FRAMES = 2;
/**
 * Frame buffers a camera reuses (see FramePool): the one FFmpeg fills, those waiting in the queue,
 * and the one the pipeline works on.
 */
const POOLED_FRAMES = QUEUED_FRAMES + 2;

const END_OF_FILE: Failure = { kind: 'ended', message: 'end of the video file' };

const DECODING_SAID: Readonly<Record<Decoding, string>> = {
  all: 'camera: something moved, decoding every frame',
  keyframes: 'camera: the scene is quiet, decoding key frames only',
  sub_stream: 'camera: the scene is quiet, watching the sub stream',
};

/**
 * Key frames come one a GOP (1–4 s on most cameras, longer on some "smart" codecs), so a camera
 * that decodes only those is given this many times its watchdog before it counts as stalled.
 */
const KEYFRAME_WATCHDOG_FACTOR = 3;

/**
 * One camera: one FFmpeg child at a time writing raw YUV 4:2:0 frames (beside it while the scene is
 * quiet, the one started ahead for the switch back, and at a switch to the sub stream the sub
 * stream's until its first frame), a no-frame watchdog (StallWatchdog), and reconnects with capped
 * exponential backoff. Nothing here blocks on another camera: each has its own processes, timers
 * and frame queue.
 */
export class FfmpegCamera implements CameraSource {
  readonly name: string;
  private readonly log: Logger;
  private readonly spawn: SpawnFfmpeg;
  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly random: () => number;
  private readonly policy: BackoffPolicy;
  private readonly killGraceMs: number;
  private readonly source: string;

  private readonly pool: FramePool;
  private readonly queue: FrameQueue<Frame>;
  /** The frame the last `next()` returned: its buffer is held until the next call. */
  private taken: Frame | undefined;
  /** What the current FFmpeg's log said: its error lines, the stream's matrix and size (each FFmpeg has its own). */
  private ffmpegLog = new FfmpegLog();
  /** Whether a stream of another aspect than width×height was said in the log: once per camera, not per reconnect. */
  private letterboxSaid = false;
  /** Whether an interlaced stream read without deinterlace was said in the log: once per camera. */
  private interlacedSaid = false;
  private readonly inMeter = new RateMeter();
  private readonly processedMeter = new RateMeter();
  private readonly reconnects = new HourCounter();
  private readonly stalls = new HourCounter();
  private readonly listeners = new Set<(health: CameraHealth) => void>();
  private readonly assembler: FrameAssembler;
  /** Where bytes that no frame wants are read to (frameSink). */
  private readonly scratch = new Uint8Array(64 * 1024);
  private pipeFallbackSaid = false;
  private readonly watchdog: StallWatchdog;
  /** The camera's own clock, where it is measured (an RTSP camera of a door). */
  private readonly captureClock: CaptureClock | undefined;

  private state: CameraState = 'stopped';
  /** The decoding asked for, and the running FFmpeg's (they differ while it is being switched). */
  private decoding: Decoding = 'all';
  private processDecoding: Decoding = 'all';
  /** FFmpeg is being stopped to start again with the other decoding: its exit is no failure. */
  private switching = false;
  /** The sub stream failed in this quiet spell: the rest of it is watched on the stream's key frames. */
  private subStreamFailed = false;
  /**
   * Where this process's frame times start: 0 after a (re)connect, and after a switch of decoding
   * the last frame's time plus the real time between, so that the tracker sees the gap it was.
   */
  private ptsBase = 0;
  private continuePts = false;
  private lastFrame = { pts: 0, at: 0 };
  private child: FfmpegProcess | undefined;
  /**
   * While the scene is quiet, an FFmpeg for every frame of the main stream, started and waiting
   * for its input script on stdin (`release` writes it). Debian's FFmpeg spends ~0.13 s of CPU
   * loading its libraries before it opens a stream, and four starting at once on two cores took
   * 0.4 s: started only when something moves, it missed the key frame due soon after and waited a
   * whole GOP more for the next. Started ahead, it is told its input once the key-frame one has
   * gone: never two readers of one stream at once, since a UDP port takes one and a camera may allow
   * few RTSP sessions. From the sub stream, another stream, it is told at once.
   */
  private standby: { child: FfmpegProcess; release: () => void } | undefined;
  /** Whether the current FFmpeg is the standby, told to read: its first frame's log says so. */
  private startedAhead = false;
  /**
   * The sub stream's FFmpeg, started while the main stream's goes on: it becomes the current one
   * at its first whole frame, and the main one is stopped then. Stopped first, the main stream
   * left the camera blind until the sub stream's first key frame (up to a GOP, and FFmpeg's start):
   * a visitor coming in then was seen that much later. Two streams, so never two readers of one.
   * Its own watchdog: the main stream's frames keep the camera's from firing. Its first frame is
   * read into a buffer of its own (`first`, `filled` bytes so far), outside the pool, whose
   * buffers the main stream's frames hold.
   */
  private incoming: Incoming | undefined;
  /** Every FFmpeg not yet gone (the current one, the standby, the incoming, those being stopped): its exit and its log. */
  private readonly alive = new Map<FfmpegProcess, { gone: Promise<void>; log: FfmpegLog }>();
  private killReason: Failure | undefined;
  private attempt = 0;
  private seq = 0;
  private frameIndex = 0;
  private spawnedAt = 0;
  private firstFrameAt: number | undefined;
  private ttffMs: number | null = null;
  private lastError: CameraHealth['last_error'] = null;
  private retryTimer: unknown;
  private running = false;
  /** The last stop, under way or done. */
  private stopped: Promise<void> | undefined;

  constructor(
    private readonly config: CameraConfig,
    private readonly deps: CameraDeps,
  ) {
    this.name = config.name;
    this.source = redactText(config.url);
    this.log = deps.logger.child({ stage: 'camera', camera: config.name });
    this.spawn = deps.spawn ?? spawnFfmpeg;
    this.clock = deps.clock ?? systemClock;
    this.timers = deps.timers ?? systemTimers;
    this.random = deps.random ?? Math.random;
    this.policy = { baseMs: deps.backoffBaseMs ?? 500, maxMs: config.backoff_max_s * 1000 };
    this.watchdog = new StallWatchdog(this.clock, this.timers, () => this.onStall());
    this.killGraceMs = deps.killGraceMs ?? 1000;
    const frameBytes = yuv420Layout(config.width, config.height).bytes;
    this.pool = new FramePool(frameBytes, POOLED_FRAMES);
    this.queue = new FrameQueue<Frame>(QUEUED_FRAMES, { onTake: (f) => this.pool.retain(f.image.data), onEvict: (f) => this.pool.release(f.image.data) });
    this.assembler = new FrameAssembler(frameBytes, (data) => this.onFrame(data), () => this.pool.acquire());
    this.captureClock = deps.captureClock && sourceKind(config.url) === 'rtsp' ? new CaptureClock(this.log, deps.wallNow) : undefined;
  }

  /** Which clock the camera's frames are timed by and its latency, or undefined where it is not measured. */
  captureClockStatus(): CaptureClockStatus | undefined {
    return this.captureClock?.status();
  }

  start(signal?: AbortSignal): void {
    if (this.running) return;
    this.running = true;
    signal?.addEventListener('abort', () => void this.stop(), { once: true });
    this.log.info({ source: this.source, width: this.config.width, height: this.config.height, fps: this.config.fps }, 'camera starting');
    this.connect();
  }

  /**
   * Stops the camera; resolves once its FFmpeg is gone. A second call (the abort signal's stop,
   * then the owner's) waits for the same: returning at once would let the daemon exit with FFmpeg
   * still running, to outlive it when SIGTERM did not end it and the SIGKILL never came.
   */
  stop(): Promise<void> {
    if (this.running) {
      this.running = false;
      this.stopped = this.halt();
    }
    return this.stopped ?? Promise.resolve();
  }

  private async halt(): Promise<void> {
    this.timers.clearTimeout(this.retryTimer);
    this.watchdog.stop();
    this.dropIncoming();
    for (const child of [this.child, this.standby?.child]) if (child) this.stopFfmpeg(child);
    this.child = undefined;
    this.standby = undefined;
    await Promise.all([...this.alive.values()].map((a) => a.gone));
    this.queue.close();
    this.setState('stopped');
    this.log.info('camera stopped');
  }

  latest(): Frame | undefined {
    return this.queue.peek();
  }

  async next(signal?: AbortSignal): Promise<Frame | undefined> {
    if (this.taken) this.pool.release(this.taken.image.data);
    this.taken = undefined;
    const frame = await this.queue.take(signal);
    this.taken = frame;
    if (frame) this.processedMeter.mark(this.clock.now());
    return frame;
  }

  setQuiet(quiet: boolean): void {
    if (!quiet) this.subStreamFailed = false;
    this.setDecoding(!quiet ? 'all' : this.config.sub_url !== undefined && !this.subStreamFailed ? 'sub_stream' : 'keyframes');
  }

  private setDecoding(decoding: Decoding): void {
    if (decoding === this.decoding) return;
    this.decoding = decoding;
    this.log.info({ decoding }, DECODING_SAID[decoding]);
    if (!this.child || this.killReason) return; // the next start decodes so
    if (this.incoming) {
      // Something moved before the sub stream's first frame: the main stream reads on.
      this.dropIncoming();
      if (decoding === this.processDecoding) return;
    }
    if (decoding === 'sub_stream' && this.processDecoding === 'all' && this.firstFrameAt !== undefined && !this.switching) {
      this.startIncoming();
      return;
    }
    if (decoding === 'all' && this.processDecoding === 'sub_stream' && this.standby && !this.switching) {
      this.backToMainStream();
      return;
    }
    this.restart();
  }

  /**
   * From the sub stream back to every frame of the main one: two streams, so the FFmpeg started
   * ahead for the main stream is told its input at once, while the sub stream's is being stopped,
   * rather than once it has gone (50-110 ms later). The camera waits for the main stream's first
   * key frame either way; it no longer waits for that exit before asking for it.
   */
  private backToMainStream(): void {
    const standby = this.takeStandby()!;
    this.retire(this.child);
    this.continuePts = true;
    this.adopt(standby, 'all', this.clock.now(), true);
  }

  /** The current FFmpeg stopped to start again at once with the decoding asked for: no disconnect. */
  private restart(): void {
    if (!this.child || this.killReason) return;
    this.switching = true;
    this.terminate();
  }

  async *frames(signal?: AbortSignal): AsyncIterable<Frame> {
    for (;;) {
      const frame = await this.next(signal);
      if (!frame) return;
      yield frame;
    }
  }

  health(): CameraHealth {
    const now = this.clock.now();
    const health = {
      camera: this.name,
      source: this.source,
      state: this.state,
      decoding: this.decoding,
      fps_in: round1(this.inMeter.rate(now)),
      fps_asked: this.config.fps,
      fps_source: this.ffmpegLog.sourceFps,
      fps_processed: round1(this.processedMeter.rate(now)),
      frames_skipped: this.queue.dropped,
      frames_unpooled: this.pool.overflows,
      frames_in: this.seq,
      reconnects_last_hour: this.reconnects.count(now),
      stalls_last_hour: this.stalls.count(now),
      reconnects_total: this.reconnects.total,
      stalls_total: this.stalls.total,
      last_error: this.lastError,
      time_to_first_frame_ms: this.ttffMs,
    };
    return { ...health, attention: rateAttention(health, this.firstFrameAt === undefined ? 0 : now - this.firstFrameAt) };
  }

  onState(listener: (health: CameraHealth) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private connect(): void {
    this.retryTimer = undefined;
    if (!this.running) return;
    this.setState('connecting');
    this.assembler.reset();
    this.killReason = undefined;
    this.switching = false;
    const decoding = this.decoding;
    const spawnedAt = this.clock.now();
    const standby = decoding === 'all' ? this.takeStandby() : undefined;
    let child: FfmpegProcess;
    try {
      child = standby ?? this.startFfmpeg(ffmpegCommand(this.config, this.captureClock !== undefined, decoding));
    } catch (e) {
      this.ffmpegLog = new FfmpegLog();
      this.processDecoding = decoding;
      this.afterExit(ffmpegMissing(e));
      return;
    }
    this.adopt(child, decoding, spawnedAt, standby !== undefined);
  }

  /** `child` becomes the camera's current FFmpeg: its frames, log and exit are the camera's from now. */
  private adopt(child: FfmpegProcess, decoding: Decoding, spawnedAt: number, startedAhead: boolean): void {
    this.child = child;
    this.ffmpegLog = this.alive.get(child)?.log ?? new FfmpegLog();
    this.processDecoding = decoding;
    this.startedAhead = startedAhead;
    this.frameIndex = 0;
    this.firstFrameAt = undefined;
    this.spawnedAt = spawnedAt;
    this.captureClock?.session();
    this.watchdog.start(spawnedAt, this.watchdogS() * 1000);
    if (decoding !== 'all') this.prepareStandby();
  }

  /** The sub stream's FFmpeg started beside the main one (see `incoming`). */
  private startIncoming(): void {
    const spawnedAt = this.clock.now();
    let child: FfmpegProcess;
    try {
      child = this.startFfmpeg(ffmpegCommand(this.config, this.captureClock !== undefined, 'sub_stream'));
    } catch (e) {
      this.subStreamFailure(ffmpegMissing(e));
      this.restart();
      return;
    }
    const watchdog = new StallWatchdog(this.clock, this.timers, () => {
      const incoming = this.incoming;
      if (incoming?.child !== child) return;
      incoming.killReason = classifyStalledConnect(this.alive.get(child)?.log.errors() ?? [], this.config.watchdog_s);
      this.stopFfmpeg(child);
    });
    watchdog.start(spawnedAt, this.config.watchdog_s * 1000);
    this.incoming = { child, spawnedAt, watchdog, first: new Uint8Array(this.assembler.frameBytes), filled: 0 };
  }

  /** The incoming FFmpeg (if any) stopped and forgotten: its exit is nobody's failure. */
  private dropIncoming(): void {
    const incoming = this.takeIncoming();
    if (incoming) this.stopFfmpeg(incoming.child);
  }

  /** The incoming FFmpeg's record, no longer the camera's and its watchdog stopped: every way out of it starts here. */
  private takeIncoming(): Incoming | undefined {
    const incoming = this.incoming;
    this.incoming = undefined;
    incoming?.watchdog.stop();
    return incoming;
  }

  /**
   * The incoming FFmpeg's first whole frame has been read: it becomes the current one, with that
   * frame, and the main stream's is retired.
   */
  private handOver(incoming: Incoming): void {
    this.takeIncoming();
    this.retire(this.child);
    this.continuePts = true;
    this.adopt(incoming.child, 'sub_stream', incoming.spawnedAt, false);
    this.onFrame(incoming.first);
  }

  /**
   * The current FFmpeg stopped because another takes over at once (its exit is then nobody's
   * failure: it is no longer current). The frame being filled may still be written by a read it
   * asked for ahead, so its buffer is set aside until that FFmpeg has gone.
   */
  private retire(old: FfmpegProcess | undefined): void {
    const held = this.assembler.setAside();
    void ((old && this.alive.get(old)?.gone) ?? Promise.resolve()).then(() => this.pool.release(held));
    if (old) this.stopFfmpeg(old);
  }

  /** An FFmpeg whose frames, log and exit count while it is the camera's current one. */
  private startFfmpeg(command: { args: string[]; stdin: string | Promise<string> | null }): FfmpegProcess {
    const child: FfmpegProcess = this.spawn(this.deps.ffmpegPath ?? 'ffmpeg', command.args, command.stdin, {
      clockPipe: this.captureClock !== undefined,
      frames: this.frameSink(
        () => this.child === child && !this.killReason,
        // Not while the current one is being killed: its exit reconnects, and drops this one.
        () => (this.incoming?.child === child && !this.killReason ? this.incoming : undefined),
      ),
      onPipeFallback: (err) => this.sayPipeFallback(err),
    });
    let gone!: () => void;
    const log = new FfmpegLog();
    this.alive.set(child, { gone: new Promise<void>((resolve) => (gone = resolve)), log });
    const ended = (failure: Failure | undefined, clean: boolean) => {
      if (!this.alive.delete(child)) return;
      gone();
      this.onExit(child, failure, clean);
    };
    child.stderr?.on('data', (chunk: Buffer | string) => log.push(chunk.toString()));
    const captureClock = this.captureClock;
    // Always drained, read or not: FFmpeg writing into a full pipe would stop the frames too.
    child.stdio?.[CLOCK_FD]?.on('data', (chunk: Uint8Array) => {
      if (this.child === child) captureClock?.chunk(chunk);
    });
    child.once('error', (err) => {
      // A process that never started gets no 'close'.
      if (child.pid === undefined) ended(ffmpegMissing(err), false);
    });
    child.once('close', (code) => ended(code === 0 ? undefined : classifyFfmpegStderr(log.errors()), code === 0));
    return child;
  }

  /** The standby (see `standby`) started, where the camera is a network stream and has none. */
  private prepareStandby(): void {
    if (this.standby || sourceKind(this.config.url) === 'file') return;
    const command = ffmpegCommand(this.config, this.captureClock !== undefined, 'all', true);
    const script = command.stdin;
    if (script === null) return;
    let release!: () => void;
    const released = new Promise<string>((resolve) => (release = () => resolve(script)));
    try {
      this.standby = { child: this.startFfmpeg({ args: command.args, stdin: released }), release };
    } catch (e) {
      // Not fatal: the switch back starts an FFmpeg then, as without a standby.
      this.log.warn({ err: e }, 'camera: could not start FFmpeg ahead for the switch back to every frame');
    }
  }

  /** The standby, told to read the stream; undefined where there is none (or it has gone). */
  private takeStandby(): FfmpegProcess | undefined {
    const standby = this.standby;
    this.standby = undefined;
    standby?.release();
    return standby?.child;
  }

  /** SIGTERM, then SIGKILL after the grace if it has not gone (a frozen FFmpeg may ignore SIGTERM). */
  private stopFfmpeg(child: FfmpegProcess): void {
    if (!this.alive.has(child)) return;
    child.kill('SIGTERM');
    const timer = this.timers.setTimeout(() => {
      if (this.alive.has(child)) child.kill('SIGKILL');
    }, this.killGraceMs);
    void this.alive.get(child)?.gone.then(() => this.timers.clearTimeout(timer));
  }

  /**
   * The frames of one FFmpeg process, read into the frame being filled while it is the camera's
   * current one and not being killed; anything else it writes is read into a scratch buffer and
   * dropped, as are the bytes of a read that stopped being current while it was under way. Node
   * asks for each read's buffer before the read: the standby's first one, asked for while it
   * waited, is scratch, and what comes into it once the standby is current is copied into the frame.
   * The incoming FFmpeg's first frame is read into its own buffer and no further, so that it is
   * current from the first byte of its second.
   */
  private frameSink(current: () => boolean, incoming: () => Incoming | undefined): FrameSink {
    let dropping = false;
    return {
      next: () => {
        const first = incoming();
        if (first) return first.first.subarray(first.filled);
        dropping = !current();
        return dropping ? this.scratch : this.assembler.next();
      },
      filled: (bytes) => {
        const first = incoming();
        if (first) {
          first.filled += bytes;
          if (first.filled >= first.first.length) this.handOver(first);
          return;
        }
        if (!current()) return;
        if (dropping) copyInto(this.assembler, this.scratch.subarray(0, bytes));
        else this.assembler.filled(bytes);
      },
    };
  }

  /** Said once a camera: the frames still come, at a little more CPU each. */
  private sayPipeFallback(err: Error): void {
    if (this.pipeFallbackSaid) return;
    this.pipeFallbackSaid = true;
    this.log.warn(
      { reason: err.message },
      "camera: frames are read from a pipe (about 1.5 ms more CPU a 1080p frame): no socket could be made in the temporary directory; give the service a writable one (systemd's PrivateTmp, or TMPDIR)",
    );
  }

  private watchdogS(): number {
    return this.config.watchdog_s * (this.processDecoding === 'keyframes' ? KEYFRAME_WATCHDOG_FACTOR : 1);
  }

  /**
   * A stream of another aspect than width×height is fitted inside the frame with black bars
   * (outputArgs), so part of the frame carries no picture: said once, with a size in the stream's
   * proportion at the same height.
   */
  private sayLetterbox(): void {
    const stream = this.ffmpegLog.streamSize;
    if (this.letterboxSaid || !stream) return;
    const { width, height } = this.config;
    const bars = barsToSay(stream, { width, height });
    if (!bars) return;
    this.letterboxSaid = true;
    const { picture } = bars;
    this.log.warn(
      { stream: `${stream.width}x${stream.height}`, frame: `${width}x${height}`, picture: `${picture.width}x${picture.height}` },
      `camera: the stream's aspect differs from width×height, so its picture is fitted in with black bars; set width: ${bars.proportionalWidth}, height: ${height} (or another size in the stream's proportion) to use the whole frame`,
    );
  }

  /** The main stream interlaced and read without `deinterlace` (interlaceWarning): said once. A sub stream is never deinterlaced. */
  private sayInterlaced(): void {
    if (this.interlacedSaid || this.processDecoding === 'sub_stream' || !this.ffmpegLog.interlaced || this.config.deinterlace) return;
    this.interlacedSaid = true;
    this.log.warn({ code: 'FG_WARN_CAMERA_INTERLACED' }, 'camera: the stream is interlaced, so a moving face shows the lines of two fields; set deinterlace: true for this camera (or the camera or its encoder to progressive output)');
  }

  private onFrame(data: Uint8Array): void {
    const now = this.clock.now();
    this.watchdog.frame(now);
    if (this.firstFrameAt === undefined) {
      // After a switch of decoding, how long the camera saw nothing: from the last frame before it.
      const blind = this.continuePts ? { since_last_frame_ms: Math.round(now - this.lastFrame.at) } : {};
      this.ptsBase = this.continuePts ? this.lastFrame.pts + (now - this.lastFrame.at) / 1000 : 0;
      this.continuePts = false;
      this.firstFrameAt = now;
      this.ttffMs = Math.round(now - this.spawnedAt);
      const size = this.ffmpegLog.streamSize;
      const stream = size ? `${size.width}x${size.height}` : null;
      this.log.info({ time_to_first_frame_ms: this.ttffMs, matrix: this.ffmpegLog.matrix, stream, ...(this.ffmpegLog.interlaced ? { interlaced: true } : {}), ...(this.startedAhead ? { started_ahead: true } : {}), ...blind }, 'camera streaming');
      this.sayLetterbox();
      this.sayInterlaced();
      this.setState('streaming');
    }
    const { width, height } = this.config;
    // Key frames come as the camera sends them, not at a rate: timed by their arrival.
    const fps = outputFps(this.config, this.processDecoding);
    const pts = this.ptsBase + (fps === null ? (now - this.firstFrameAt) / 1000 : this.frameIndex / fps);
    this.lastFrame = { pts, at: now };
    const frame: Frame = { camera: this.name, image: { format: 'yuv420p', matrix: this.ffmpegLog.matrix, width, height, data }, seq: ++this.seq, monoMs: now, ...(this.captureClock?.captured(now) ?? { capturedMs: now, clock: 'arrival' }), pts };
    this.frameIndex++;
    this.inMeter.mark(now);
    this.queue.put(frame);
  }

  /** No frame for watchdog_s: FFmpeg is restarted, and a stream that had frames counts a stall. */
  private onStall(): void {
    if (!this.child || this.killReason) return;
    const seconds = this.watchdogS();
    if (this.firstFrameAt === undefined) {
      this.killReason = classifyStalledConnect(this.ffmpegLog.errors(), seconds);
    } else {
      this.killReason = { kind: 'stalled', message: `stalled: no new frame for ${seconds} s` };
      this.lastError = { ...this.killReason, at_ms: this.clock.now() };
      this.stalls.mark(this.clock.now());
      this.setState('stalled');
    }
    this.log.warn({ reason: this.killReason.message }, 'watchdog: restarting FFmpeg');
    this.terminate();
  }

  private terminate(): void {
    if (this.child) this.stopFfmpeg(this.child);
  }


  private onExit(child: FfmpegProcess, failure: Failure | undefined, clean = false): void {
    if (this.standby?.child === child) {
      // Gone while waiting: the switch back starts an FFmpeg then, as without a standby.
      this.standby = undefined;
      this.log.warn('camera: the FFmpeg started ahead for the switch back to every frame exited; the switch will start one');
      return;
    }
    const incoming = this.incoming?.child === child ? this.takeIncoming() : undefined;
    if (incoming) {
      // The sub stream gave no frame: the main stream's key frames watch this quiet spell.
      this.subStreamFailure(incoming.killReason ?? failure ?? { kind: 'ended', message: 'stream ended: the camera closed the connection' });
      this.restart();
      return;
    }
    if (this.child !== child) return;
    this.child = undefined;
    this.watchdog.stop();
    // The current stream is gone: whatever reconnects reads the stream the camera then wants.
    this.dropIncoming();
    if (!this.running) return;
    if (this.switching) {
      this.continuePts = true;
      this.connect();
      return;
    }
    if (clean && !this.killReason && sourceKind(this.config.url) === 'file' && !this.config.loop) {
      // A file that is not looped has simply been played to its end.
      this.running = false;
      this.lastError = { ...END_OF_FILE, at_ms: this.clock.now() };
      this.queue.close();
      this.setState('stopped');
      this.log.info('camera: end of file');
      return;
    }
    // FFmpeg exits with 0 when the server goes away: a disconnect like any other.
    this.afterExit(this.killReason ?? failure ?? { kind: 'ended', message: 'stream ended: the camera closed the connection' });
  }

  private afterExit(failure: Failure): void {
    const now = this.clock.now();
    if (this.processDecoding === 'sub_stream' && this.decoding === 'sub_stream') {
      // The main stream is another connection, most likely up, so it is read at once: no backoff,
      // no attempt counted, and the camera is never shown failed for what only its sub stream lacks.
      this.subStreamFailure(failure);
      this.continuePts = true;
      this.connect();
      return;
    }
    if (this.firstFrameAt !== undefined && now - this.firstFrameAt >= healthyPeriodMs(this.policy)) this.attempt = 0;
    this.attempt++;
    this.lastError = { ...failure, at_ms: now };
    const delay = backoffDelayMs(this.attempt, this.policy, this.random);
    this.log.warn({ error: failure.kind, reason: failure.message, attempt: this.attempt, retry_in_ms: delay }, 'camera disconnected');
    this.setState(needsAPerson(failure.kind) ? 'failed' : 'backoff');
    this.retryTimer = this.timers.setTimeout(() => {
      this.reconnects.mark(this.clock.now());
      this.connect();
    }, delay);
  }

  /**
   * A sub stream that fails (gone, refused, stalled) must not leave a quiet door unwatched: the
   * main stream's key frames watch the rest of this quiet spell, and last_error says what to fix.
   */
  private subStreamFailure(failure: Failure): void {
    this.subStreamFailed = true;
    this.decoding = 'keyframes';
    this.lastError = { ...failure, message: `sub stream: ${failure.message}`, at_ms: this.clock.now() };
    this.log.warn({ error: failure.kind, reason: this.lastError.message }, 'camera: the sub stream failed; the quiet scene is watched on key frames of url until something moves');
  }

  private setState(state: CameraState): void {
    if (state === this.state) return;
    this.state = state;
    const health = this.health();
    for (const listener of this.listeners) {
      try {
        listener(health);
      } catch (e) {
        this.log.error({ err: e }, 'camera state listener failed');
      }
    }
  }
}

/** The sub stream's FFmpeg while the main one still runs (FfmpegCamera's `incoming`). */
interface Incoming {
  child: FfmpegProcess;
  spawnedAt: number;
  watchdog: StallWatchdog;
  /** Why it was stopped, when it gave no frame in time. */
  killReason?: Failure;
  first: Uint8Array;
  filled: number;
}

/** No first frame in time: FFmpeg may have said why (slow DNS, auth prompt); else the host never answered. */
function classifyStalledConnect(stderr: readonly string[], seconds: number): Failure {
  const said = classifyFfmpegStderr(stderr);
  if (said.kind !== 'other' || stderr.length > 0) return said;
  return { kind: 'timeout', message: `timeout: no frame within ${seconds} s of connecting` };
}

function ffmpegMissing(e: unknown): Failure {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT'
    ? { kind: 'ffmpeg_missing', message: 'ffmpeg not found: install it (apt-get install ffmpeg)' }
    : { kind: 'other', message: `cannot start ffmpeg: ${(e as Error).message}` };
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
