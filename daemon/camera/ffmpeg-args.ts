import { FacegateError } from '../base/errors.js';
import type { CameraConfig } from './config.js';
import { filePath, sourceKind } from './source.js';

export type FfmpegInput = Pick<CameraConfig, 'url' | 'transport' | 'hwaccel' | 'input_args' | 'watchdog_s' | 'loop'>;
export type FfmpegOutput = Pick<CameraConfig, 'width' | 'height' | 'fps'> & Partial<Pick<CameraConfig, 'deinterlace'>>;
/**
 * Every frame of the stream; or, while the scene is quiet (CameraConfig.idle_keyframes_after_s),
 * only its key frames, or every frame of the camera's sub stream (CameraConfig.sub_url).
 */
export type Decoding = 'all' | 'keyframes' | 'sub_stream';

/**
 * How FFmpeg is started: its arguments, and what is written to its stdin. Every local user can
 * read a process's arguments (`ps`, /proc/PID/cmdline); its stdin only its own user and root.
 */
export interface FfmpegCommand {
  args: string[];
  /** A concat script naming the input URL and its demuxer options, or null (stdin closed). */
  stdin: string | null;
}

/** FFmpeg's own socket timeout is longer than the watchdog, so that the watchdog decides and names the stall. */
export const FFMPEG_TIMEOUT_MARGIN_S = 5;

/**
 * The protocols a network camera's input may use once FFmpeg reads its URL from the script on
 * stdin (the pipe protocol allows only crypto and data after it by default). No 'file': a stream
 * cannot make FFmpeg open a local file.
 */
const NETWORK_PROTOCOLS = 'pipe,tcp,udp,rtp,srtp,tls,crypto,data,http,https,httpproxy,rtmp,rtmps,rtmpt,rtmpts,rtmpe,rtmpte,ffrtmphttp,ffrtmpcrypt,srt,rist,hls';

/**
 * FFmpeg's own per-input options (ffmpeg(1), 5.x to 7.x) and decoder options, which stay on its
 * command line; `true` marks the ones that take no value. Every other option in input_args is an
 * option of the stream's demuxer or protocol (rtsp_flags, max_delay, user_agent...) and goes into
 * the script with the URL, where the RTSP demuxer gets it.
 */
const CLI_INPUT_OPTIONS: ReadonlyMap<string, boolean> = new Map([
  ...['f', 'c', 'codec', 'vcodec', 'hwaccel', 'hwaccel_device', 'hwaccel_output_format', 'ss', 'sseof', 't', 'to', 'itsoffset', 'itsscale', 'stream_loop', 'thread_queue_size', 'discard', 'r', 's', 'pix_fmt', 'readrate', 'readrate_initial_burst', 'display_rotation', 'dump_attachment', 'threads', 'skip_frame', 'skip_loop_filter', 'flags', 'flags2', 'err_detect', 'ec', 'lowres', 'dec', 'top', 'canvas_size', 'guess_layout_max'].map((o) => [o, false] as const),
  ...['re', 'vn', 'an', 'sn', 'dn', 'accurate_seek', 'noaccurate_seek', 'autorotate', 'noautorotate', 'display_hflip', 'display_vflip', 'find_stream_info', 'nofind_stream_info', 'fix_sub_duration', 'bitexact', 'apply_cropping'].map((o) => [o, true] as const),
]);

/**
 * Options before -i, and the script on stdin when the URL carries a secret.
 *
 * A network URL with credentials (or any query string, where some cameras put a token) never goes
 * into FFmpeg's argv: FFmpeg reads it from a concat script on stdin (`-f concat -i pipe:0`), whose
 * `option` lines hand the RTSP options to the RTSP demuxer as `-rtsp_transport` would. Measured
 * with Debian's FFmpeg 5.1 on a GStreamer RTSP server: the same frames and the same time to first
 * frame (1.17 s both ways). A URL with nothing to hide, and a file, are given to -i as before,
 * unless `inputOnStdin`: an FFmpeg started ahead of need reads its input once the script comes
 * (FfmpegCamera's standby).
 */
