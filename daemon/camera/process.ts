import { spawn } from 'node:child_process';
import type { EventEmitter } from 'node:events';

/** The part of a child process a camera uses; tests hand in fakes to drive failures fast. */
export interface FfmpegProcess {
  readonly pid?: number | undefined;
  readonly stdout: EventEmitter | null;
  readonly stderr: EventEmitter | null;
  /** Its pipes by file descriptor; fd 3 is the camera clock's output where one was asked for. */
  readonly stdio?: readonly (EventEmitter | null | undefined)[];
  kill(signal?: NodeJS.Signals): boolean;
  once(event: 'close', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
  once(event: 'error', listener: (err: Error) => void): this;
}

/**
 * `stdin`: text written to FFmpeg's stdin, then closed (null: stdin closed from the start).
 * `clockPipe`: fd 3 is a pipe too, for the camera clock's output (ffmpeg-args.ts, CLOCK_FD).
 */
export type SpawnFfmpeg = (command: string, args: readonly string[], stdin: string | null, clockPipe?: boolean) => FfmpegProcess;

/**
 * Real FFmpeg: raw frames on stdout, messages on stderr, and on stdin the input script if any (a
 * few hundred bytes: it fits the pipe's buffer, so the write never waits on FFmpeg).
 */
export const spawnFfmpeg: SpawnFfmpeg = (command, args, stdin, clockPipe = false) => {
  const env = ffmpegEnv(process.env);
  const outputs = clockPipe ? (['pipe', 'pipe', 'pipe'] as const) : (['pipe', 'pipe'] as const);
  if (stdin === null) return spawn(command, args, { stdio: ['ignore', ...outputs], env });
  const child = spawn(command, args, { stdio: ['pipe', ...outputs], env });
  // An FFmpeg that exits before reading (or never starts) makes the write fail with EPIPE; its exit
  // is reported through 'close' or 'error' like any other.
  child.stdin.on('error', () => undefined);
  child.stdin.end(stdin);
  return child;
};

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
