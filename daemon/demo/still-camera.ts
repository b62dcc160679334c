import { EventEmitter } from 'node:events';
import sharp from 'sharp';
import { yuv420Layout } from '../base/yuv.js';
import { copyInto } from '../camera/frame-reader.js';
import type { FfmpegProcess, SpawnFfmpeg } from '../camera/process.js';

/** A photo as one camera frame: its size (even, at most `maxWidth` wide) and its I420 bytes. */
export interface StillFrame {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/**
 * A photo decoded by sharp and converted to what FFmpeg hands a camera: YUV 4:2:0, limited range,
 * BT.601 (the matrix FFmpeg assumes for a stream that names none). Chroma is the mean of each 2×2.
 */
export async function stillFrame(photo: string, maxWidth = 1280): Promise<StillFrame> {
  const meta = await sharp(photo).rotate().metadata();
  const sourceWidth = meta.autoOrient?.width ?? meta.width ?? maxWidth;
  const sourceHeight = meta.autoOrient?.height ?? meta.height ?? maxWidth;
  const width = Math.min(maxWidth, sourceWidth) & ~1;
  const height = Math.max(2, Math.round((sourceHeight * width) / sourceWidth / 2) * 2);
  const rgb = await sharp(photo).rotate().resize(width, height, { fit: 'fill' }).removeAlpha().toColourspace('srgb').raw().toBuffer();
  const layout = yuv420Layout(width, height);
  const data = new Uint8Array(layout.bytes);
  for (let i = 0, p = 0; i < width * height; i++, p += 3) {
    data[i] = Math.round(16 + (65.481 * rgb[p]! + 128.553 * rgb[p + 1]! + 24.966 * rgb[p + 2]!) / 255);
  }
  for (let cy = 0; cy < layout.chromaHeight; cy++) {
    for (let cx = 0; cx < layout.chromaWidth; cx++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [1, 1]] as const) {
        const p = ((2 * cy + dy) * width + 2 * cx + dx) * 3;
        r += rgb[p]!;
        g += rgb[p + 1]!;
        b += rgb[p + 2]!;
      }
      const at = cy * layout.chromaWidth + cx;
      data[layout.uOffset + at] = Math.round(128 + (-37.797 * r - 74.203 * g + 112 * b) / 4 / 255);
      data[layout.vOffset + at] = Math.round(128 + (112 * r - 93.786 * g - 18.214 * b) / 4 / 255);
    }
  }
  return { width, height, data };
}

/**
 * In place of FFmpeg, for the demo on a box without it: a "process" that writes `frame` `fps`
 * times a second until it is killed, into the camera's frames where it reads them so (or else
 * to its stdout), as FFmpeg writes a camera's decoded frames. The
 * camera stage (its frame queue, watchdog and health) and everything after it run as with a real
 * camera; only the decoding is left out, since a still photo needs none.
 */
export function stillPhotoSpawn(frame: StillFrame, fps: number): SpawnFfmpeg {
  return (_command, _args, _stdin, options = {}) => {
    const child = new EventEmitter() as EventEmitter & FfmpegProcess;
    const { frames } = options;
    const stdout = frames ? null : new EventEmitter();
    const stderr = new EventEmitter();
    const timer = setInterval(() => (frames ? copyInto(frames, frame.data) : stdout?.emit('data', frame.data)), 1000 / fps);
    let ended = false;
    Object.assign(child, {
      pid: process.pid,
      stdout,
      stderr,
      kill(signal: NodeJS.Signals = 'SIGTERM') {
        if (ended) return false;
        ended = true;
        clearInterval(timer);
        setImmediate(() => child.emit('close', null, signal));
        return true;
      },
    });
    return child;
  };
}
