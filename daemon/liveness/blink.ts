import type { LivenessConfig } from './config.js';

/** p(open) of both eyes at one moment (seconds, from frame timestamps). */
export interface EyeSample {
  t: number;
  left: number;
  right: number;
}

export interface Blink {
  /** First sample with both eyes closed, seconds. */
  t: number;
  /** Closed phase: from the first closed sample to the first sample with both eyes open again, ms. */
  closedMs: number;
  /** Samples from the first not-open to the reopening (half-open ones included). */
  samples: number;
  /** The larger of the two eyes' lowest p(open) during the closure: ~0 for a clear blink. */
  depth: number;
}

export type BlinkRules = Pick<LivenessConfig, 'blink_min_ms' | 'blink_max_ms' | 'closed_ratio' | 'min_open_level'>;

/** Seconds of samples over which a track's open level is measured. */
const LEVEL_WINDOW_S = 4;
/** The open level is this quantile of p(open) over the window: eyes are open most of the time. */
const LEVEL_QUANTILE = 0.8;
/** fr_eye gives ≤ 0.003 for closed eyes: whatever the open level, above this an eye is not closed. */
const MAX_CLOSED_P = 0.35;
/** An eye is open again above this fraction of its open level (hysteresis above the closed limit). */
const REOPEN_RATIO = 0.6;
/** Samples further apart than this break the sequence: a blink cannot be told across a gap. */
const MAX_GAP_S = 0.35;
/**
 * A closure seen on one sample only, with fully open samples either side, must be this deep (both
 * eyes' p(open) at most this): a lone shallow dip is a bad crop (a face moving fast, landmarks off
 * for a frame), while real blinks at 15 fps either read ~0.0 or pass through half-closed samples.
 */
const LONE_DIP_MAX_P = 0.1;
/**
 * Whatever its length, a closure must reach this depth: each eye's lowest p(open) during it at most
 * this. On the annotated clips real blinks reach ≤ 0.08 on almost every one; gaze shifts and
 * narrowed eyes of small faces stop at 0.2–0.3. Missing a shallow blink costs a second look;
 * taking a shallow dip for one would let a moved photo pass.
 */
const MAX_DEPTH_P = 0.2;

type Phase = { kind: 'open' } | { kind: 'closed'; since: number; notOpen: number; minLeft: number; minRight: number } | { kind: 'held' };

/**
 * Blink detection over a track's eye samples: both eyes open → both closed → both open, with the
 * closed phase between blink_min_ms and blink_max_ms. Thresholds are relative to the track's own
 * open level (a high quantile of recent p(open) per eye), because fr_eye's open values differ by
 * face size, person and expression; one eye closing (a wink) never counts, and eyes held closed
 * past blink_max_ms are not a blink. A pure state machine: time is the samples' own.
 */
export class BlinkDetector {
  private readonly window: EyeSample[] = [];
  private phase: Phase = { kind: 'open' };
  /** Both eyes were seen open since the last closure: a closure must start from open eyes. */
  private armed = false;
  private lastT = -Infinity;
  /** Consecutive half-open samples (neither open nor closed) just before now. */
  private halfOpenRun = 0;

  constructor(private readonly rules: BlinkRules) {}

  /** Feeds one sample (times increasing); returns the blink it completes, if any. */
  push(s: EyeSample): Blink | undefined {
    if (s.t - this.lastT > MAX_GAP_S) this.reset();
    this.lastT = s.t;
    const level = this.levels();
    this.remember(s);
    if (!level) {
      // The first sample of a track: nothing to compare with yet, but eyes clearly open arm it.
      if (s.left >= this.rules.min_open_level && s.right >= this.rules.min_open_level) this.armed = true;
      return undefined;
    }
    const closed = this.isClosed(s.left, level.left) && this.isClosed(s.right, level.right);
    const open = s.left >= REOPEN_RATIO * level.left && s.right >= REOPEN_RATIO * level.right;
    const readable = level.left >= this.rules.min_open_level && level.right >= this.rules.min_open_level;

    switch (this.phase.kind) {
      case 'open':
        if (closed && this.armed && readable) this.phase = { kind: 'closed', since: s.t, notOpen: this.halfOpenRun + 1, minLeft: s.left, minRight: s.right };
        else if (open) this.armed = true;
        this.halfOpenRun = open ? 0 : this.halfOpenRun + 1;
        return undefined;
      case 'closed': {
        if (!open) {
          // Closed, or half-open while the eyes settle.
          this.phase.notOpen++;
          this.phase.minLeft = Math.min(this.phase.minLeft, s.left);
          this.phase.minRight = Math.min(this.phase.minRight, s.right);
          if ((s.t - this.phase.since) * 1000 > this.rules.blink_max_ms) this.phase = { kind: 'held' };
          return undefined;
        }
        const { since, notOpen } = this.phase;
        // Each eye's lowest reading in the phase: at 15 fps the two lids are caught at slightly different moments.
        const deepest = Math.max(this.phase.minLeft, this.phase.minRight);
        this.phase = { kind: 'open' };
        this.halfOpenRun = 0;
        const closedMs = (s.t - since) * 1000;
        if (closedMs < this.rules.blink_min_ms) return undefined;
        if (deepest > MAX_DEPTH_P || (notOpen < 2 && deepest > LONE_DIP_MAX_P)) return undefined;
        return { t: since, closedMs, samples: notOpen, depth: deepest };
      }
      case 'held':
        if (open) {
          this.phase = { kind: 'open' };
          this.armed = true;
        }
        return undefined;
    }
  }

  /** The current open level of each eye, once enough samples were seen. */
  levels(): { left: number; right: number } | undefined {
    if (this.window.length === 0) return undefined;
    return { left: quantile(this.window.map((w) => w.left), LEVEL_QUANTILE), right: quantile(this.window.map((w) => w.right), LEVEL_QUANTILE) };
  }

  private isClosed(p: number, level: number): boolean {
    return p < Math.min(MAX_CLOSED_P, this.rules.closed_ratio * level);
  }

  private remember(s: EyeSample): void {
    this.window.push(s);
    while (this.window.length > 0 && this.window[0]!.t < s.t - LEVEL_WINDOW_S) this.window.shift();
  }

  /**
   * The face was not seen as the same face for a moment (the box jumped): what came before cannot be
   * the first half of a blink. The open level is kept.
   */
  interrupt(): void {
    this.phase = { kind: 'open' };
    this.armed = false;
    this.halfOpenRun = 0;
  }

  private reset(): void {
    this.window.length = 0;
    this.interrupt();
  }
}

export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const at = Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))));
  return sorted[at]!;
}
