// How fast a shared machine is at the moment of a bench run, for benches whose figures move with it.
import { spawnSync } from 'node:child_process';

/** Frames of the footage that boxSpeed decodes: ten seconds at 15 fps, about half a second of work. */
const SPEED_FRAMES = 150;

/**
 * How fast this box is at the moment, as a camera's decoder finds it: FFmpeg's CPU time a frame
 * (user and system, one thread) to decode the first SPEED_FRAMES of `file`, the median of three
 * decodes; run with nothing else of the bench running. A shared machine's speed drifts within an
 * hour under the same code, and the daemon's figures with it (docs/daemon.md, How many cameras a
 * box takes): they compare between runs at about the same speed. Undefined where FFmpeg did not
 * decode the file or did not say.
 */
export function boxSpeed(file: string): number | undefined {
  const decodes = [0, 1, 2].map(() => decodeMsPerFrame(file)).filter((ms): ms is number => ms !== undefined);
  return decodes.length === 3 ? decodes.sort((a, b) => a - b)[1] : undefined;
}

function decodeMsPerFrame(file: string): number | undefined {
  const run = spawnSync('ffmpeg', ['-hide_banner', '-nostats', '-benchmark', '-threads', '1', '-i', file, '-frames:v', String(SPEED_FRAMES), '-f', 'null', '-'], { encoding: 'utf8', maxBuffer: 1 << 20 });
  const bench = /bench: utime=([\d.]+)s stime=([\d.]+)s/.exec(run.stderr ?? '');
  return run.status === 0 && bench ? ((Number(bench[1]) + Number(bench[2])) * 1000) / SPEED_FRAMES : undefined;
}

/** The line a run ends with: the box's speed before it and after it, decoding `footage`. */
export function speedLine(footage: string, before: number | undefined, after: number | undefined): string {
  const ms = (v: number | undefined) => (v === undefined ? '-' : v.toFixed(2));
  return `  box speed: FFmpeg decodes ${footage} in ${ms(before)} ms a frame before the run, ${ms(after)} after (CPU time, one thread; compare runs at like speeds)`;
}
