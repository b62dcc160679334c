/**
 * Bounds what a flood of refused requests costs: anyone who may publish on the broker can send
 * thousands of junk requests a second, and each one written to the log, the audit table and the
 * outbox would let them fill the disk and drown real entries. Per kind of refusal, the first
 * `detailed` of each window are handled one by one; the rest are only counted, by reason, and
 * reported as one summary when the window ends. A fixed window rather than a token bucket: the
 * summary then covers a stated span of time ("in the last 60 s"), which is what a reader needs.
 */
export interface FloodWindow {
  windowMs: number;
  /** Handled one by one in each window before the rest are summarized. */
  detailed: number;
}

export const DEFAULT_FLOOD_WINDOW: FloodWindow = { windowMs: 60_000, detailed: 10 };

/** Reasons kept apart in a summary; past this, the rest are counted under "other". */
const MAX_REASONS = 16;

export interface FloodSummary<K extends string> {
  kind: K;
  suppressed: number;
  windowMs: number;
  reasons: Record<string, number>;
}

export class FloodGate<K extends string> {
  private readonly windows = new Map<K, { startMs: number; seen: number; suppressed: number; reasons: Map<string, number>; timer: NodeJS.Timeout | undefined }>();

  constructor(
    private readonly w: FloodWindow,
    private readonly now: () => number,
    private readonly report: (s: FloodSummary<K>) => void,
  ) {}

  /** True when this one is to be handled in full; false when it was only counted. */
  admit(kind: K, reason: string): boolean {
    const nowMs = this.now();
    let win = this.windows.get(kind);
    if (win && nowMs - win.startMs >= this.w.windowMs) {
      this.flush(kind);
      win = undefined;
    }
    if (!win) {
      win = { startMs: nowMs, seen: 0, suppressed: 0, reasons: new Map(), timer: undefined };
      this.windows.set(kind, win);
    }
    win.seen++;
    if (win.seen <= this.w.detailed) return true;
    win.suppressed++;
    const key = win.reasons.has(reason) || win.reasons.size < MAX_REASONS ? reason : 'other';
    win.reasons.set(key, (win.reasons.get(key) ?? 0) + 1);
    // The summary must come even if the flood stops: a timer for the end of the window. unref'd,
    // so that it never holds a stopping process; close() reports what is left.
    win.timer ??= setTimeout(() => this.flush(kind), Math.max(0, win.startMs + this.w.windowMs - nowMs)).unref();
    return false;
  }

  /** Reports every open window's suppressed count now (on stop). */
  close(): void {
    for (const kind of [...this.windows.keys()]) this.flush(kind);
  }

  private flush(kind: K): void {
    const win = this.windows.get(kind);
    if (!win) return;
    this.windows.delete(kind);
    if (win.timer) clearTimeout(win.timer);
    if (win.suppressed > 0) this.report({ kind, suppressed: win.suppressed, windowMs: this.w.windowMs, reasons: Object.fromEntries(win.reasons) });
  }
}
