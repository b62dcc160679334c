import { FacegateError } from '../base/errors.js';
import type { RgbImage, YuvMatrix } from '../base/image.js';
import { classifyFfmpegStderr, StderrTail, type Failure } from './ffmpeg-errors.js';
import { ffmpegInput } from './ffmpeg-args.js';
import { sourceKind } from './source.js';
import { spawnFfmpeg, systemClock, systemTimers, type Clock, type SpawnFfmpeg, type Timers } from './process.js';
import { redactText } from '../base/log.js';
import { matrixNamed } from '../base/yuv.js';

export interface ProbeOptions {
  transport?: 'tcp' | 'udp';
  /** The camera's input_args (config), handed to FFmpeg as the daemon would. */
  inputArgs?: readonly string[];
  /** Give up when no frame has come after this long. */
  timeoutMs?: number;
  spawn?: SpawnFfmpeg;
  clock?: Clock;
  timers?: Timers;
  ffmpegPath?: string;
}

export interface ProbeResult {
  /** The URL with credentials removed. */
  source: string;
  codec: string;
  profile: string | null;
  width: number;
  height: number;
  /** Its size as shown: the width at its pixels' aspect (sampleAspect), what the camera's frames fit. */
  shown: { width: number; height: number };
  /** As the stream declares it; cameras often send fewer. */
  fps: number | null;
  /** Whether the stream says it is interlaced (its frames woven from two fields): see CameraConfig.deinterlace. */
  interlaced: boolean;
  time_to_first_frame_ms: number;
  /** The first frame at the stream's own size, as stored. */
  frame: RgbImage;
}

/** Connects once, reads one frame at the stream's native size, and says what the stream is. */
export function probeCamera(url: string, options: ProbeOptions = {}): Promise<ProbeResult> {
  const spawn = options.spawn ?? spawnFfmpeg;
  const clock = options.clock ?? systemClock;
  const timers = options.timers ?? systemTimers;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const input = ffmpegInput({
    url,
    transport: options.transport ?? 'tcp',
    hwaccel: 'none',
    input_args: [...(options.inputArgs ?? [])],
    watchdog_s: timeoutMs / 1000,
    loop: false,
  }, 'info'); // info level prints the stream line parsed below
  const args = [...input.args, '-map', '0:v:0', '-an', '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'];
  const source = redactText(url);

  return new Promise((resolve, reject) => {
    const started = clock.now();
    let firstByteAt: number | undefined;
    const chunks: Buffer[] = [];
    const stderr = new StderrTail(200);
    let timedOut = false;
    let child: ReturnType<SpawnFfmpeg>;
    try {
      child = spawn(options.ffmpegPath ?? 'ffmpeg', args, input.stdin);
    } catch (e) {
      reject(probeError({ kind: 'ffmpeg_missing', message: (e as Error).message }, source));
      return;
    }
    const timer = timers.setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout?.on('data', (chunk: Buffer) => {
      firstByteAt ??= clock.now();
      chunks.push(chunk);
    });
    child.stderr?.on('data', (chunk: Buffer | string) => stderr.push(chunk.toString()));
    child.once('error', (e) => {
      timers.clearTimeout(timer);
      if (child.pid === undefined) reject(probeError({ kind: 'ffmpeg_missing', message: e.message }, source));
    });
    child.once('close', (code) => {
      timers.clearTimeout(timer);
      const lines = stderr.all();
      if (timedOut) {
        const said = classifyFfmpegStderr(lines);
        return reject(probeError(said.kind === 'other' ? { kind: 'timeout', message: `no frame within ${timeoutMs / 1000} s` } : said, source));
      }
      const stream = parseVideoStream(lines);
      const data = Buffer.concat(chunks);
      if (code !== 0 || !stream || firstByteAt === undefined || data.length !== stream.width * stream.height * 3) {
        const failure = classifyFfmpegStderr(lines);
        return reject(probeError(code === 0 && failure.kind === 'other' ? { kind: 'not_video', message: 'no video frame' } : failure, source));
      }
      resolve({
        source,
        codec: stream.codec,
        profile: stream.profile,
        width: stream.width,
        height: stream.height,
        shown: shownSize(stream),
        fps: stream.fps,
        interlaced: stream.interlaced,
        time_to_first_frame_ms: Math.round(firstByteAt - started),
        frame: { width: stream.width, height: stream.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) },
      });
    });
  });
}

export interface VideoStreamInfo {
  codec: string;
  profile: string | null;
  width: number;
  height: number;
  fps: number | null;
  /** The matrix FFmpeg converts its pixels with (streamMatrix). */
  matrix: YuvMatrix;
  /** A pixel's width over its height as shown (sampleAspect): 1 for square pixels. */
  sar: number;
  /** Whether the stream says its frames are interlaced (interlacedStream). */
  interlaced: boolean;
}

/** A stream's size as shown: its stored width at its pixels' aspect. */
export function shownSize(stream: Pick<VideoStreamInfo, 'width' | 'height' | 'sar'>): { width: number; height: number } {
  return { width: Math.round(stream.width * stream.sar), height: stream.height };
}

/**
 * Whether a stream line's pixel format names a field order ("yuv420p(tv, bt470bg, top first)",
 * "bottom first", or coded in the other order, "top coded first (swapped)"): an interlaced
 * stream, as analog encoders and 1080i cameras send. "progressive", or nothing, is not.
 */
