import { FfmpegCamera } from '../../daemon/camera/camera.js';
import type { CameraConfig } from '../../daemon/camera/config.js';
import { createLogger } from '../../daemon/base/log.js';
import { yuv420Layout } from '../../daemon/base/yuv.js';

export function cameraConfig(name: string, url: string, overrides: Partial<CameraConfig> = {}): CameraConfig {
  return {
    name,
    url,
    width: 640,
    height: 360,
    fps: 5,
    transport: 'tcp',
    hwaccel: 'none',
    input_args: [],
    watchdog_s: 10,
    backoff_max_s: 30,
    loop: false,
    deinterlace: false,
    idle_keyframes_after_s: 0,
    ...overrides,
  };
}

/** A real camera (real FFmpeg) with its log lines kept for assertions. */
export function realCamera(config: CameraConfig): { camera: FfmpegCamera; lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (s: string) => void lines.push(s) } });
  return { camera: new FfmpegCamera(config, { logger }), lines };
}

export async function waitFor(what: string, predicate: () => boolean, timeoutMs: number, stepMs = 50): Promise<number> {
  const t0 = performance.now();
  while (!predicate()) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return performance.now() - t0;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Takes frames as a pipeline would, until stopped; returns what it saw. */
export function consume(camera: FfmpegCamera, ac: AbortController) {
  const seen: { seq: number; monoMs: number; bytes: number; pts: number; chroma: number }[] = [];
  const done = (async () => {
    for await (const f of camera.frames(ac.signal)) seen.push({ seq: f.seq, monoMs: f.monoMs, bytes: f.image.data.length, pts: f.pts, chroma: chromaReach(f.image) });
  })();
  return { seen, done };
}

/**
 * How far a YUV 4:2:0 frame's chroma strays from grey (128). The test server's pattern is black and
 * white, so its frames stay near 0; a frame cut from the stream at the wrong byte carries luma
 * (16 for black) in its chroma planes.
 */
function chromaReach(image: { width: number; height: number; data: Uint8Array }): number {
  const { uOffset, bytes } = yuv420Layout(image.width, image.height);
  let reach = 0;
  for (let i = uOffset; i < bytes; i++) reach = Math.max(reach, Math.abs((image.data[i] ?? 128) - 128));
  return reach;
}
