import type { Database } from 'better-sqlite3';
import type { RecognitionConfig } from '../vision/config.js';
import type { Subscribable } from '../base/subscribable.js';
import type { TrackEvent } from './events.js';

export type MatchRules = Pick<RecognitionConfig, 'threshold' | 'margin'>;

export interface CameraRules extends MatchRules {
  camera: string;
  /** 'site' when a technician set it for this camera, 'config' when it is the config's recognition section. */
  source: 'site' | 'config';
}

/**
 * Per-camera match threshold and margin, set on site from real footage (the console): kept in the
 * state file, read once into memory and used from the next decision on; a camera without one uses
 * the config's recognition section.
 */
export class CameraThresholds {
  private readonly rules = new Map<string, MatchRules>();

  constructor(
    private readonly db: Database,
    private readonly now: () => number = Date.now,
  ) {
    for (const r of db.prepare('SELECT camera, threshold, margin FROM camera_thresholds').all() as { camera: string; threshold: number; margin: number }[]) this.rules.set(r.camera, { threshold: r.threshold, margin: r.margin });
  }

  for(camera: string, fallback: MatchRules): MatchRules {
    return this.rules.get(camera) ?? fallback;
  }

  describe(camera: string, fallback: MatchRules): CameraRules {
    const siteRules = this.rules.get(camera);
    return { camera, ...(siteRules ?? { threshold: fallback.threshold, margin: fallback.margin }), source: siteRules ? 'site' : 'config' };
  }

  /**
   * Sets a camera's rules (null: back to the config's) from the next decision on: the row in
   * `commit`'s transaction (the caller's, which writes its audit entry with it), memory once it
   * committed.
   */
  change(camera: string, rules: MatchRules | null, by: string, commit: (write: () => void) => void = (write) => this.db.transaction(write)()): void {
    commit(() => {
      if (rules) this.db.prepare('INSERT INTO camera_thresholds (camera, threshold, margin, updated_ms, updated_by) VALUES (?, ?, ?, ?, ?) ON CONFLICT (camera) DO UPDATE SET threshold = excluded.threshold, margin = excluded.margin, updated_ms = excluded.updated_ms, updated_by = excluded.updated_by').run(camera, rules.threshold, rules.margin, this.now(), by);
      else this.db.prepare('DELETE FROM camera_thresholds WHERE camera = ?').run(camera);
    });
    if (rules) this.rules.set(camera, { threshold: rules.threshold, margin: rules.margin });
    else this.rules.delete(camera);
  }
}

/** Best gallery scores of a camera's recent recognized and unknown decisions, for tuning. */
export class RecentScores {
  private readonly byCamera = new Map<string, { decision: 'recognized' | 'unknown'; score: number }[]>();
  constructor(private readonly keep = 500) {}

  /** Keeps the score of each recognized and unknown decision on the bus, as the stage 'scores'; returns the unsubscribe. */
  subscribe(bus: Subscribable<{ track: TrackEvent }>): () => void {
    return bus.on('track', 'scores', (e) => {
      if (e.type === 'recognized' || e.type === 'unknown') this.add(e.camera, e.type, e.score);
    });
  }

  add(camera: string, decision: 'recognized' | 'unknown', score: number): void {
    let list = this.byCamera.get(camera);
    if (!list) this.byCamera.set(camera, (list = []));
    list.push({ decision, score });
    if (list.length > this.keep) list.splice(0, list.length - this.keep);
  }

  /** Counts per 0.05-wide bin from -0.2 to 1 (scores below fall in the first bin), recognized and unknown apart. */
  histogram(camera: string): { from: number; recognized: number; unknown: number }[] {
    const bins = Array.from({ length: 24 }, (_, i) => ({ from: Number((-0.2 + i * 0.05).toFixed(2)), recognized: 0, unknown: 0 }));
    for (const s of this.byCamera.get(camera) ?? []) {
      const i = Math.min(bins.length - 1, Math.max(0, Math.floor((s.score + 0.2) / 0.05)));
      bins[i]![s.decision]++;
    }
    return bins;
  }
}
