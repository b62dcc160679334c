import type { EyeRegions } from '../vision/types.js';
import type { LivenessConfig } from './config.js';
import { bothSides, lookChange, type LidMotion } from './lid-motion.js';

/** One look at both eyes (seconds, from frame timestamps): the eye model's p(open), the eye regions and how open the lids are by the landmarks. */
export interface EyeSample {
  t: number;
  left: number;
  right: number;
  regions: EyeRegions;
  /** Eyelid opening by the 68 landmarks (eyelidOpening): lid-to-lid over corner-to-corner distance, both eyes. */
  lids: number;
  /** The face's shape by the landmarks (faceShape): what a picture tilting or turning changes and a blink does not. */
  shape: number;
}

export interface Blink {
  /** The first closed look that shows both lids shut, seconds. */
  t: number;
  /** Closed phase as the eye model reads it: from the first shut sample to the first sample with the eyes open again, ms. */
  closedMs: number;
  /** Samples from the first not-open to the reopening (half-open ones included). */
  samples: number;
  /** The larger of the two eyes' lowest p(open) during the closure (1 for an eye the model cannot read). */
  depth: number;
  /** How much each lid and the picture moved on the look that showed the blink. */
  lids: LidMotion;
}

export type BlinkRules = Pick<LivenessConfig, 'blink_min_ms' | 'blink_max_ms' | 'closed_ratio' | 'min_open_level'>;

/**
 * What the eye regions must show for a closure to be a blink (patch changes, see lidMotion). Set
 * between what real blinks and pictures gave on talking-head clips at native size and as a CCTV
 * camera delivers them (faces of ~100 px in H.264 at CRF 30), and on prints of identity photos
 * moved, tilted, bent and zoomed in front of a camera: on the look that shows it, a real blink
 * changes each eye's patch by about 0.3–1.1 and its rows by 0.13 or more; a still picture or a
 * print, once registered, changes them by 0.05–0.25; glances sideways change the patch as much as
 * a blink but the rows by 0.05–0.10; misplaced landmarks change the nose and brows too.
 */
export interface LidThresholds {
  /** An eye the model reads as shut must have moved at least this much: a picture's eyes do not. */
  confirm: number;
  /** An eye the model does not read as shut (too small for it, half read) counts as shut when it moved at least this much. */
  alone: number;
  /** Each eye must change at least this many times as much as the brows next to it: a blink moves the lids, not the picture. */
  overPicture: number;
  /** A closed look whose nose or brows changed more than this is not compared at all (landmarks off, a fast turn). */
  steadyRef: number;
  /** Each eye's rows must change at least this much: a lid moves up and down, a gaze sideways. */
  rows: number;
  /** A closed look whose face changed shape more than this (LidMotion.pose) is not compared: a picture tilting squeezes its eyes with it. */
  pose: number;
}

export const LID_THRESHOLDS: LidThresholds = { confirm: 0.26, alone: 0.35, overPicture: 1.5, steadyRef: 0.45, rows: 0.12, pose: 0.15 };

/** Seconds of samples over which a track's open level is measured. */
const LEVEL_WINDOW_S = 4;
/** The open level is this quantile of p(open) over the window: eyes are open most of the time. */
const LEVEL_QUANTILE = 0.8;
/** fr_eye gives ≤ 0.003 for closed eyes: whatever the open level, above this an eye is not closed. */
const MAX_CLOSED_P = 0.35;
/** An eye is open again above this fraction of its open level (hysteresis above the closed limit). */
const REOPEN_RATIO = 0.6;
/**
 * A closure also ends when one eye reads open and the lids by the landmarks are back within this
 * fraction of the track's open opening (its median over the level window before the closure
 * began: eyes are open most of the time). On a small, compressed eye the model's reading of one
 * eye can stay at shut for a second after the lids rose; waiting for it let the closure run past
 * blink_max_ms and lost the blink. The landmarks of a small face show a closed eye at only
 * 0.5–0.8 of the open opening (the landmark model leans towards an average eye), so "back" has to
 * be near the open level. Ending the closure decides nothing: the eye regions must still show both
 * lids down against open looks on both sides.
 */
const LIDS_REOPEN_RATIO = 0.9;
/** Samples further apart than this break the sequence: a blink cannot be told across a gap. */
const MAX_GAP_S = 0.35;
/** The eye model saw an eye shut when its p(open) fell this low during the closure. */
const SHUT_P = 0.2;

/**
 * Open looks up to this long before a closure and after it may be what its closed looks are
 * compared with: a lid takes ~75–150 ms to close or open, so at 15 fps the look next to a closed
 * one often catches it half-way and differs from the closed look less than the open eye does; the
 * look one step further shows it open. No further: the comparison on both sides tells a blink from
 * a change that stays only while the face holds its expression and pose.
 */
const REFERENCE_S = 0.15;

type Eye = 'left' | 'right';
const EYES: readonly Eye[] = ['left', 'right'];
type Levels = Record<Eye, number>;

