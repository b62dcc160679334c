import { execFileSync, spawnSync } from 'node:child_process';
import type { RgbImage } from '../../daemon/vision/types.js';

/** Every frame of a clip as decoded by FFmpeg (`-f rawvideo`), the frame indices the annotations use. */
export function decodeVideoFrames(path: string, options: { fps?: number } = {}): RgbImage[] {
  const probe = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', path], {
    encoding: 'utf8',
  });
  const [width, height] = probe.trim().split(',').map(Number) as [number, number];
  const filters = options.fps ? ['-vf', `fps=${options.fps}`] : [];
  const result = spawnSync('ffmpeg', ['-v', 'error', '-i', path, ...filters, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], {
    maxBuffer: 1 << 30,
  });
  if (result.status !== 0) throw new Error(`ffmpeg failed on ${path}: ${result.stderr.toString()}`);
  const size = width * height * 3;
  const frames: RgbImage[] = [];
  for (let o = 0; o + size <= result.stdout.length; o += size) {
    frames.push({ width, height, data: new Uint8Array(result.stdout.buffer, result.stdout.byteOffset + o, size) });
  }
  return frames;
}
