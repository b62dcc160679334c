import { spawn } from 'node:child_process';
import type { EventEmitter } from 'node:events';

/** The part of a child process a camera uses; tests hand in fakes to drive failures fast. */
export interface FfmpegProcess {
  readonly pid?: number | undefined;
  readonly stdout: EventEmitter | null;
  readonly stderr: EventEmitter | null;
  kill(signal?: NodeJS.Signals): boolean;
  once(event: 'close', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
  once(event: 'error', listener: (err: Error) => void): this;
}

/** `stdin`: text written to FFmpeg's stdin, then closed (null: stdin closed from the start). */
export type SpawnFfmpeg = (command: string, args: readonly string[], stdin: string | null) => FfmpegProcess;

/**
 * Real FFmpeg: raw frames on stdout, messages on stderr, and on stdin the input script if any (a
 * few hundred bytes: it fits the pipe's buffer, so the write never waits on FFmpeg).
 */
export const spawnFfmpeg: SpawnFfmpeg = (command, args, stdin) => {
  if (stdin === null) return spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  // An FFmpeg that exits before reading (or never starts) makes the write fail with EPIPE; its exit
  // is reported through 'close' or 'error' like any other.
  child.stdin.on('error', () => undefined);
  child.stdin.end(stdin);
  return child;
};

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
