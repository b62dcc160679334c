import { redactText } from '../base/log.js';

/** Why a connection failed, reduced from FFmpeg's stderr to what a technician can act on. */
export type FailureKind =
  | 'unauthorized'
  | 'not_found'
  | 'refused'
  | 'timeout'
  | 'unreachable'
  | 'not_video'
  | 'codec'
  | 'ended'
  | 'stalled'
  | 'ffmpeg_missing'
  | 'other';

export interface Failure {
  kind: FailureKind;
  /** One line for health output and logs, credentials removed. */
  message: string;
}

/** Failures that retrying will not fix until someone changes the camera or the config. */
const NEEDS_A_PERSON: ReadonlySet<FailureKind> = new Set(['unauthorized', 'not_found', 'not_video', 'codec', 'ffmpeg_missing']);

export function needsAPerson(kind: FailureKind): boolean {
  return NEEDS_A_PERSON.has(kind);
}

const RULES: readonly { kind: FailureKind; test: RegExp; message: string }[] = [
  // First: without its device, FFmpeg 5.1 stops at the first frame rather than decode on the CPU,
  // and its lines around it can name a missing file (/dev/dri) that is not the camera's.
  {
    kind: 'codec',
    test: /Device creation failed|No device available for decoder|Device setup failed for decoder/i,
    message: 'hardware decoding unavailable: FFmpeg cannot open the GPU decoder that hwaccel names (no GPU, driver or /dev/dri on this box): set hwaccel: none',
  },
  { kind: 'unauthorized', test: /401 Unauthorized|authorization failed/i, message: '401 unauthorized: wrong user or password in the URL' },
  { kind: 'not_found', test: /404 Not Found/i, message: '404 stream not found: wrong path in the URL' },
  { kind: 'not_found', test: /No such file or directory/i, message: 'file not found' },
  { kind: 'refused', test: /Connection refused/i, message: 'connection refused: nothing listens at that host and port' },
  { kind: 'timeout', test: /timed out|Connection timeout/i, message: 'timeout: the host did not answer' },
  {
    kind: 'unreachable',
    test: /No route to host|Network is unreachable|Name or service not known|Temporary failure in name resolution|Failed to resolve/i,
    message: 'host unreachable: check the address and the network',
  },
  {
    kind: 'not_video',
    test: /matches no streams|does not contain any stream|Invalid data found when processing input/i,
    message: 'not a video stream: the URL answers, but with no video FFmpeg can read',
  },
  {
    kind: 'codec',
    test: /Decoder \(codec [^)]*\) not found|Unsupported codec|Could not find codec parameters|Failed setup for format|No decoder surfaces|hwaccel initiali[sz]ation returned error/i,
    message: 'codec unsupported: FFmpeg cannot decode this stream (try hwaccel: none, or set the camera to H.264)',
  },
];

/** The most useful line of FFmpeg's stderr: a known cause if any line shows one, else the last line. */
export function classifyFfmpegStderr(lines: readonly string[]): Failure {
  const text = lines.join('\n');
  for (const rule of RULES) {
    const match = rule.test.exec(text);
    if (match) return { kind: rule.kind, message: rule.message };
  }
  const last = [...lines].reverse().find((l) => l.trim() !== '');
  return { kind: 'other', message: last ? oneLine(last) : 'FFmpeg exited without saying why' };
}

/** A stderr line fit for a log: credentials removed, `[rtsp @ 0x...]` prefix dropped, bounded length. */
export function oneLine(line: string): string {
  const clean = redactText(line).replace(/^\[[^\]]*@ 0x[0-9a-f]+\]\s*/i, '').trim();
  return clean.length > 200 ? clean.slice(0, 199) + '…' : clean;
}

/** FFmpeg's `-loglevel level+…` tag, after the context of the line if it has one: "[tcp @ 0x55…] [error] Connection …". */
const LEVEL_TAG = /^((?:\[[^\]]* @ 0x[0-9a-f]+\] )?)\[(panic|fatal|error|warning|info|verbose|debug|trace)\] /;

/** A line of FFmpeg's log with its level tag taken out (level undefined for an untagged line). */
export function ffmpegLogLine(line: string): { level: string | undefined; text: string } {
  const m = LEVEL_TAG.exec(line);
  return m ? { level: m[2], text: m[1] + line.slice(m[0].length) } : { level: undefined, text: line };
}

/**
 * The last few stderr lines, to say why FFmpeg failed; bounded, since FFmpeg may log a line per
 * frame when a stream is damaged. `keep` sees each whole line first and returns what to keep of
 * it, or undefined to leave it out.
 */
export class StderrTail {
  private lines: string[] = [];
  private partial = '';
  constructor(
    private readonly max = 20,
    private readonly keep: (line: string) => string | undefined = (line) => line,
  ) {}

  push(chunk: string): void {
    const parts = (this.partial + chunk).split(/\r?\n|\r/);
    this.partial = (parts.pop() ?? '').slice(-2000);
    for (const line of parts) {
      const kept = line.trim() === '' ? undefined : this.keep(line);
      if (kept !== undefined) this.add(kept);
    }
  }

  /** Everything so far, the unfinished last line included. */
  all(): string[] {
    return this.partial.trim() !== '' ? [...this.lines, this.partial] : [...this.lines];
  }

  private add(line: string): void {
    this.lines.push(line.slice(0, 2000));
    if (this.lines.length > this.max) this.lines.shift();
  }
}