/**
 * A closure: its shut looks, the open looks before it, and the open level the eyes had when it
 * began, by the model and by the landmarks. Its own shut looks must not lower either: in a
 * track's first second they are a third of the window, and lids measured against a level they
 * pulled down read "back" while one eye is still shut.
 */
interface Closure {
  since: number;
  samples: EyeSample[];
  level: Levels;
  /** The lids' open opening by the landmarks (the median over the level window) when the closure began. */
  lidsLevel: number;
  before: EyeSample[];
}

/**
 * Open: eyes open (or settling). Closed: a closure under way. Reopened: a closure ended and is
 * judged again on each open look that follows within REFERENCE_S, until one shows the lids.
 * Held: eyes shut too long for a blink, waiting to open.
 */
type Phase = { kind: 'open' } | ({ kind: 'closed' } & Closure) | ({ kind: 'reopened'; after: EyeSample[]; closedMs: number; readable: readonly Eye[] } & Closure) | { kind: 'held' };

/**
 * Blink detection over a track's eye samples: eyes open → shut → open, the shut phase between
 * blink_min_ms and blink_max_ms, seen by two signals that fail differently. The eye model (fr_eye)
 * reads each eye open or shut; its thresholds are relative to the track's own open level (a high
 * quantile of recent p(open) per eye), because its values differ by face size, person and
 * expression, and an eye it never reads clearly open (a small, compressed face) is left to the
 * other signal. The eye regions of the aligned face tell a lid that moved from a reading that
 * flipped: every eye counted as shut must have changed against open looks on both sides, and
 * more than the rest of the face did. The eyelid landmarks only end a closure that the model's
 * reading of one eye would hold open too long. One eye shutting (a wink) never counts; a photo, whose
 * readings flip as it moves, changes its eye regions no more than its brows. A pure state machine:
 * time is the samples' own.
 */
export class BlinkDetector {
  private readonly window: EyeSample[] = [];
  private phase: Phase = { kind: 'open' };
  /** Open looks of the last REFERENCE_S: a closure must start from open eyes, and is compared with them. */
  private opens: EyeSample[] = [];
  private lastT = -Infinity;
  /** Half-open samples (neither open nor shut) since the last open one. */
  private halfOpen: EyeSample[] = [];
  /** Each closed look's change against each open look it was compared with, so that a closure judged again compares only new pairs. */
  private readonly compared = new WeakMap<EyeSample, Map<EyeSample, LidMotion>>();

  constructor(
    private readonly rules: BlinkRules,
    private readonly lids: LidThresholds = LID_THRESHOLDS,
  ) {}

  /** Feeds one sample (times increasing); returns the blink it completes, if any. */
  push(s: EyeSample): Blink | undefined {
    if (s.t - this.lastT > MAX_GAP_S) this.reset();
    this.lastT = s.t;
    const level = this.phase.kind === 'closed' ? this.phase.level : this.levels();
    this.remember(s);
    if (!level) {
      // The first sample of a track: nothing to compare with yet, but eyes clearly open arm it.
      if (s.left >= this.rules.min_open_level && s.right >= this.rules.min_open_level) this.opened(s);
      return undefined;
    }
    const readable = EYES.filter((e) => level[e] >= this.rules.min_open_level);
    if (readable.length === 0) {
      this.interrupt();
      return undefined;
    }
    const allOpen = readable.every((e) => s[e] >= REOPEN_RATIO * level[e]);
    // Within a closure, one eye read open with the lids back by the landmarks ends it too (LIDS_REOPEN_RATIO).
    const open = this.phase.kind === 'closed' || this.phase.kind === 'reopened' ? allOpen || (readable.some((e) => s[e] >= REOPEN_RATIO * level[e]) && s.lids >= LIDS_REOPEN_RATIO * this.phase.lidsLevel) : allOpen;
    // One eye shut and every eye the model can read at least half shut: an eye closing a little
    // later or less deeply than the other is still a blink; a wink leaves the other eye open.
    const closing = readable.some((e) => s[e] < Math.min(MAX_CLOSED_P, this.rules.closed_ratio * level[e])) && !readable.some((e) => s[e] >= REOPEN_RATIO * level[e]);

    if (this.phase.kind === 'reopened') {
      const pending = this.phase;
      if (open && s.t - pending.after[0]!.t <= REFERENCE_S) {
        pending.after.push(s);
        this.opened(s);
        const blink = this.judge(pending);
        if (blink) this.phase = { kind: 'open' };
        return blink;
      }
      this.phase = { kind: 'open' };
    }
    switch (this.phase.kind) {
      case 'open':
        if (open) this.opened(s);
        else if (closing && this.opens.length > 0) this.phase = { kind: 'closed', since: s.t, samples: [...this.halfOpen, s], level, lidsLevel: this.lidsLevelBefore(s), before: this.opens };
        else this.halfOpen.push(s);
        return undefined;
      case 'closed': {
        if (!open) {
          // Shut, or half-open while the eyes settle.
          this.phase.samples.push(s);
          if ((s.t - this.phase.since) * 1000 > this.rules.blink_max_ms) this.phase = { kind: 'held' };
          return undefined;
        }
        const closedMs = (s.t - this.phase.since) * 1000;
        const closure = this.phase;
        this.opens = [];
        this.opened(s);
        if (closedMs < this.rules.blink_min_ms) {
          this.phase = { kind: 'open' };
          return undefined;
        }
        const pending = { ...closure, kind: 'reopened' as const, after: [s], closedMs, readable };
        const blink = this.judge(pending);
        this.phase = blink ? { kind: 'open' } : pending;
        return blink;
      }
      case 'held':
        if (open) {
          this.phase = { kind: 'open' };
          this.opens = [];
          this.opened(s);
        }
        return undefined;
    }
  }

