import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyInto, type FrameSink } from './frame-reader.js';

/** The part of a child process a camera uses; tests hand in fakes to drive failures fast. */
export interface FfmpegProcess {
  readonly pid?: number | undefined;
  /** Its output as chunks; null where it is read into `frames` (SpawnOptions). */
  readonly stdout: EventEmitter | null;
  readonly stderr: EventEmitter | null;
  /** Its pipes by file descriptor; fd 3 is the camera clock's output where one was asked for. */
  readonly stdio?: readonly (EventEmitter | null | undefined)[];
  kill(signal?: NodeJS.Signals): boolean;
  once(event: 'close', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
  once(event: 'error', listener: (err: Error) => void): this;
}

export interface SpawnOptions {
  /** fd 3 is a pipe too, for the camera clock's output (ffmpeg-args.ts, CLOCK_FD). */
  clockPipe?: boolean;
  /** Where stdout is read to, in place of chunks on `stdout`. */
  frames?: FrameSink;
  /** Told why, where `frames` are read from a pipe because no socket could be made. */
  onPipeFallback?: (err: Error) => void;
}

/**
 * `stdin`: text written to FFmpeg's stdin, then closed (null: stdin closed from the start); a
 * promise holds stdin open until it gives the text, so that FFmpeg waits, started, for its input.
 */
export type SpawnFfmpeg = (command: string, args: readonly string[], stdin: string | Promise<string> | null, options?: SpawnOptions) => FfmpegProcess;

/**
 * Real FFmpeg: raw frames on stdout, messages on stderr, and on stdin the input script if any (a
 * few hundred bytes: it fits the pipe's buffer, so the write never waits on FFmpeg).
 */
export const spawnFfmpeg: SpawnFfmpeg = (command, args, stdin, options = {}) => {
  const start = (stdout: 'pipe' | Socket): ChildProcess => spawnChild(command, args, stdin, stdout, options.clockPipe ?? false);
  return options.frames ? new SocketFedFfmpeg(start, options.frames, options.clockPipe ?? false, options.onPipeFallback) : start('pipe');
};

function spawnChild(command: string, args: readonly string[], stdin: string | Promise<string> | null, stdout: 'pipe' | Socket, clockPipe: boolean): ChildProcess {
  const env = ffmpegEnv(process.env);
  const outputs = clockPipe ? ([stdout, 'pipe', 'pipe'] as const) : ([stdout, 'pipe'] as const);
  if (stdin === null) return spawn(command, args, { stdio: ['ignore', ...outputs], env });
  const child = spawn(command, args, { stdio: ['pipe', ...outputs], env });
  // An FFmpeg that exits before reading (or never starts) makes the write fail with EPIPE; its exit
  // is reported through 'close' or 'error' like any other.
  child.stdin?.on('error', () => undefined);
  if (typeof stdin === 'string') child.stdin?.end(stdin);
  else void stdin.then((text) => child.stdin?.end(text));
  return child;
}

/**
 * FFmpeg whose stdout is one end of a Unix socket whose other end the daemon reads straight into
 * the frame being filled (`onread`): a pipe read as a stream hands over each 64 KiB as a new
 * buffer, to be copied into the frame and collected. Measured on this project's 2-core box, a
 * 1080p frame cost the reading process 2.4–3.2 ms of CPU through the pipe and 1.0–1.2 ms through
 * the socket.
 *
 * Node makes the pair: it listens on a path in a directory of its own (mode 0700, removed once
 * the two ends are joined), connects, and gives the accepted end to FFmpeg as its stdout. That
 * takes a few turns of the event loop, so this stands for the child meanwhile: a kill before the
 * child exists means it is never started. Where the pair cannot be made (no writable temporary
 * directory), FFmpeg writes to a pipe as before and its chunks are copied into the same frames.
 * 'close' comes once the child has exited and every byte it wrote has been read.
 */
class SocketFedFfmpeg extends EventEmitter implements FfmpegProcess {
  readonly stdout = null;
  readonly stderr = new EventEmitter();
  readonly stdio: readonly (EventEmitter | null)[];
  private child: ChildProcess | undefined;
  private killedWith: NodeJS.Signals | undefined;

  constructor(start: (stdout: 'pipe' | Socket) => ChildProcess, frames: FrameSink, clockPipe: boolean, onPipeFallback: ((err: Error) => void) | undefined) {
    super();
    const clockOut = new EventEmitter();
    this.stdio = [null, null, this.stderr, ...(clockPipe ? [clockOut] : [])];
    void this.start(start, frames, clockOut, onPipeFallback);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    if (this.child) return this.child.kill(signal);
    this.killedWith ??= signal;
    return true;
  }

  private async start(start: (stdout: 'pipe' | Socket) => ChildProcess, frames: FrameSink, clockOut: EventEmitter, onPipeFallback: ((err: Error) => void) | undefined): Promise<void> {
    const pair = await socketPair(frames).catch((e: unknown) => {
      onPipeFallback?.(e instanceof Error ? e : new Error(String(e)));
      return undefined;
    });
    const read = pair ? new Promise((resolve) => pair.reader.once('close', resolve)) : Promise.resolve();
    if (this.killedWith !== undefined) {
      pair?.reader.destroy();
      pair?.writer.destroy();
      this.emit('close', null, this.killedWith);
      return;
    }
    let child: ChildProcess;
    try {
      child = start(pair?.writer ?? 'pipe');
    } catch (e) {
      pair?.reader.destroy();
      this.emit('error', e instanceof Error ? e : new Error(String(e)));
      return;
    } finally {
      // The child holds its own copy of the writing end: the daemon's would keep the reader from
      // ever seeing the end of the stream.
      pair?.writer.destroy();
    }
    this.child = child;
    child.stderr?.on('data', (chunk: Buffer) => this.stderr.emit('data', chunk));
    child.stdio[3]?.on('data', (chunk: Buffer) => clockOut.emit('data', chunk));
    if (!pair) child.stdout?.on('data', (chunk: Buffer) => copyInto(frames, chunk));
    child.once('error', (err) => this.emit('error', err));
    child.once('close', (code, signal) => {
      void read.then(() => this.emit('close', code, signal));
    });
  }
}

/** A connected Unix socket: `reader` reads into `frames`, `writer` is for the child. */
async function socketPair(frames: FrameSink): Promise<{ reader: Socket; writer: Socket }> {
  const dir = await mkdtemp(join(tmpdir(), 'facegate-frames-'));
  const path = join(dir, 'frames.sock');
  const server = createServer({ pauseOnConnect: true });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, resolve);
    });
    const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
    const reader = connect({
      path,
      onread: {
        buffer: () => frames.next(),
        callback: (bytes) => {
          frames.filled(bytes);
          return true;
        },
      },
    });
    // A reset ends the stream as its end does; the child's exit says why.
    reader.on('error', () => reader.destroy());
    await new Promise<void>((resolve, reject) => {
      reader.once('connect', resolve);
      reader.once('error', reject);
    });
    const writer = await accepted;
    writer.on('error', () => undefined);
    return { reader, writer };
  } finally {
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The daemon's environment less what looks like a secret (the broker password, the gallery
 * passphrase): FFmpeg needs neither, and a process that does not hold a secret cannot leak it.
 */
export function ffmpegEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !/pass|secret|token|credential|_key$/i.test(name)));
}

export interface Clock {
  /** Monotonic milliseconds. */
  now(): number;
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = { now: () => performance.now() };
export const systemTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
