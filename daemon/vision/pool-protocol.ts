import type { LevelWithSilent } from 'pino';
import type { AnalyzeOptions } from './engine.js';
import type { VisionConfig } from './config.js';
import type { DetectMode } from './detector.js';
import type { ModelPaths } from './model-files.js';
import type { ServerLink } from './model-server-protocol.js';
import type { ExecutionProvider } from './ort.js';
import type { SearchArea } from './tiles.js';
import type { Detection, Picture } from './types.js';

/** The messages between a `VisionWorker` (main thread) and its thread (pool-worker.ts). */

/** workerData of a vision thread: the validated config and the model files verified once by the pool. */
export interface WorkerSetup {
  index: number;
  vision: VisionConfig;
  models: ModelPaths;
  logLevel: LevelWithSilent;
  /** The GPU's model thread, where the models run: this thread prepares their inputs only. */
  server?: ServerLink;
}

/**
 * The image of a call: sent with it (and kept under `keep` for the calls that follow on the same
 * frame), or named by the key a previous call kept it under. A camera's frame crosses once however
 * many calls the tracker makes on it.
 */
export type ImageRef = { image: Picture; keep?: string } | { kept: string };

export type Request =
  | { id: number; op: 'detect'; frame: ImageRef; mode?: DetectMode; focus?: readonly SearchArea[] }
  | { id: number; op: 'analyze'; frame: ImageRef; options?: AnalyzeOptions }
  | { id: number; op: 'analyzeFace'; frame: ImageRef; detection: Detection; options?: AnalyzeOptions }
  /** A camera went away: its kept frame is let go. */
  | { id: number; op: 'forget'; key: string }
  /** A round trip without vision work: the pool's own cost per call (`npm run bench -- pool`). */
  | { id: number; op: 'ping' }
  /** Closes the thread's analyzer once its calls are done; the thread then has nothing left to run. */
  | { id: number; op: 'close' };

/** An error as it crosses threads; `code` makes a FacegateError again on the other side. */
export interface WireError {
  code?: `FG_ERR_${string}`;
  message: string;
  hint?: string;
}

export type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: WireError };

/** The thread's first message: its models are loaded (or why not). */
export type Hello = { hello: true; provider: ExecutionProvider } | { hello: true; error: WireError };

/** A log line of the thread (pino JSON), written by the main thread's logger. */
export interface LogLine {
  log: string;
}

export type FromWorker = Hello | Reply | LogLine;
