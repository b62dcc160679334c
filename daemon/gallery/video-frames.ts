import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { FacegateError } from '../errors.js';
import { checkVideoFile } from '../track/video-file.js';
import type { RgbImage } from '../vision/types.js';

const execFileAsync = promisify(execFile);

/** Width and height of the first video stream, from ffprobe. */
export async function probeVideoSize(file: string): Promise<{ width: number; height: number }> {
  checkVideoFile(file);
  try {
    const { stdout } = await execFileAsync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'csv=p=0:s=x', file]);
    const m = /^(\d+)x(\d+)/.exec(stdout.trim());
    if (!m) throw new Error(`no video stream (${stdout.trim() || 'empty answer'})`);
    return { width: Number(m[1]), height: Number(m[2]) };
  } catch (e) {
    const message = (e as { stderr?: string }).stderr?.trim().split('\n').pop() ?? (e as Error).message;
    throw new FacegateError('FG_ERR_VIDEO_INVALID', `${file}: not a readable video (${message})`, 'give an MP4, MKV or WebM file; ffmpeg must be installed');
  }
}

/**
 * Decodes `fps` frames a second (at most `maxFrames`) as RGB and hands each to `onFrame` in turn.
 * Frames never touch the disk: they come through ffmpeg's stdout pipe.
 * The rotation metadata of phone videos is applied by ffmpeg itself.
 */
export async function forEachVideoFrame(
  file: string,
  options: { fps: number; maxFrames: number },
  onFrame: (frame: RgbImage, index: number) => Promise<void>,
): Promise<number> {
  const { width, height } = await probeVideoSize(file);
  const frameBytes = width * height * 3;
  const ff = spawn('ffmpeg', ['-v', 'error', '-i', file, '-vf', `fps=${options.fps}`, '-frames:v', String(options.maxFrames), '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  ff.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const exited = new Promise<number>((resolve) => ff.on('close', (code) => resolve(code ?? 1)));
  let pending: Buffer = Buffer.alloc(0);
  let index = 0;
  for await (const chunk of ff.stdout as AsyncIterable<Buffer>) {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= frameBytes) {
      const frame = new Uint8Array(pending.subarray(0, frameBytes));
      pending = pending.subarray(frameBytes);
      await onFrame({ width, height, data: frame }, index++);
    }
  }
  const code = await exited;
  if (code !== 0 && index === 0) {
    throw new FacegateError('FG_ERR_VIDEO_INVALID', `${file}: ffmpeg could not decode it (${stderr.trim().split('\n').pop() ?? `exit ${code}`})`, 'give an MP4, MKV or WebM file');
  }
  return index;
}
