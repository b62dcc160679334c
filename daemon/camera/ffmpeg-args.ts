import type { CameraConfig } from './config.js';
import { filePath, sourceKind } from './source.js';

export type FfmpegInput = Pick<CameraConfig, 'url' | 'transport' | 'hwaccel' | 'input_args' | 'watchdog_s' | 'loop'>;
export type FfmpegOutput = Pick<CameraConfig, 'width' | 'height' | 'fps'>;

/** FFmpeg's own socket timeout is longer than the watchdog, so that the watchdog decides (see infra.md). */
export const FFMPEG_TIMEOUT_MARGIN_S = 5;

/** Options before -i: low start-up delay, transport, hardware decoding, the camera's extra args. */
export function inputArgs(input: FfmpegInput, logLevel: 'error' | 'info' = 'error'): string[] {
  const args = ['-hide_banner', '-nostdin', '-loglevel', logLevel];
  // Probing 0.1 s / 32 KiB instead of the default 5 s cuts time to first frame from ~6 s to ~1.2 s on a
  // 1 s GOP (measured; the rest is the wait for a keyframe). `-fflags nobuffer -flags low_delay`
  // made it slower here (~2.7 s). A camera that needs more probing can raise both in input_args:
  // FFmpeg keeps the last value given.
  args.push('-analyzeduration', '100000', '-probesize', '32768');
  if (input.hwaccel !== 'none') args.push('-hwaccel', input.hwaccel);
  const kind = sourceKind(input.url);
  if (kind === 'rtsp') {
    const timeoutUs = Math.round((input.watchdog_s + FFMPEG_TIMEOUT_MARGIN_S) * 1e6);
    args.push('-rtsp_transport', input.transport, '-timeout', String(timeoutUs));
  } else if (kind === 'file') {
    // A file plays in real time, as a camera would, so that demos and tests use the same path.
    args.push('-re');
    if (input.loop) args.push('-stream_loop', '-1');
  }
  args.push(...input.input_args);
  args.push('-i', kind === 'file' ? filePath(input.url) : input.url);
  return args;
}

/**
 * Raw RGB24 frames of exactly width×height at `fps` on stdout. The fps filter makes the output
 * constant-rate (frame i is at i/fps s of the stream); `-fps_mode passthrough` stops the muxer from
 * inventing duplicate frames when the camera goes quiet, which would fool the watchdog.
 */
export function outputArgs(output: FfmpegOutput): string[] {
  const vf = `fps=${output.fps},scale=${output.width}:${output.height}`;
  return ['-map', '0:v:0', '-an', '-sn', '-dn', '-vf', vf, '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'];
}

export function ffmpegArgs(camera: FfmpegInput & FfmpegOutput): string[] {
  return [...inputArgs(camera), ...outputArgs(camera)];
}
