import type { CameraHealth } from '../camera/health.js';
import type { EventsStage } from '../events/stage.js';
import type { EventClass } from '../../contract/topics.js';
import type { CommandCounts } from '../service/command-records.js';
import type { FeedCounts } from '../service/person-feed.js';
import { FEED_REFUSALS } from '../../contract/feed.js';
import { REVIEW_OUTCOMES, type ReviewOutcome } from '../service/arrival-reviews.js';
import type { GalleryStore } from '../gallery/store.js';
import type { PipelineCounts } from '../pipeline/camera-maintainer.js';
import type { Liveness } from '../pipeline/pipeline-health.js';
import type { FaceModelRuns } from '../track/camera-tracker.js';
import type { DoorStatus } from '../door/door.js';
import { filesystemSpace } from '../base/disk-space.js';
import { LATENCY_BUCKETS, type Histogram, type MetricsRegistry, type Sample } from '../base/metrics.js';

/** What the metrics read from the running daemon at scrape time. */
export interface MetricsSource {
  cameraHealth(): CameraHealth[];
  pipelineCounts(): PipelineCounts[];
  liveness(): Liveness;
  readonly eventsStage: Pick<EventsStage, 'outbox' | 'bridge' | 'publisher'> | undefined;
  readonly gallery: { readonly store: Pick<GalleryStore, 'countPersons'>; readonly quarantinedCount: number; readonly matcher: { readonly size: number } };
  readonly bus: { failures: ReadonlyMap<string, number>; stages(): string[] };
  /** Remote command requests by outcome; undefined while commands are off. */
  commandCounts(): CommandCounts | undefined;
  /** Where the face models run: the provider they got (a GPU that could not load falls back to 'cpu'), the workers, and the most inputs a model run takes. */
  vision(): { provider: string; workers: number; batchMax: number };
  /** The gallery feed's entries since the start; undefined while the feed is off. */
  feedCounts?(): FeedCounts | undefined;
  /** Unverified arrivals reviewed since the start, per camera and outcome (service/arrival-reviews.ts). */
  reviewOutcomes(): readonly { camera: string; outcome: ReviewOutcome; count: number }[];
  /** Sightings that met their camera's requirement and were refused because a review rejected their track's arrival, per camera and reason. */
  refusedByReview?(): readonly { camera: string; reason: string; count: number }[];
}

/** What the metrics read from the config the daemon runs with. */
export interface DaemonMetricsSetup {
  version: string;
  mqttEnabled(): boolean;
  /** The folder of the state database: what fills up is the outbox and the records in it. */
  stateDir(): string;
}

/** Every outcome a command request can have; the type check below keeps it whole. */
const COMMAND_OUTCOMES = ['ok', 'failed', 'refused', 'unauthenticated', 'retained', 'duplicate'] as const satisfies readonly (keyof CommandCounts)[];
const _everyOutcome: readonly (typeof COMMAND_OUTCOMES)[number][] = [] as (keyof CommandCounts)[];

const EVENT_CLASSES = ['attendance', 'alert', 'info'] as const satisfies readonly EventClass[];
const _everyClass: readonly (typeof EVENT_CLASSES)[number][] = [] as EventClass[];

const perCamera = (s: MetricsSource, value: (h: CameraHealth) => number): Sample[] => s.cameraHealth().map((h) => ({ labels: { camera: h.camera }, value: value(h) }));

