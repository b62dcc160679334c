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

export type SpawnFfmpeg = (command: string, args: readonly string[]) => FfmpegProcess;

/** Real FFmpeg: stdin closed, raw frames on stdout, messages on stderr. */
export const spawnFfmpeg: SpawnFfmpeg = (command, args) => spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });

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
