import type { YuvMatrix } from '../base/image.js';
import { ffmpegLogLine, StderrTail } from './ffmpeg-errors.js';
import { displayRotation, parseVideoStream, shownSize, type VideoStreamInfo } from './probe.js';

/**
 * What one FFmpeg process's log says, read as its lines come: the last error lines, to say why it
 * failed (classifyFfmpegStderr), and from its info lines the input stream's matrix and its size as
 * shown. Its info lines are read and left out of the tail. One per process: a process started
 * beside the current one keeps its own until it becomes current.
 */
export class FfmpegLog {
  private readonly tail = new StderrTail(20, (line) => this.read(line));
  private matrixSaid: YuvMatrix = 'bt601';
  private size: Pick<VideoStreamInfo, 'width' | 'height'> | undefined;
  private fps: number | null = null;
  private woven = false;
  /** Whether the input's display matrix was read: the output's comes after it and says nothing. */
  private rotationRead = false;

  /** A chunk of FFmpeg's stderr. */
  push(chunk: string): void {
    this.tail.push(chunk);
  }

  /** The error lines kept, the unfinished last line included. */
  errors(): string[] {
    return this.tail.all();
  }

  /** The matrix of the stream, once FFmpeg has said it; until then FFmpeg's own default. */
  get matrix(): YuvMatrix {
    return this.matrixSaid;
  }

  /** The input stream's own size as shown (its pixels at their aspect, turned by its display matrix), once FFmpeg has said it. */
  get streamSize(): Pick<VideoStreamInfo, 'width' | 'height'> | undefined {
    return this.size;
  }

  /** The frame rate the input stream declares, once FFmpeg has said it (null when it says none). */
  get sourceFps(): number | null {
    return this.fps;
  }

  /** Whether the input stream says it is interlaced (its frames woven from two fields), once FFmpeg has said it. */
  get interlaced(): boolean {
    return this.woven;
  }

  /** An FFmpeg log line: its input stream's line gives the matrix; only error lines are kept. */
  private read(line: string): string | undefined {
    const { level, text } = ffmpegLogLine(line);
    if (level === 'info') {
      const stream = parseVideoStream([text]);
      if (stream) {
        this.matrixSaid = stream.matrix;
        // The input's stream line comes first; the output's (the frame size and asked rate) after it.
        if (!this.size) {
          this.fps = stream.fps;
          this.woven = stream.interlaced;
        }
        // As shown: a stream of non-square pixels is fitted by its display aspect (outputArgs).
        this.size ??= shownSize(stream);
      }
      // A phone's video stored on its side: FFmpeg turns the picture upright before scaling it.
      const rotation = displayRotation(text);
      if (rotation !== undefined && this.size && !this.rotationRead) {
        this.rotationRead = true;
        if (Math.abs(Math.round(rotation)) % 180 === 90) this.size = { width: this.size.height, height: this.size.width };
      }
    }
    return level === undefined || level === 'error' || level === 'fatal' || level === 'panic' ? text : undefined;
  }
}