  /** An open look: kept as a reference for the next closure while it is recent. */
  private opened(s: EyeSample): void {
    this.opens = [...this.opens.filter((o) => o.t >= s.t - REFERENCE_S), s];
    this.halfOpen = [];
  }

  /** A closure between open looks: is it a blink of both eyes' lids? */
  private judge(c: Closure & { after: readonly EyeSample[]; closedMs: number; readable: readonly Eye[] }): Blink | undefined {
    const { samples, level, readable } = c;
    const lowest = (e: Eye) => (readable.includes(e) ? Math.min(...samples.map((x) => x[e])) : 1);
    const shut = (e: Eye, m: LidMotion) => {
      const seenShut = readable.includes(e) && lowest(e) <= SHUT_P;
      const halfRead = !readable.includes(e) || lowest(e) < REOPEN_RATIO * level[e];
      const rows = e === 'left' ? m.leftRows : m.rightRows;
      return rows >= this.lids.rows && ((seenShut && m[e] >= this.lids.confirm) || (halfRead && m[e] >= this.lids.alone));
    };
    const modelSawIt = readable.some((e) => lowest(e) <= SHUT_P);
    if (!modelSawIt) return undefined;
    // The first closed look that shows both lids shut against an open look on each side, among
    // comparisons where the rest of the face held still enough (where the nose or the brows changed
    // a lot, the landmarks were off or the face turned, and that pair of looks says nothing about
    // the lids), each eye changing well more than the brows beside it. The brows, not the nose, are
    // what the eyes are weighed against: they sit in the same band of the face, so a picture tilted
    // or bent changes them as it changes the eyes, while the nose and the lip below it move with
    // speech, and on a small, compressed face the nose patch is mostly codec noise that would ask a
    // real lid to move further than it can show.
    const shows = (m: LidMotion) => m.ref <= this.lids.steadyRef && m.pose <= this.lids.pose && Math.min(m.left, m.right) >= this.lids.overPicture * m.brows && shut('left', m) && shut('right', m);
    const before = mostOpen(c.before, c, readable);
    const after = mostOpen(c.after, c, readable);
    for (const x of samples) {
      const m = bothSides(this.change(x, before), this.change(x, after));
      if (shows(m)) return { t: x.t, closedMs: c.closedMs, samples: samples.length, depth: Math.max(lowest('left'), lowest('right')), lids: m };
    }
    return undefined;
  }

  private change(closed: EyeSample, open: EyeSample): LidMotion {
    let row = this.compared.get(closed);
    if (!row) this.compared.set(closed, (row = new Map()));
    let m = row.get(open);
    if (!m) row.set(open, (m = lookChange(closed, open)));
    return m;
  }

  /** The lids' open opening by the landmarks over the window before `s`: eyes are open most of the time. */
  private lidsLevelBefore(s: EyeSample): number {
    return quantile(this.window.filter((w) => w !== s).map((w) => w.lids), 0.5);
  }

  /** The current open level of each eye, once enough samples were seen. */
  levels(): Levels | undefined {
    if (this.window.length === 0) return undefined;
    return { left: quantile(this.window.map((w) => w.left), LEVEL_QUANTILE), right: quantile(this.window.map((w) => w.right), LEVEL_QUANTILE) };
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
    this.opens = [];
    this.halfOpen = [];
  }

  private reset(): void {
    this.window.length = 0;
    this.interrupt();
  }
}

/**
 * The open look to compare a closure with, on one side of it: the one the model reads most open,
 * the nearest on a tie. Chosen by what the look shows, not by how much it differs from the closed
 * looks, so that trying several looks does not give noise several chances.
 */
function mostOpen(looks: readonly EyeSample[], c: Pick<Closure, 'since' | 'level'>, readable: readonly Eye[]): EyeSample {
  const openness = (s: EyeSample) => readable.reduce((n, e) => n + s[e] / c.level[e], 0);
  let best = looks[0]!;
  for (const s of looks) {
    const d = openness(s) - openness(best);
    if (d > 0 || (d === 0 && Math.abs(s.t - c.since) < Math.abs(best.t - c.since))) best = s;
  }
  return best;
}

export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const at = Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))));
  return sorted[at]!;
}
