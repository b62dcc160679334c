import type { AttendanceParts } from './attendance/build.js';
import type { StartedParts } from './base/parts.js';
import type { LiveView } from './camera/live-view.js';
import type { EventsStage } from './events/stage.js';
import type { Gallery } from './gallery/gallery.js';
import type { DoorStage } from './door/door.js';
import type { CameraMaintainer } from './pipeline/camera-maintainer.js';
import type { Recognizer } from './pipeline/recognizer.js';
import type { Remote } from './remote/remote.js';
import type { AuditLog } from './service/audit.js';
import type { ArrivalReviews } from './service/arrival-reviews.js';
import type { FaceViews } from './service/face-views.js';
import type { PersonService } from './service/persons.js';
import type { ConfigReload } from './service/reload.js';
import type { RetentionService } from './service/retention.js';
import type { ThresholdService } from './service/thresholds.js';
import type { DecisionMetrics } from './system/decision-metrics.js';
import type { DaemonLock } from './system/lock.js';
import type { CameraThresholds, RecentScores } from './track/thresholds.js';
import type { Timeline } from './track/timeline.js';
import type { UnknownRegistry } from './track/unknowns.js';
import type { VisionPool } from './vision/pool.js';
import type { DisplayFeed } from './display/feed.js';
import type { DisplayTokenService } from './service/display-tokens.js';
import type { DisplayTargets } from './display/targets.js';

/** The daemon's stages, once started (app.ts); what its servers (app-servers.ts), metrics and signals act on. */
export interface Running {
  lock: DaemonLock;
  /** What runs, in start order: the stop goes through it in reverse. */
  parts: StartedParts;
  vision: VisionPool;
  gallery: Gallery;
  audit: AuditLog;
  events: EventsStage;
  persons: PersonService;
  remote: Remote;
  attendance: AttendanceParts | undefined;
  /** The review of unverified arrivals, for every door; refuses while attendance is off. */
  reviews: ArrivalReviews;
  unknowns: UnknownRegistry;
  retention: RetentionService;
  reloads: ConfigReload;
  decisions: DecisionMetrics;
  cameras: CameraMaintainer;
  /** The configured doors (a change needs a restart). */
  doors: readonly DoorStage[];
  liveView: LiveView | undefined;
  thresholds: CameraThresholds;
  /** A camera's rules set on site (the console's thresholds page), each change audited. */
  thresholdChanges: ThresholdService;
  /** Faces opened for an operator (a timeline crop, a proof), each look audited. */
  faces: FaceViews;
  recognizer: Recognizer;
  scores: RecentScores;
  timeline: Timeline;
  /** The door displays: what each shows, their tokens, and the doors and cameras they can be bound to. */
  displays: { feed: DisplayFeed; tokens: DisplayTokenService; targets: () => DisplayTargets };
}
