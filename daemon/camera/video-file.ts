import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { DEINTERLACE } from './ffmpeg-args.js';
import { pixelAspect } from './probe.js';
import { FrameAssembler } from './frame-reader.js';
import { FacegateError } from '../base/errors.js';
import { checkInputFile, describeOpenError } from '../base/input-file.js';
import type { Yuv420Image, YuvMatrix } from '../base/image.js';
import { matrixNamed, yuv420Layout } from '../base/yuv.js';

const execFileAsync = promisify(execFile);

/** One decoded frame of a file with its presentation time (seconds from the file's start). */
export interface TimedFrame {
  image: Yuv420Image;
  pts: number;
}

/** Frames buffered ahead of the consumer before FFmpeg's pipe is paused. */
const MAX_QUEUED_FRAMES = 4;

/**
 * A video named by a user, before FFmpeg opens it by its path: a regular file within the video
 * size cap (FFmpeg would read a FIFO or /dev/zero for ever).
 */
export function checkVideoFile(file: string): void {
  try {
    checkInputFile(file, 'video', 'video');
  } catch (e) {
    if (e instanceof FacegateError) throw e;
    throw new FacegateError('FG_ERR_VIDEO_INVALID', `${file}: ${describeOpenError(e)}`, 'check the path');
  }
}

/**
 * Display size of the first video stream (its pixels at their sample aspect ratio, rotation metadata
 * applied, as FFmpeg decodes it), its matrix, and whether its pixels are stored squeezed (non-square:
 * HDV's 1440×1080, an analog encoder's 720×576), so that videoFrames scales them to that size.
 */
export async function probeVideoStream(file: string): Promise<{ width: number; height: number; matrix: YuvMatrix; squeezed: boolean }> {
  checkVideoFile(file);
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height,sample_aspect_ratio,color_space:stream_side_data=rotation', '-of', 'json', file]));
  } catch (e) {
    const message = (e as { stderr?: string }).stderr?.trim().split('\n').pop() || (e as Error).message;
    throw new FacegateError('FG_ERR_VIDEO_INVALID', `${file}: not a readable video (${message})`, 'give an MP4, MKV or WebM file; ffmpeg must be installed');
  }
  const parsed = JSON.parse(stdout) as { streams?: Array<{ width?: number; height?: number; sample_aspect_ratio?: string; color_space?: string; side_data_list?: Array<{ rotation?: number }> }> };
  const stream = parsed.streams?.[0];
  if (!stream?.width || !stream.height) throw new FacegateError('FG_ERR_VIDEO_INVALID', `${file}: no video stream`, 'give a file with a video stream');
  const rotation = Math.abs(stream.side_data_list?.find((s) => s.rotation !== undefined)?.rotation ?? 0) % 180;
  const matrix = matrixNamed(stream.color_space);
  const sar = pixelAspect(stream.sample_aspect_ratio);
  // Even, as 4:2:0 frames are.
  const width = sar === 1 ? stream.width : Math.max(2, Math.round((stream.width * sar) / 2) * 2);
  const squeezed = width !== stream.width;
  return rotation === 90 ? { width: stream.height, height: width, matrix, squeezed } : { width, height: stream.height, matrix, squeezed };
}

/**
 * Length of a video file in seconds as its container states it, or undefined when it states none
 * (a stream without an index): for progress only, so a file that cannot say is not an error here.
 */
export async function probeDuration(file: string): Promise<number | undefined> {
  try {
    const { stdout } = await execFileAsync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file]);
    const seconds = Number(stdout.trim());
    return Number.isFinite(seconds) && seconds > 0 ? seconds : undefined;
  } catch {
    return undefined; // the scan itself reports an unreadable file, with its fix
  }
}

/** `pts_time:1.2333` of one showinfo line (frames in output order), or undefined for other lines. */
export function parseShowinfoPts(line: string): number | undefined {
  if (!line.includes('Parsed_showinfo')) return undefined;
  const m = /\bpts_time:\s*(-?[\d.]+(?:e-?\d+)?)/.exec(line);
  return m ? Number(m[1]) : undefined;
}

/**
 * Decodes a video file at `fps` frames a second as YUV 4:2:0, as a camera's frames are, each frame with its real presentation time,
 * interlaced frames rebuilt whole from their fields.
 * The fps filter resamples by timestamp, so variable-frame-rate files come out on the right times;
 * showinfo after it prints each output frame's pts_time on stderr, which is paired with the frames
 * on stdout in order. No real-time pacing: a file is read as fast as it decodes.
 */
export async function* videoFrames(file: string, options: { fps: number }): AsyncGenerator<TimedFrame> {
  const { width, height, matrix, squeezed } = await probeVideoStream(file);
  const args = ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info', '-i', file, '-map', '0:v:0', '-an', '-sn', '-dn'];
  // A face stored squeezed is a face of another shape to every model: shown as it is meant to be.
  const unsqueeze = squeezed ? `scale=${width}:${height},setsar=1,` : '';
  // An interlaced recording (an analog encoder's, a 1080i camera's) rebuilt from its fields before
  // the rate filter picks frames: read woven, a moving face is combed and another face to the
  // recogniser. Frames the decoder marks progressive pass as they are, and the frame the
  // deinterlacer holds back costs a file nothing, so every file is read this way.
  args.push('-vf', `${DEINTERLACE},fps=${options.fps},${unsqueeze}showinfo`, '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', 'pipe:1');
  const ff = spawn('ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] });

  const frames: Uint8Array[] = [];
  const times: number[] = [];
  const otherLines: string[] = [];
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const assembler = new FrameAssembler(yuv420Layout(width, height).bytes, (data) => {
    frames.push(data);
    if (frames.length >= MAX_QUEUED_FRAMES) ff.stdout.pause();
    notify();
  });
  ff.stdout.on('data', (chunk: Buffer) => assembler.push(chunk));
  let partial = '';
  ff.stderr.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const pts = parseShowinfoPts(line);
      if (pts !== undefined) times.push(pts);
      else if (/error|invalid|no such|not found/i.test(line)) otherLines.push(line.trim());
    }
    notify();
  });
  let exitCode: number | null | undefined;
  ff.on('close', (code) => {
    const pts = parseShowinfoPts(partial);
    if (pts !== undefined) times.push(pts);
    exitCode = code;
    notify();
  });
  ff.on('error', (e) => {
    otherLines.push(e.message);
    exitCode = -1;
    notify();
  });

  let index = 0;
  try {
    for (;;) {
      if (frames.length > 0 && (times.length > 0 || exitCode !== undefined)) {
        const data = frames.shift()!;
        // A frame whose pts line never came (only if FFmpeg died mid-line) gets the nominal time.
        const pts = times.shift() ?? index / options.fps;
        if (frames.length < MAX_QUEUED_FRAMES) ff.stdout.resume();
        index++;
        yield { image: { format: 'yuv420p', matrix, width, height, data }, pts };
        continue;
      }
      if (exitCode !== undefined) break;
      await new Promise<void>((resolve) => (wake = resolve));
    }
    if (exitCode !== 0 && index === 0) {
      throw new FacegateError('FG_ERR_VIDEO_INVALID', `${file}: ffmpeg could not decode it (${otherLines.at(-1) ?? `exit ${exitCode}`})`, 'give an MP4, MKV or WebM file');
    }
  } finally {
    if (exitCode === undefined) ff.kill('SIGKILL');
  }
}
