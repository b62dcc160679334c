import type { MessagePort } from 'node:worker_threads';
import type { LevelWithSilent } from 'pino';
import type { VisionConfig } from './config.js';
import type { ModelName, ModelPaths } from './model-files.js';
import type { ExecutionProvider } from './ort.js';

/** The messages of the model server: the GPU's thread, which runs every vision worker's model inputs. */

/** workerData of the server thread. */
export interface ServerSetup {
  vision: VisionConfig;
  models: ModelPaths;
  provider: ExecutionProvider;
  logLevel: LevelWithSilent;
}

/** What a vision worker needs to send its inputs to the server: its own port, and each model's input shape. */
export interface ServerLink {
  port: MessagePort;
  provider: ExecutionProvider;
  shapes: Record<ModelName, readonly number[]>;
}

/** From the main thread to the server thread. */
export type ToServer = { connect: MessagePort } | { close: true };

/** From the server thread to the main thread. */
export type FromServer =
  | { hello: true; provider: ExecutionProvider; shapes: Record<ModelName, readonly number[]> }
  | { hello: true; error: { message: string } }
  | { closed: true }
  | { log: string };

/** A worker's run request on its port: `count` inputs of `model` end to end. */
export interface RunRequest {
  id: number;
  model: ModelName;
  inputs: Float32Array;
  count: number;
}

/** The answer: each output of the model with the inputs' rows end to end, or why not. */
export type RunReply = { id: number; outputs: Float32Array[] } | { id: number; error: string };