/** The daemon's metric families (docs/daemon.md#metrics lists them). */
export function registerDaemonMetrics(m: MetricsRegistry, s: MetricsSource, setup: DaemonMetricsSetup): void {
  m.collect('facegate_build_info', 'gauge', 'Always 1; the labels say which facegate and Node.js run.', () => [{ labels: { version: setup.version, node: process.version }, value: 1 }]);
  m.collect('facegate_vision_info', 'gauge', 'Always 1; the labels say where the face models run: the execution provider they got, the vision workers and the most inputs one model run takes.', () => {
    const v = s.vision();
    return [{ labels: { provider: v.provider, workers: String(v.workers), batch_max: String(v.batchMax) }, value: 1 }];
  });
  m.collect('process_cpu_seconds_total', 'counter', 'User and system CPU time of the daemon process (all threads), seconds.', () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  });
  // Once: worked out again at every scrape it would wander by the clock's rounding.
  const startTimeS = Math.round(Date.now() / 1000 - process.uptime());
  m.collect('process_start_time_seconds', 'gauge', 'Start time of the daemon process since the Unix epoch, seconds.', () => startTimeS);
  m.collect('facegate_camera_up', 'gauge', '1 while the camera is streaming.', () => perCamera(s, (h) => (h.state === 'streaming' ? 1 : 0)));
  m.collect('facegate_camera_frames_total', 'counter', 'Frames read from the camera since start.', () => perCamera(s, (h) => h.frames_in));
  m.collect('facegate_camera_frames_skipped_total', 'counter', 'Frames replaced by a newer one before the pipeline took them.', () => perCamera(s, (h) => h.frames_skipped));
  m.collect('facegate_camera_frames_unpooled_total', 'counter', 'Frames read into a fresh buffer because every reused one was held (garbage to collect).', () => perCamera(s, (h) => h.frames_unpooled));
  m.collect('facegate_camera_reconnects_total', 'counter', 'Reconnects of the camera since start.', () => perCamera(s, (h) => h.reconnects_total));
  m.collect('facegate_camera_keyframes_only', 'gauge', '1 while the camera, its scene quiet, decodes key frames only (idle_keyframes_after_s).', () => perCamera(s, (h) => (h.decoding === 'keyframes' ? 1 : 0)));
  m.collect('facegate_camera_sub_stream', 'gauge', "1 while the camera, its scene quiet, is watched on its sub stream (sub_url).", () => perCamera(s, (h) => (h.decoding === 'sub_stream' ? 1 : 0)));
  m.collect('facegate_camera_stalls_total', 'counter', 'No-frame watchdog firings since start.', () => perCamera(s, (h) => h.stalls_total));
  m.collect('facegate_pipeline_frames_total', 'counter', 'Frames the tracker finished, per camera.', () => s.pipelineCounts().map((p) => ({ labels: { camera: p.camera }, value: p.processed })));
  m.collect('facegate_face_model_runs_total', 'counter', 'Faces each costly model ran on, per camera (landmarks on every face looked at; embedder and anti-spoof only where a track still needs them).', () =>
    s.pipelineCounts().flatMap((p) => (Object.keys(p.runs) as (keyof FaceModelRuns)[]).map((model) => ({ labels: { camera: p.camera, model }, value: p.runs[model] }))),
  );
  m.collect('facegate_detector_runs_total', 'counter', "The face detector's runs, per camera: the full frame and each tile a detection looked at (on a busy camera, most of its cost).", () =>
    s.pipelineCounts().map((p) => ({ labels: { camera: p.camera }, value: p.detectorRuns })),
  );
  m.collect('facegate_pipeline_alive', 'gauge', '1 while the pipeline passes the watchdog check (the same check that sends WATCHDOG=1).', () => (s.liveness().alive ? 1 : 0));
  m.collect('facegate_gallery_persons', 'gauge', 'Persons enrolled.', () => s.gallery.store.countPersons());
  m.collect('facegate_gallery_quarantined_persons', 'gauge', "Persons never matched because a gallery row of theirs failed authentication ('facegate gallery verify' lists the rows).", () => s.gallery.quarantinedCount);
  m.collect('facegate_gallery_templates', 'gauge', 'Face templates in the matcher.', () => s.gallery.matcher.size);
  m.collect('facegate_outbox_pending', 'gauge', 'Events waiting in the outbox for the broker.', () => s.eventsStage?.outbox.stats(Date.now()).pending ?? 0);
  m.collect('facegate_outbox_oldest_age_seconds', 'gauge', 'Age of the oldest event waiting.', () => s.eventsStage?.outbox.stats(Date.now()).oldestAgeS ?? 0);
  m.collect('facegate_outbox_dropped_total', 'counter', 'Events evicted from a full outbox, by class.', () => {
    const dropped = s.eventsStage?.outbox.stats(Date.now()).dropped ?? {};
    return EVENT_CLASSES.map((cls) => ({ labels: { class: cls }, value: dropped[cls] ?? 0 }));
  });
  // No sample while MQTT is off, so that an alert on 0 fires only where a broker is expected.
  m.collect('facegate_mqtt_connected', 'gauge', '1 while connected to the broker; no sample while mqtt.enabled is false.', () => (setup.mqttEnabled() ? [{ labels: {}, value: s.eventsStage?.bridge.connected ? 1 : 0 }] : []));
  m.collect('facegate_mqtt_published_total', 'counter', 'Messages the broker took, by path: outbox (signed events, acknowledged) and direct (retained state, presence, discovery, stats).', () => [
    { labels: { path: 'outbox' }, value: s.eventsStage?.publisher.published ?? 0 },
    { labels: { path: 'direct' }, value: s.eventsStage?.bridge.published ?? 0 },
  ]);
  m.collect('facegate_mqtt_reconnects_total', 'counter', 'Reconnects to the broker.', () => s.eventsStage?.bridge.reconnects ?? 0);
  m.collect('facegate_mqtt_packets_too_large_total', 'counter', 'Packets over mqtt.max_packet_mb that the broker sent all the same; each closed the connection before it was read.', () => s.eventsStage?.bridge.oversized ?? 0);
  m.collect('facegate_command_requests_total', 'counter', 'Remote command requests by outcome: ok, failed, refused (signed by the central key), unauthenticated (not), retained (ignored), duplicate (sent again by the broker after it was taken).', () =>
    COMMAND_OUTCOMES.map((outcome) => ({ labels: { outcome }, value: s.commandCounts()?.[outcome] ?? 0 })),
  );
  m.collect('facegate_feed_entries_total', 'counter', "The site's gallery feed entries since the start, by outcome: applied, passed (sealed for other boxes of the site), already (a retained copy of one applied before), held (came before the entry they follow), refused.", () => {
    const c = s.feedCounts?.();
    const refused = c ? Object.values(c.refused).reduce((a, b) => a + b, 0) : 0;
    return [...(['applied', 'passed', 'already', 'held'] as const).map((outcome) => ({ labels: { outcome }, value: c?.outcomes[outcome] ?? 0 })), { labels: { outcome: 'refused' }, value: refused }];
  });
  m.collect('facegate_feed_refused_total', 'counter', 'Gallery feed entries refused, never applied, by reason (docs/errors.md names each code: malformed, oversized, forged, other_site, replayed, out_of_order, unreadable, key_missing, person_invalid, template_invalid, quarantined, local_person, duplicate_face, overloaded).', () =>
    FEED_REFUSALS.map((reason) => ({ labels: { reason }, value: s.feedCounts?.()?.refused[reason] ?? 0 })),
  );
  m.collect('facegate_feed_applied', 'gauge', "The last entry of the site's gallery feed this box applied; 0 while the feed is off or before any.", () => s.feedCounts?.()?.applied ?? 0);
  m.collect(
    'facegate_review_outcomes_total',
    'counter',
    'What people judged of each camera since the start: unverified arrivals reviewed (confirmed: a real person the cues did not prove, a false reject; wrong_person and picture: named all the same, false accepts; other) and persons taught from its timeline decisions (taught: an unknown who was enrolled, a false reject; corrected: a recognition of someone else, a false accept).',
    () => {
      const counts = new Map(s.reviewOutcomes().map((c) => [`${c.camera}\u0000${c.outcome}`, c.count]));
      const cameras = new Set([...s.cameraHealth().map((h) => h.camera), ...s.reviewOutcomes().map((c) => c.camera)]);
      return [...cameras].flatMap((camera) => REVIEW_OUTCOMES.map((outcome) => ({ labels: { camera, outcome }, value: counts.get(`${camera}\u0000${outcome}`) ?? 0 })));
    },
  );
  m.collect(
    'facegate_attendance_refused_by_review_total',
    'counter',
    "Sightings since the start that met their camera's requirement and checked nobody in, because a person had rejected their track's arrival as the wrong person or a picture or screen; by camera and reason.",
    () => (s.refusedByReview?.() ?? []).map((c) => ({ labels: { camera: c.camera, reason: c.reason }, value: c.count })),
  );
  m.collect('facegate_listener_failures_total', 'counter', 'Bus listeners that threw, by stage.', () =>
    [...new Set([...s.bus.stages(), ...s.bus.failures.keys()])].map((stage) => ({ labels: { stage }, value: s.bus.failures.get(stage) ?? 0 })),
  );
  // Read at each scrape: one statfs call, where a stored figure could only be stale.
  m.collect('facegate_state_filesystem_avail_bytes', 'gauge', 'Bytes the daemon may still write on the filesystem of its state database (outbox, attendance, audit).', () => filesystemSpace(setup.stateDir()).availBytes);
  m.collect('facegate_state_filesystem_size_bytes', 'gauge', 'Size of the filesystem of the state database, bytes.', () => filesystemSpace(setup.stateDir()).sizeBytes);
  m.collect('process_resident_memory_bytes', 'gauge', 'Resident memory of the daemon process.', () => process.memoryUsage.rss());
}

