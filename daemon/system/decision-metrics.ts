import type { AttendanceDecision } from '../attendance/engine.js';
import { TRACK_EVENT_TYPES, type TrackEvent, type TrackEventType } from '../track/events.js';
import type { Histogram, MetricsRegistry, Sample } from '../base/metrics.js';
import type { Subscribable } from '../base/subscribable.js';

/** Cosine similarity of the best gallery match; the threshold sits in the middle of the range. */
export const SCORE_BUCKETS = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];
/** Face height, pixels: from below the smallest the tracker uses to a face filling a 1080p frame. */
export const FACE_PX_BUCKETS = [24, 32, 40, 56, 80, 112, 160, 224, 320, 480, 720];

/**
 * What the cameras decided, as counters and histograms for alerting (a camera that stops
 * recognising anyone, scores drifting down after a lens was moved, faces too small): counted as the
 * decisions pass, since a decision is not kept anywhere else. Every camera's series exist at zero
 * from the start, so that `rate()` and `absent()` see them before the first face.
 */
export class DecisionMetrics {
  private readonly decisions = new Map<string, Map<TrackEventType, number>>();
  private readonly checkIns = new Map<string, number>();
  private readonly score: Histogram;
  private readonly faceSize: Histogram;

  /** `cameras`: the cameras running now (a reload may add some); counts of removed ones are kept. */
  constructor(
    m: MetricsRegistry,
    private readonly cameras: () => readonly string[],
  ) {
    m.collect('facegate_decisions_total', 'counter', 'Decisions of the trackers, by camera and type (recognized, unknown, spoof_suspected, blink, too_small, low_quality, track_ended).', () =>
      this.allCameras().flatMap((camera) => TRACK_EVENT_TYPES.map((type) => ({ labels: { camera, type }, value: this.decisions.get(camera)?.get(type) ?? 0 }))),
    );
    m.collect('facegate_checkins_total', 'counter', 'Attendance check-ins a camera\'s sighting wrote, by camera (a confirmed review is counted in facegate_review_outcomes_total).', () => this.allCameras().map((camera): Sample => ({ labels: { camera }, value: this.checkIns.get(camera) ?? 0 })));
    this.score = m.histogram('facegate_match_score', 'Best gallery match score of each recognized and unknown decision, by camera and decision (a track is counted again each time its assurance rises: live, then stereo).', SCORE_BUCKETS, () =>
      this.allCameras().flatMap((camera) => [{ camera, decision: 'recognized' }, { camera, decision: 'unknown' }]),
    );
    this.faceSize = m.histogram('facegate_face_size_pixels', 'Face height of each recognized and unknown decision, pixels, by camera.', FACE_PX_BUCKETS, () => this.allCameras().map((camera) => ({ camera })));
  }

  /** Counts every tracker decision and every check-in on the bus, as the stage 'metrics'; returns the unsubscribe. */
  subscribe(bus: Subscribable<{ track: TrackEvent; sighting: { decisions: readonly AttendanceDecision[] } }>): () => void {
    const unsubscribe = [bus.on('track', 'metrics', (e) => this.onTrackEvent(e)), bus.on('sighting', 'metrics', (s) => this.onAttendance(s.decisions))];
    return () => unsubscribe.forEach((off) => off());
  }

  onTrackEvent(e: TrackEvent): void {
    let byType = this.decisions.get(e.camera);
    if (!byType) this.decisions.set(e.camera, (byType = new Map()));
    byType.set(e.type, (byType.get(e.type) ?? 0) + 1);
    if (e.type === 'recognized' || e.type === 'unknown') {
      this.score.observe({ camera: e.camera, decision: e.type }, e.score);
      this.faceSize.observe({ camera: e.camera }, e.face_px);
    }
  }

  onAttendance(decisions: readonly AttendanceDecision[]): void {
    for (const d of decisions) if (d.kind === 'check_in') this.checkIns.set(d.camera, (this.checkIns.get(d.camera) ?? 0) + 1);
  }

  private allCameras(): string[] {
    return [...new Set([...this.cameras(), ...this.decisions.keys(), ...this.checkIns.keys()])];
  }
}