export function interlacedStream(line: string): boolean {
  return /[(,] ?(?:top|bottom)(?: coded)? first\b/.test(line);
}

/** The sample aspect ratio a stream line declares ("1440x1080 [SAR 4:3 DAR 16:9]"), as `pixelAspect` reads it. */
export function sampleAspect(line: string): number {
  return pixelAspect(/\[SAR (\d{1,5}:\d{1,5}) DAR \d{1,5}:\d{1,5}\]/.exec(line)?.[1]);
}

/**
 * A sample aspect ratio ("4:3", as FFmpeg and ffprobe write it): what a stored pixel's width is as
 * shown, over its height. 1 where none is given, or 0:1 (unknown), as FFmpeg's scale filter reads
 * it; a ratio past 1:16..16:1 is no camera's and is taken as 1.
 */
export function pixelAspect(ratio: string | undefined): number {
  const m = /^(\d{1,5}):(\d{1,5})$/.exec(ratio ?? '');
  const sar = m ? Number(m[1]) / Number(m[2]) : 1;
  return Number.isFinite(sar) && sar >= 1 / 16 && sar <= 16 ? sar : 1;
}

/**
 * The matrix of the pixel format in a stream line, "yuv420p(tv, bt709, progressive)" or
 * "yuv420p(tv, bt470bg/bt709/bt709)" (space/primaries/transfer when they differ): BT.709 where the
 * stream says its matrix is, BT.601 otherwise, as FFmpeg's converter does for these two.
 */
export function streamMatrix(line: string): YuvMatrix {
  const m = /, [a-z0-9_]+\(([^)]*)\), \d{2,5}x\d{2,5}/i.exec(line);
  const spaces = m ? m[1]!.split(', ').map((t) => t.split('/')[0]) : [];
  return matrixNamed(spaces.find((t) => t === 'bt709'));
}

/** The input's first video stream from FFmpeg's info log: "Stream #0:0: Video: h264 (Main), yuv420p(...), 1280x720 [SAR 1:1], 5 fps, ...". */
export function parseVideoStream(lines: readonly string[]): VideoStreamInfo | undefined {
  for (const line of lines) {
    if (/^Output #/.test(line)) break;
    const m = /Stream #\d+:\d+[^:]*: Video: ([a-z0-9_]+)(?: \(([^)]*)\))?.*?, (\d{2,5})x(\d{2,5})/i.exec(line);
    if (!m) continue;
    const fps = /, ([\d.]+)(k?) fps/.exec(line);
    return {
      codec: m[1] as string,
      profile: m[2] ?? null,
      width: Number(m[3]),
      height: Number(m[4]),
      fps: fps ? Number(fps[1]) * (fps[2] ? 1000 : 1) : null,
      matrix: streamMatrix(line),
      sar: sampleAspect(line),
      interlaced: interlacedStream(line),
    };
  }
  return undefined;
}

/** The rotation a stream's display matrix asks for, in degrees, from its side-data line ("displaymatrix: rotation of -90.00 degrees"). */
export function displayRotation(line: string): number | undefined {
  const m = /displaymatrix: rotation of (-?\d+(?:\.\d+)?) degrees/.exec(line);
  return m ? Number(m[1]) : undefined;
}

const PROBE_ERRORS: Record<Failure['kind'], { code: `FG_ERR_${string}`; hint: string }> = {
  unauthorized: { code: 'FG_ERR_CAMERA_UNAUTHORIZED', hint: "check the user and password in the URL (the user:password@ before the host; write '/', '?', '#' and '%' in them as %2F, %3F, %23, %25)" },
  not_found: { code: 'FG_ERR_CAMERA_NOT_FOUND', hint: "check the stream path in the URL (see the camera's manual or its ONVIF profile)" },
  refused: { code: 'FG_ERR_CAMERA_UNREACHABLE', hint: 'check the host and port (RTSP is usually 554) and that RTSP is enabled on the camera' },
  unreachable: { code: 'FG_ERR_CAMERA_UNREACHABLE', hint: 'check the host address and that this box can reach it' },
  timeout: { code: 'FG_ERR_CAMERA_TIMEOUT', hint: 'check that the host is the camera and that it is on; try --transport udp or a longer --timeout' },
  not_video: { code: 'FG_ERR_CAMERA_NOT_VIDEO', hint: "the URL is not a camera's video stream: check it" },
  codec: { code: 'FG_ERR_CAMERA_CODEC', hint: 'set the camera to H.264 or H.265' },
  ffmpeg_missing: { code: 'FG_ERR_FFMPEG_MISSING', hint: 'install FFmpeg: apt-get install ffmpeg' },
  ended: { code: 'FG_ERR_CAMERA_NOT_VIDEO', hint: "the URL is not a camera's video stream: check it" },
  stalled: { code: 'FG_ERR_CAMERA_TIMEOUT', hint: 'check the camera and the network' },
  other: { code: 'FG_ERR_CAMERA_FAILED', hint: "FFmpeg's message is above; check the URL" },
};

/** The hints of a video file or device, where PROBE_ERRORS speak of a camera's URL. */
const FILE_HINTS: Partial<Record<Failure['kind'], string>> = {
  not_found: 'check the path of the file (relative to the folder the command runs in), or give an absolute one',
  not_video: 'give a video file FFmpeg can read (MP4, MKV, WebM ...)',
  ended: 'give a video file FFmpeg can read (MP4, MKV, WebM ...)',
};

function probeError(failure: Failure, source: string): FacegateError {
  const { code, hint } = PROBE_ERRORS[failure.kind];
  const fileHint = sourceKind(source) === 'file' ? FILE_HINTS[failure.kind] : undefined;
  return new FacegateError(code, `${source}: ${failure.message}`, fileHint ?? hint);
}