/** How often the event-loop check asks to run, ms: what it measures is how much later it ran. */
export const EVENT_LOOP_RESOLUTION_MS = 10;

/** How late a check ran, seconds: the time since the one before beyond the interval asked for. */
export function lateBySeconds(sinceLastMs: number, intervalMs = EVENT_LOOP_RESOLUTION_MS): number {
  return Math.max(0, sinceLastMs - intervalMs) / 1000;
}

/**
 * How late the main thread's event loop runs: what MQTT, the control sockets and HTTP wait when the
 * main thread is busy. Vision runs on worker threads, so this stays small however busy the cameras
 * are. A timer asks to run every EVENT_LOOP_RESOLUTION_MS and each run is observed into a
 * histogram (cumulative, as Prometheus expects, so `histogram_quantile` over any window and across
 * boxes works; a quantile gauge over the scrape window could not be aggregated or alerted on).
 */
export class EventLoopLag {
  private timer: NodeJS.Timeout | undefined;
  private last = 0;

  constructor(
    private readonly histogram: Histogram,
    private readonly monoNow: () => number = () => performance.now(),
  ) {}

  start(): void {
    this.stop();
    this.last = this.monoNow();
    this.timer = setInterval(() => this.check(), EVENT_LOOP_RESOLUTION_MS);
    // A measurement never keeps the process alive.
    this.timer.unref();
  }