export function ffmpegInput(input: FfmpegInput, logLevel: 'error' | 'info' | 'level+info' = 'error', decoding: Decoding = 'all', inputOnStdin = false): FfmpegCommand {
  // Above `error`, FFmpeg would also print a progress line every half second.
  const args = ['-hide_banner', '-nostdin', ...(logLevel === 'error' ? [] : ['-nostats']), '-loglevel', logLevel];
  // Probing 0.1 s / 32 KiB instead of the default 5 s cuts time to first frame from ~6 s to ~1.2 s on a
  // 1 s GOP (measured; the rest is the wait for a keyframe). Less probing (`-analyzeduration 0`,
  // `-probesize 32`) and `-fflags nobuffer -flags low_delay` change nothing: started at fixed points
  // of a live feed's GOP, FFmpeg handed over its first frame 0.25 s after the key frame was sent
  // with each, as it hands over every later frame. A camera that needs more probing can raise both
  // in input_args: FFmpeg keeps the last value given.
  const probing = ['-analyzeduration', '100000', '-probesize', '32768'];
  args.push(...probing);
  // One decoding thread per camera. FFmpeg's default (frame threads, one per core) holds back a
  // frame per extra thread and costs more CPU for the same frames: decoding a busy 1080p scene at
  // 15 fps (H.264, CRF 28) took 2.2 ms a frame with the default and 2.0 ms with one thread on this
  // project's 2-core box, and a box with several cameras keeps every core busy with them anyway.
  // A camera that needs more (4K at 25 fps on a slow core) sets `-threads` in input_args: FFmpeg
  // keeps the last value given.
  args.push('-threads', '1');
  if (input.hwaccel !== 'none') args.push('-hwaccel', input.hwaccel);
  // The decoder drops every frame but the key frames before it decodes them: what a quiet camera
  // costs is then parsing the stream and one picture a GOP.
  if (decoding === 'keyframes') args.push('-skip_frame', 'nokey');
  const kind = sourceKind(input.url);
  const demuxer: string[] = [];
  if (kind === 'rtsp') {
    const timeoutUs = Math.round((input.watchdog_s + FFMPEG_TIMEOUT_MARGIN_S) * 1e6);
    demuxer.push('-rtsp_transport', input.transport, '-timeout', String(timeoutUs));
  } else if (kind === 'file') {
    // A file plays in real time, as a camera would, so that demos and tests use the same path.
    args.push('-re');
    if (input.loop) args.push('-stream_loop', '-1');
  }
  if (kind === 'file' || (!carriesSecret(input.url) && !inputOnStdin)) {
    args.push(...demuxer, ...input.input_args, '-i', kind === 'file' ? filePath(input.url) : input.url);
    return { args, stdin: null };
  }
  // The probing options in args are the concat demuxer's own; the script gives them to the stream's.
  const { cli, options } = splitInputArgs([...probing, ...demuxer, ...input.input_args]);
  args.push(...cli, '-protocol_whitelist', NETWORK_PROTOCOLS, '-f', 'concat', '-safe', '0', '-i', 'pipe:0');
  const script = ['ffconcat version 1.0', `file ${quote(input.url)}`, ...options.map(([k, v]) => `option ${k} ${quote(v)}`)];
  return { args, stdin: script.join('\n') + '\n' };
}

