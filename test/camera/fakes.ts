import { EventEmitter } from 'node:events';
import { createLogger } from '../../daemon/base/log.js';
import { FfmpegCamera } from '../../daemon/camera/camera.js';
import type { CameraConfig } from '../../daemon/camera/config.js';
import type { FrameSink } from '../../daemon/camera/frame-reader.js';
import type { CameraState } from '../../daemon/camera/health.js';
import type { Clock, FfmpegProcess, SpawnFfmpeg, Timers } from '../../daemon/camera/process.js';

/** Virtual time: timers fire only when the test advances the clock. */
export class FakeTime implements Clock, Timers {
  private t = 0;
  private nextId = 1;
  private pending = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.pending.set(id, { at: this.t + ms, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  /** Moves time forward, firing due timers in order (timers they set fire too if due). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.pending) if (entry[1].at <= end && (!next || entry[1].at < next[1].at)) next = entry;
      if (!next) break;
      this.pending.delete(next[0]);
      this.t = Math.max(this.t, next[1].at);
      next[1].fn();
    }
    this.t = end;
  }
}

/** A scripted FFmpeg: the test writes its frames and stderr and decides how it exits. */
export class FakeFfmpeg extends EventEmitter implements FfmpegProcess {
  readonly stdout = new EventEmitter();
  readonly stderr = new EventEmitter();
  /** fd 3: the camera clock's output, where one was asked for. */
  readonly clockOut = new EventEmitter();
  readonly stdio = [null, this.stdout, this.stderr, this.clockOut] as const;
  readonly signals: NodeJS.Signals[] = [];
  exited = false;
  readonly pid: number | undefined;
  /** Whether SIGTERM ends it (a frozen FFmpeg may need SIGKILL). */
  private readonly obeysSigterm: boolean;
  readonly args: readonly string[];
  constructor(args: readonly string[], options: { started?: boolean; obeysSigterm?: boolean } = {}) {
    super();
    this.args = args;
    this.pid = options.started === false ? undefined : 4242;
    this.obeysSigterm = options.obeysSigterm ?? true;
  }

  frame(bytes: number, fill = 0): void {
    this.stdout.emit('data', Buffer.alloc(bytes, fill));
  }

  say(line: string): void {
    this.stderr.emit('data', Buffer.from(line + '\n'));
  }

  exit(code: number | null, signal: NodeJS.Signals | null = null): void {
    if (this.exited) return;
    this.exited = true;
    this.emit('close', code, signal);
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    this.signals.push(signal);
    if (signal === 'SIGKILL' || this.obeysSigterm) queueMicrotask(() => this.exit(null, signal));
    return true;
  }
}

/**
 * Reads into `frames` as the daemon's socket does (process.ts): Node asks for the buffer of each
 * read ahead of it, the first once the socket is open and each next one as the last read is handed
 * over.
 */
function readsAhead(frames: FrameSink): (chunk: Uint8Array) => void {
  // The socket is made a few turns of the event loop after the spawn.
  let target: Uint8Array = new Uint8Array(0);
  queueMicrotask(() => (target = frames.next()));
  return (chunk) => {
    for (let offset = 0; offset < chunk.length; ) {
      const n = Math.min(target.length, chunk.length - offset);
      target.set(chunk.subarray(offset, offset + n));
      offset += n;
      frames.filled(n);
      target = frames.next();
    }
  };
}

/** spawn() that records each FakeFfmpeg it makes. */
export function fakeSpawner(make: (args: readonly string[]) => FakeFfmpeg = (args) => new FakeFfmpeg(args)) {
  const spawned: FakeFfmpeg[] = [];
  /** Whether each was spawned with fd 3 as a pipe (the camera clock's output). */
  const clockPipes: boolean[] = [];
  /** What each was given on stdin: a promise where it waits, started, for its input. */
  const stdins: (string | Promise<string> | null)[] = [];
  const spawn: SpawnFfmpeg = (_command, args, stdin, { clockPipe = false, frames } = {}) => {
    const p = make(args);
    spawned.push(p);
    clockPipes.push(clockPipe);
    stdins.push(stdin);
    // What the test writes on stdout reaches the camera as a real process's reads would.
    if (frames) p.stdout.on('data', readsAhead(frames));
    return p;
  };
  return { spawn, spawned, clockPipes, stdins, last: () => spawned[spawned.length - 1] as FakeFfmpeg };
}

/** A camera on virtual time whose FFmpegs are scripted: its log lines and every state it went through recorded. */
export function scriptedCamera(config: CameraConfig, make?: (args: readonly string[]) => FakeFfmpeg) {
  const time = new FakeTime();
  const ffmpeg = fakeSpawner(make);
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', destination: { write: (s: string) => void lines.push(s) } });
  const camera = new FfmpegCamera(config, { logger, spawn: ffmpeg.spawn, clock: time, timers: time, random: () => 1 });
  const states: CameraState[] = [];
  camera.onState((h) => states.push(h.state));
  return { camera, time, ffmpeg, lines, states };
}

/** Lets every callback already due run (a turn of the event loop). */
export const flush = () => new Promise((r) => setImmediate(r));

/** Whether a stdin promise (an FFmpeg started ahead, waiting for its input) has given its text yet, and what. */
export async function given(stdin: string | Promise<string> | null | undefined): Promise<string | undefined> {
  if (!(stdin instanceof Promise)) return undefined;
  return Promise.race([stdin, flush().then(() => undefined)]);
}