  /** One run of the timer. */
  check(): void {
    const now = this.monoNow();
    this.histogram.observe({}, lateBySeconds(now - this.last));
    this.last = now;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** The event-loop histogram, its series there at zero from the start; returns its (stopped) check. */
export function registerEventLoopMetrics(m: MetricsRegistry, monoNow?: () => number): EventLoopLag {
  const histogram = m.histogram('facegate_event_loop_delay_seconds', `How late the main event loop ran beyond its ${EVENT_LOOP_RESOLUTION_MS} ms check, seconds.`, LATENCY_BUCKETS, () => [{}]);
  return new EventLoopLag(histogram, monoNow);
}

/** Each configured door's pairing and state, per door (none where no door is configured). */
export function registerDoorMetrics(m: MetricsRegistry, doors: () => readonly DoorStatus[]): void {
  const perDoor = (value: (d: DoorStatus) => number): Sample[] => doors().map((d) => ({ labels: { door: d.door }, value: value(d) }));
  m.collect('facegate_door_stereo', 'gauge', "1 while every camera of the door streams and faces seen by two of them at once are proven by stereo; 0 while the door's faces fall back to the single-camera cues.", () =>
    perDoor((d) => (d.state === 'stereo' ? 1 : 0)),
  );
  m.collect('facegate_door_pairs_total', 'counter', 'Pairs of looks at one face by two cameras of the door at the same moment, since start.', () => perDoor((d) => d.pairs));
  m.collect(
    'facegate_door_pairs_refused_total',
    'counter',
    "Looks whose partner in another camera of the door was seen, but not within the pairing limit (the cameras' frames drifted apart), since start.",
    () => doors().map((d) => ({ labels: { door: d.door, reason: 'time_skew' }, value: d.refused_time_skew })),
  );
  m.collect('facegate_door_camera_clock', 'gauge', "1 while the camera's frames are timed by its own clock (its RTCP sender reports), 0 while by their arrival, per door and camera.", () =>
    doors().flatMap((d) => d.clocks.map((c) => ({ labels: { door: d.door, camera: c.camera }, value: c.clock === 'camera' ? 1 : 0 }))),
  );
  m.collect('facegate_door_camera_latency_seconds', 'gauge', "The camera's latency measured against its own clock (arrival less the camera's time of a frame), seconds; only while its frames are timed by it.", () =>
    doors().flatMap((d) => d.clocks.flatMap((c) => (c.latency_ms === null ? [] : [{ labels: { door: d.door, camera: c.camera }, value: c.latency_ms / 1000 }]))),
  );
}