/** A user name, password or query in a network URL: what must stay out of every process's argv. */
export function carriesSecret(url: string): boolean {
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)([^#]*)/i.exec(url);
  if (!m) return false;
  return (m[1] ?? '').includes('@') || (m[2] ?? '').includes('?');
}

/** input_args split into FFmpeg's own options (kept in argv) and the demuxer's (`-name value` → [name, value]). */
export function splitInputArgs(inputArgs: readonly string[]): { cli: string[]; options: [string, string][] } {
  const cli: string[] = [];
  const options: [string, string][] = [];
  for (let i = 0; i < inputArgs.length; i++) {
    const arg = inputArgs[i] as string;
    if (!arg.startsWith('-') || arg.length < 2) {
      throw new FacegateError('FG_ERR_CAMERA_INPUT_ARGS', `input_args: ${JSON.stringify(arg)} is not an option`, 'write input_args as option names and their values: [-rtsp_flags, prefer_tcp]');
    }
    const name = arg.slice(1);
    const flag = CLI_INPUT_OPTIONS.get(name.split(':')[0] as string);
    if (flag === true) {
      cli.push(arg);
      continue;
    }
    const value = inputArgs[++i];
    if (value === undefined) throw new FacegateError('FG_ERR_CAMERA_INPUT_ARGS', `input_args: ${arg} has no value`, 'give each option its value: [-rtsp_flags, prefer_tcp]');
    if (flag === false) cli.push(arg, value);
    else options.push([name, value]);
  }
  return { cli, options };
}

/** A concat-script token: single-quoted, a quote in it written as '\''. Line breaks would start a new directive. */
function quote(value: string): string {
  if (/[\r\n\0]/.test(value)) {
    throw new FacegateError('FG_ERR_CAMERA_URL', 'a camera URL or input_args value holds a line break', 'remove the line break from the camera url and input_args');
  }
  return `'${value.replace(/'/g, "'\\''")}'`;
}

/**
 * Raw YUV 4:2:0 frames (I420) of exactly width×height at `fps` on stdout: the decoder's own
 * format, so FFmpeg spends nothing on colour conversion and the pipe carries half the bytes of
 * RGB. The fps filter makes the output constant-rate (frame i is at i/fps s of the stream);
 * `-fps_mode passthrough` stops the muxer from inventing duplicate frames when the camera goes
 * quiet, which would fool the watchdog.
 *
 * The picture is scaled to fit inside width×height keeping its aspect as shown, and the rest
 * padded black (centred). Stretched to another aspect, a face is no longer a face's shape: the
 * recogniser's alignment (a similarity) cannot undo it, the eye and landmark models read it worse,
 * and a head that turns moves its surround as a held picture does. A 4:3 camera left at 1280×720
 * was stretched by 1.33, a corridor-mode (9:16) one by 3.2. See `letterbox` for where the picture
 * lies.
 *
 * As shown, not as stored: a stream of non-square pixels (an analog encoder's 720×576 or 704×576,
 * HDV's 1440×1080) declares its sample aspect ratio, and its display aspect (`dar`, iw / ih × sar)
 * is what is fitted; FFmpeg's force_original_aspect_ratio reads the stored size alone, which
 * squeezed a 1440×1080 16:9 stream to 4:3 and a PAL 720×576 one by 6 %. Each side is rounded as
 * force_original_aspect_ratio with force_divisible_by=2 rounds it (to the nearest pixel, then down
 * to even), so a stream of square pixels is fitted to exactly the size it was before.
 *
 * `deinterlace` rebuilds each interlaced frame from its two fields first (bwdif, one frame a frame;
 * frames the decoder marks progressive pass as they are), before the rate filter picks frames and
 * before scaling, which would blend the fields' lines. Every deinterlacer holds a frame back to
 * read the next, so only on every frame of the main stream: on key frames it would hold each one a
 * GOP, and a quiet spell's sub stream only watches for the next visitor, who is then read on the
 * main stream.
 */
export function outputArgs(output: FfmpegOutput, decoding: Decoding = 'all'): string[] {
  const { width: w, height: h } = output;
  const fps = outputFps(output, decoding);
  const fields = output.deinterlace === true && decoding === 'all' ? `${DEINTERLACE},` : '';
  const rate = `${fields}${fps === null ? '' : `fps=${fps},`}`;
  const fit = `scale=w='max(2,trunc(min(${w},round(${h}*dar))/2)*2)':h='max(2,trunc(min(${h},round(${w}/dar))/2)*2)',setsar=1`;
  const vf = `${rate}${fit},pad=${w}:${h}:(ow-iw)/2:(oh-ih)/2`;
  // One encoder thread: FFmpeg's default gives the rawvideo "encoder" a frame thread per core, and
  // each holds a frame, so a frame reached the pipe only once as many newer ones had been decoded
  // (measured with FFmpeg 5.1 on this 2-core box: each key frame of a quiet camera a whole GOP
  // late; on a 16-core box a camera would run 15 frames, a second at 15 fps, behind).
  return ['-map', '0:v:0', '-an', '-sn', '-dn', '-vf', vf, '-fps_mode', 'passthrough', '-threads', '1', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', 'pipe:1'];
}

/** FFmpeg's bwdif, field order as the stream says it, only on frames the decoder marks interlaced. */
export const DEINTERLACE = 'bwdif=mode=send_frame:parity=auto:deint=interlaced';

/**
 * The most frames a second a quiet scene's sub stream is handed over at: a quiet frame is only
 * looked at for motion and faces, and five a second see a visitor within 200 ms. Measured, two a
 * second cost the daemon no less and found the visitor later (docs/camera.md).
 */
export const SUB_STREAM_FPS = 5;

/** The rate frames are handed over at, or null for key frames, which pass as they come (an fps filter would repeat each up to the rate). */
export function outputFps(output: Pick<FfmpegOutput, 'fps'>, decoding: Decoding): number | null {
  return decoding === 'keyframes' ? null : decoding === 'sub_stream' ? Math.min(output.fps, SUB_STREAM_FPS) : output.fps;
}

/**
 * Where a stream of `stream`'s size as shown lies in a frame of `frame`'s size (outputArgs), in the
 * frame's pixels, rounded as FFmpeg's scale and pad filters round: each side scaled to the nearest
 * pixel, then down to even, and the offsets down to even (4:2:0 chroma).
 */
export function letterbox(stream: Size, frame: Size): { x: number; y: number; width: number; height: number } {
  const even = (v: number) => Math.max(2, Math.floor(v / 2) * 2);
  const width = even(Math.min(frame.width, Math.round((frame.height * stream.width) / stream.height)));
  const height = even(Math.min(frame.height, Math.round((frame.width * stream.height) / stream.width)));
  const offset = (room: number) => Math.floor(Math.floor(room / 2) / 2) * 2;
  return { x: offset(frame.width - width), y: offset(frame.height - height), width, height };
}

interface Size {
  width: number;
  height: number;
}

/**
 * Black bars worth a word: a stream whose picture as shown, fitted into the frame (`letterbox`),
 * leaves more than 2 % of it black. The picture, and the frame width that keeps the stream's
 * proportion at the frame's height (even), which uses the whole frame.
 */
export function barsToSay(stream: Size, frame: Size): { picture: ReturnType<typeof letterbox>; proportionalWidth: number } | undefined {
  const picture = letterbox(stream, frame);
  if (picture.width * picture.height >= 0.98 * frame.width * frame.height) return undefined;
  return { picture, proportionalWidth: Math.round((frame.height * stream.width) / stream.height / 2) * 2 };
}

/**
 * A camera's width and height against its stream's shape as shown (doctor, `camera test --camera`):
 * the picture fitted in with black bars (the camera says so too, at its first frame), and its faces
 * that much smaller than the frame would let them be.
 */
export function aspectWarning(camera: { name: string } & Size, shown: Size): { code: 'FG_WARN_CAMERA_ASPECT'; message: string; hint: string } | undefined {
  const bars = barsToSay(shown, camera);
  if (!bars) return undefined;
  const { picture } = bars;
  return {
    code: 'FG_WARN_CAMERA_ASPECT',
    message: `camera "${camera.name}" shows ${shown.width}x${shown.height}, fitted into ${camera.width}x${camera.height} with black bars: the picture is ${picture.width}x${picture.height}`,
    hint: `set width: ${bars.proportionalWidth}, height: ${camera.height} for camera "${camera.name}" (or another size in the stream's proportion)`,
  };
}

/**
 * An interlaced stream read without `deinterlace`: each frame is woven from two fields taken a field
 * apart, so a face that moves shows both fields' lines (its edges combed), which the blur gate reads
 * as detail and the recogniser as another face. `camera` is the configured camera, or undefined for
 * a URL tested on its own.
 */
export function interlaceWarning(camera: { name: string; deinterlace: boolean } | undefined, interlaced: boolean): { code: 'FG_WARN_CAMERA_INTERLACED'; message: string; hint: string } | undefined {
  if (!interlaced || camera?.deinterlace === true) return undefined;
  return {
    code: 'FG_WARN_CAMERA_INTERLACED',
    message: `${camera ? `camera "${camera.name}"` : 'the camera'} sends interlaced video: a moving face shows the lines of two fields`,
    hint: `set deinterlace: true for ${camera ? `camera "${camera.name}"` : 'the camera'} (or set the camera or its encoder to progressive output)`,
  };
}

/** The file descriptor of FFmpeg's second output, the camera clock's (clockOutputArgs). */
export const CLOCK_FD = 3;

/**
 * A second output for a camera whose capture times are measured (docs/camera.md, "Capture
 * times"): the video stream-copied into a fragmented MP4 on fd 3, one fragment per packet, each
 * after a `prft` box with the packet's time by the camera's clock (once an RTCP sender report came;
 * the time of muxing before). It costs the stream's own bitrate through a pipe, about a hundredth
 * of the raw frames'.
 */
export function clockOutputArgs(): string[] {
  return ['-map', '0:v:0', '-c', 'copy', '-f', 'mp4', '-movflags', 'frag_every_frame+empty_moov', '-write_prft', 'wallclock', `pipe:${CLOCK_FD}`];
}

/**
 * `clock`: add the camera clock's output (clockOutputArgs), for an RTSP camera only (a file has
 * no sender reports).
 */
export function ffmpegCommand(camera: FfmpegInput & FfmpegOutput & Pick<CameraConfig, 'sub_url'>, clock = false, decoding: Decoding = 'all', inputOnStdin = false): FfmpegCommand {
  // Info, tagged with its level: the stream's line says its matrix, and the camera keeps only the
  // error lines (ffmpegLogLine).
  const input = ffmpegInput(decoding === 'sub_stream' ? { ...camera, url: subUrl(camera) } : camera, 'level+info', decoding, inputOnStdin);
  const measured = clock && sourceKind(camera.url) === 'rtsp';
  return { args: [...input.args, ...outputArgs(camera, decoding), ...(measured ? clockOutputArgs() : [])], stdin: input.stdin };
}

/** The sub stream's URL, which only a camera that has one is ever asked to decode. */
function subUrl(camera: Pick<CameraConfig, 'sub_url'>): string {
  if (camera.sub_url === undefined) throw new Error('a camera without sub_url cannot decode its sub stream');
  return camera.sub_url;
}
