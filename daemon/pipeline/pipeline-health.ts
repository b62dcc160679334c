import type { CameraState } from '../camera/health.js';

export interface PipelineProgress {
  camera: string;
  state: CameraState;
  /** Monotonic ms when the camera last became 'streaming' (undefined: never). */
  streamingSinceMono: number | undefined;
  /** Monotonic ms of the last frame the pipeline finished (undefined: none yet). */
  lastProcessedMono: number | undefined;
}

export interface Liveness {
  alive: boolean;
  /** Why not, one line per stuck camera. */
  problems: string[];
}

/**
 * Whether the pipeline is really alive, for WATCHDOG=1 and /healthz. A camera that is streaming
 * must have had a frame processed within `stallMs` (once it has streamed that long); a camera
 * that is connecting, in backoff or failed is in a state its own watchdog handles and does not make
 * the daemon unhealthy: restarting the daemon would not bring a camera back. The caller runs this
 * from a timer, so a blocked event loop sends nothing at all.
 */
export function pipelineLiveness(pipelines: readonly PipelineProgress[], nowMono: number, stallMs: number): Liveness {
  const problems: string[] = [];
  for (const p of pipelines) {
    if (p.state !== 'streaming' || p.streamingSinceMono === undefined) continue;
    if (nowMono - p.streamingSinceMono < stallMs) continue;
    const last = Math.max(p.lastProcessedMono ?? -Infinity, p.streamingSinceMono);
    if (nowMono - last >= stallMs) {
      problems.push(`${p.camera}: streaming but no frame processed for ${Math.round((nowMono - last) / 1000)} s`);
    }
  }
  return { alive: problems.length === 0, problems };
}
