/**
 * One line of progress with an ETA for a long CLI operation (a scan, a folder of photos, an import),
 * redrawn in place on a terminal. Only on a terminal: a pipe, a log file or `--json` output gets
 * none, so that what a script reads is never mixed with carriage returns.
 */

/** Where the line goes: the CLI's stderr, and whether it is a terminal. */
export interface ProgressTarget {
  write(text: string): void;
  readonly isTty: boolean;
}

export interface ProgressOptions {
  /** What is being done, first on the line: "scan entrance.mp4". */
  readonly label: string;
  /** How much there is to do in `unit`s, when known; without it no share or ETA is shown. */
  readonly total: number | undefined;
  /** How an amount is written: seconds of video as "54.0 s", files as "12 photos". */
  readonly format: (amount: number) => string;
  /** Milliseconds on a monotonic clock. */
  readonly now?: () => number;
  /** Fewest milliseconds between two redraws: a redraw per frame would cost more than the frame. */
  readonly everyMs?: number;
}

export interface Progress {
  /** How much is done so far (not an increment). */
  update(done: number): void;
  /** Clears the line, so that what is printed next starts on a clean one. */
  finish(): void;
}

const SILENT: Progress = { update: () => undefined, finish: () => undefined };

/** A reporter that draws on a terminal and is silent otherwise (`quiet`: --json asked for). */
export function progressReporter(target: ProgressTarget, o: ProgressOptions & { quiet?: boolean }): Progress {
  if (o.quiet || !target.isTty) return SILENT;
  const now = o.now ?? (() => performance.now());
  const everyMs = o.everyMs ?? 250;
  const startMs = now();
  let lastDrawMs = -Infinity;
  let drawn = false;
  return {
    update(done) {
      const t = now();
      if (t - lastDrawMs < everyMs) return;
      lastDrawMs = t;
      drawn = true;
      target.write(`\r\x1b[K${progressLine(o, done, t - startMs)}`);
    },
    finish() {
      if (drawn) target.write('\r\x1b[K');
      drawn = false;
    },
  };
}

/** The text of one redraw: "scan a.mp4  45%  54.0 s of 120.0 s  ETA 1m 06s". */
export function progressLine(o: Pick<ProgressOptions, 'label' | 'total' | 'format'>, done: number, elapsedMs: number): string {
  if (o.total === undefined || !(o.total > 0)) return `${o.label}  ${o.format(done)}`;
  const share = Math.min(1, Math.max(0, done / o.total));
  // The rate so far stands for the rest: an ETA once something is done, none before.
  const eta = share > 0 && share < 1 && elapsedMs > 0 ? `  ETA ${duration(((elapsedMs / 1000) * (1 - share)) / share)}` : '';
  return `${o.label}  ${String(Math.floor(share * 100)).padStart(3)}%  ${o.format(done)} of ${o.format(o.total)}${eta}`;
}

/** 75 → "1m 15s", 3725 → "1h 02m", 9 → "9s". */
export function duration(seconds: number): string {
  const wholeSeconds = Math.max(0, Math.round(seconds));
  if (wholeSeconds < 60) return `${wholeSeconds}s`;
  if (wholeSeconds < 3600) return `${Math.floor(wholeSeconds / 60)}m ${String(wholeSeconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(wholeSeconds / 3600)}h ${String(Math.floor((wholeSeconds % 3600) / 60)).padStart(2, '0')}m`;
}
