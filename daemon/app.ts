import { dirname } from 'node:path';
import type { Config } from './config/schema.js';
import { buildDisplays, subscribeDisplays, type DisplayWiring } from './app-displays.js';
import type { Logger } from './base/log.js';
import { EventBus } from './bus/bus.js';
import type { DaemonEvents } from './bus/events.js';
import { LiveView } from './camera/live-view.js';
import type { SpawnFfmpeg } from './camera/process.js';
import type { CameraHealth } from './camera/health.js';
import { VisionPool } from './vision/pool.js';
import type { VisionEngine } from './vision/engine.js';
import { Gallery } from './gallery/gallery.js';
import { EventsStage } from './events/stage.js';
import type { Connect } from './events/bridge.js';
import { deviceKeyFile, loadDeviceKey } from './events/device-key.js';
import { createAttendance, type AttendanceParts } from './attendance/build.js';
import { gallerySealerForProofs } from './attendance/proof-sealer.js';
import { daemonUnknowns } from './track/unknown-store.js';
import { CameraMaintainer } from './pipeline/camera-maintainer.js';
import { DoorStage, doorSinkOf } from './door/door.js';
import { subscribeSightings } from './attendance/track-sightings.js';
import { challengeAt } from './attendance/requirement.js';
import { ArrivalReviews } from './service/arrival-reviews.js';
import { AuditLog, type Actor } from './service/audit.js';
import { announceQuarantine } from './service/quarantine.js';
import { acquireDaemonLock } from './system/lock.js';
import type { Liveness } from './pipeline/pipeline-health.js';
import { LATENCY_BUCKETS, MetricsRegistry } from './base/metrics.js';
import { PIPELINE_STAGES } from './pipeline/camera-pipeline.js';
import { registerRunningMetrics } from './app-metrics.js';
import { DecisionMetrics } from './system/decision-metrics.js';
import { PersonService } from './service/persons.js';
import { FaceViews } from './service/face-views.js';
import { ThresholdService } from './service/thresholds.js';
import { RetentionService, type PurgeResult } from './service/retention.js';
import { Watchdog } from './system/watchdog.js';
import { PeriodicTasks } from './base/periodic.js';
import { StatusService, type StatusReport } from './service/status.js';
import type { Notifier } from './system/sd-notify.js';
import { Remote } from './remote/remote.js';
import { Timeline } from './track/timeline.js';
import { modelSummary } from './vision/model-files.js';
import { CameraThresholds, RecentScores } from './track/thresholds.js';
import { Recognizer } from './pipeline/recognizer.js';
import { StartedParts } from './base/parts.js';
import { configChange } from './config/diff.js';
import { FacegateError } from './base/errors.js';
import { ConfigReload, type ReloadResult } from './service/reload.js';
import { startDoors, startMonitoring } from './app-servers.js';
import type { Running } from './app-running.js';

export interface AppOptions {
  config: Config;
  logger: Logger;
  notifier: Notifier;
  env: NodeJS.ProcessEnv;
  version: string;
  now?: () => number;
  monoNow?: () => number;
  /** The config file, read again by SIGHUP and the control socket's reload. */
  configPath: string;
  /** Replaces mqtt.connect (the demo's in-process broker speaks MQTT 3.1.1). */
  mqttConnect?: Connect;
  /** How long SIGTERM waits for the outbox to drain to a connected broker. */
  flushTimeoutMs?: number;
  /** Replaces FFmpeg for every camera (the demo's still photo, on a box without FFmpeg). */
  spawnCamera?: SpawnFfmpeg;
}

/**
 * The composition root: config → logger → bus → stages, started in data-flow
 * order and stopped in reverse. The constructor only stores its options; `start` does the work.
 */
export class App {
  readonly bus: EventBus<DaemonEvents>;
  private readonly displayWiring: DisplayWiring;
  readonly metrics = new MetricsRegistry();
  private running: Running | undefined;
  private config: Config;
  /** Which cameras ask for a movement, worked out once per config. */
  private readonly challengeAt = challengeAt();
  private readonly now: () => number;
  private readonly mono: () => number;
  private readonly log: Logger;
  private readonly abort = new AbortController();
  private readonly statusService: StatusService;
  private stopping = false;
  readonly startedMs: number;

  constructor(private readonly o: AppOptions) {
    this.config = o.config;
    this.now = o.now ?? Date.now;
    this.mono = o.monoNow ?? (() => performance.now());
    this.log = o.logger.child({ stage: 'daemon' });
    this.bus = new EventBus<DaemonEvents>(o.logger);
    this.displayWiring = { config: () => this.config, logger: o.logger, now: this.now, timeZone: () => this.timeZone() };
    this.startedMs = this.now();
    this.statusService = new StatusService({
      version: o.version,
      startedMs: this.startedMs,
      now: this.now,
      monoNow: this.mono,
      stallMs: () => this.config.daemon.stall_s * 1000,
      mqttEnabled: () => this.config.mqtt.enabled,
      running: () => this.running,
      stateDir: () => dirname(this.config.gallery.path),
      models: modelSummary(),
    });
  }

  get isRunning(): boolean {
    return this.running !== undefined;
  }

  get currentConfig(): Config {
    return this.config;
  }

  /** Models, gallery, publishing, cameras, then READY=1. */
  async start(): Promise<void> {
    const config = this.config;
    const lock = acquireDaemonLock(config.gallery.path);
    // Each part is recorded as it starts, so that a stop, or a start that fails half-way (a missing
    // device key, a bad gallery key, a taken port), stops exactly what runs, in reverse.
    const parts = new StartedParts(this.log);
    try {
      this.o.notifier.status('loading models');
      const vision = await VisionPool.create({ vision: config.vision, logger: this.o.logger });
      parts.add('vision', () => vision.close());
      this.o.notifier.status('opening the gallery');
      const gallery = await Gallery.open({ path: config.gallery.path, keys: { gallery: config.gallery, env: this.o.env }, logger: this.o.logger, create: true });
      parts.add('gallery', () => gallery.close());
      const thresholds = new CameraThresholds(gallery.db, this.now);
      const recognizer = new Recognizer({ gallery, thresholds, recognition: () => this.config.recognition, now: this.now });
      const unknowns = daemonUnknowns({ track: config.track, retention: config.retention, db: gallery.db, sealer: gallery.sealer, logger: this.o.logger, now: this.now });
      // Each door pairs its cameras' looks at a face and hands the stereo cue back to their tracks.
      const doors: DoorStage[] = config.doors.map(
        (door) =>
          new DoorStage({
            door,
            cameras: config.cameras,
            eyeFps: config.track.eye_fps,
            threshold: () => this.config.recognition.threshold,
            monoNow: this.mono,
            clockOf: (name) => cameras.sources().find((c) => c.name === name)?.captureClockStatus(),
            logger: this.o.logger,
          }),
      );
      // The live view draws the cameras' tracks, and each camera draws into it: made together.
      let liveView: LiveView | undefined;
      const cameras = new CameraMaintainer({
        bus: this.bus,
        vision,
        recognizer,
        unknowns,
        track: config.track,
        liveView: () => liveView,
        door: (camera) => doorSinkOf(doors, camera),
        challenge: (camera) => this.challengeAt(this.config, camera),
        latency: this.metrics.histogram('facegate_stage_seconds', 'Time per frame spent in each stage of the pipeline (detect, analyze, follow, decide, frame), seconds.', LATENCY_BUCKETS, () => PIPELINE_STAGES.map((stage) => ({ stage }))),
        signal: this.abort.signal,
        ...(this.o.spawnCamera ? { spawnCamera: this.o.spawnCamera } : {}),
        logger: this.o.logger,
        now: this.now,
        monoNow: this.mono,
      });
      if (config.live_view.enabled || config.web.enabled) liveView = new LiveView(() => cameras.sources(), config.live_view, this.o.logger);
      const events = new EventsStage({
        config,
        db: gallery.db,
        sealer: gallery.sealer,
        env: this.o.env,
        logger: this.o.logger,
        version: this.o.version,
        cameras: () => cameras.names(),
        deviceKey: loadDeviceKey(deviceKeyFile(this.o.env, config.mqtt.device_key_file)),
        galleryGeneration: () => gallery.generation,
        now: this.now,
        ...(this.o.mqttConnect ? { connect: this.o.mqttConnect } : {}),
      });
      const audit = new AuditLog(gallery.db, this.now);
      // Damaged gallery rows cost only their persons: the daemon serves everyone else, and says who.
      announceQuarantine(gallery.quarantined(), gallery.db, audit, events.writer);
      // Reads the attendance running at each call: a reload may rebuild it or turn it off.
      const reviews = new ArrivalReviews({ db: gallery.db, attendance: () => this.running?.attendance, audit, timeZone: () => this.timeZone(), now: this.now });
      const persons = new PersonService({
        gallery,
        analyzer: vision,
        gate: config.gallery.enrol,
        recognition: config.recognition,
        audit,
        unknowns,
        // Announced on the bus: the recognizer's roster and Home Assistant's entities follow.
        onChange: (change) => void this.bus.emit('roster', change),
        // Teaching from a camera's wrong decision is the site's measure of that camera, as reviews are.
        onMeasured: (camera, outcome) => reviews.measured(camera, outcome),
      });
      const remote = new Remote({
        config,
        events,
        gallery,
        persons,
        reviews,
        version: this.o.version,
        cameras: () => cameras.names(),
        rules: () => this.running?.attendance?.rules,
        status: () => this.status(),
        logger: this.o.logger,
        now: this.now,
      });
      if (config.mqtt.enabled) events.start();
      else this.log.warn('mqtt.enabled is false: events are kept in the outbox and not published');
      parts.add('events', () => events.stop());
      parts.add('outbox flush', () => (config.mqtt.enabled ? events.drain(this.o.flushTimeoutMs ?? 10_000, this.mono) : undefined));
      // Written before the drain, so that it leaves with the outbox.
      parts.add('stopping event', () => events.announceStopping());
      parts.add('remote commands', () => remote.stop());
      // A person operation running finishes (and answers) before the gallery and the broker go.
      parts.add('person operations', () => persons.close());
      this.running = {
        lock,
        parts,
        vision,
        gallery,
        audit,
        events,
        persons,
        remote,
        attendance: undefined,
        reviews,
        unknowns,
        retention: new RetentionService({ db: gallery.db, config: config.retention, unknowns, now: this.now, logger: this.o.logger }),
        reloads: new ConfigReload({ configPath: this.o.configPath, apply: (next) => this.reload(next), audit }),
        decisions: new DecisionMetrics(this.metrics, () => this.config.cameras.map((cam) => cam.name)),
        cameras,
        doors,
        liveView,
        thresholds,
        thresholdChanges: new ThresholdService({ db: gallery.db, thresholds, audit }),
        faces: new FaceViews({ db: gallery.db, sealer: gallery.sealer, audit }),
        recognizer,
        scores: new RecentScores(),
        timeline: new Timeline(gallery.db, gallery.sealer),
        displays: buildDisplays(this.displayWiring, gallery, audit),
      };
      this.running.attendance = this.buildAttendance(config);
      // Each stage subscribes itself; the subscriptions end after the cameras stopped, their last events delivered.
      const subscriptions = [
        recognizer.subscribe(this.bus),
        cameras.subscribe(this.bus),
        subscribeSightings(this.bus, () => this.running?.attendance?.stage),
        this.running.decisions.subscribe(this.bus),
        this.running.scores.subscribe(this.bus),
        this.running.timeline.subscribe(this.bus),
        events.subscribe(this.bus),
        remote.subscribe(this.bus),
        ...doors.map((door) => door.subscribe(this.bus)),
        // After attendance: a display greets with the check-in that attendance made of the recognition.
        ...subscribeDisplays(this.displayWiring, this.bus, this.running.displays, this.running.events),
      ];
      parts.add('bus subscriptions', () => subscriptions.forEach((unsubscribe) => unsubscribe()));
      registerRunningMetrics(this.metrics, this.running, { version: this.o.version, bus: this.bus, config: () => this.config, liveness: () => this.liveness() });
      await startMonitoring(config, this.running, this.o.logger, this);
      parts.add('cameras', () => cameras.stop());
      cameras.start(config.cameras);
      await startDoors(config, this.running, this.o.logger, this, this.now);
      this.startTimers();
      this.o.notifier.ready(this.statusLine());
      this.log.info({ cameras: config.cameras.length, persons: gallery.personCount, templates: gallery.matcher.size, mqtt: config.mqtt.enabled }, 'facegate ready');
    } catch (e) {
      await parts.stopAll();
      this.running = undefined;
      lock.release();
      throw e;
    }
  }

  /** SIGTERM: stop intake, let open tracks finish, flush the outbox, close everything. */
  async stop(): Promise<void> {
    const running = this.running;
    if (!running || this.stopping) return;
    this.stopping = true;
    this.o.notifier.stopping('stopping: finishing tracks and flushing the outbox');
    this.abort.abort();
    await running.parts.stopAll();
    running.lock.release();
    this.running = undefined;
    this.log.info('facegate stopped');
  }

  /**
   * The owner's side of a reload: cameras added, removed or changed, and attendance rules, taken
   * over from `next`; other sections need a restart. Doors reload through `reloadConfig`, which
   * reads the file, checks it and audits.
   */
  reload(next: Config): ReloadResult {
    const running = this.mustRun();
    if (this.stopping) throw new FacegateError('FG_ERR_DAEMON_STOPPING', 'the daemon is stopping', 'reload it once it is back');
    this.o.notifier.reloading('reloading cameras and rules');
    const { added, removed, changed, attendanceChanged, restartNeeded } = configChange(this.config, next);
    if (attendanceChanged) running.attendance = this.buildAttendance(next);
    // Only the reloadable sections are taken over; the rest stays as the daemon started with it.
    this.config = { ...this.config, cameras: next.cameras, attendance: next.attendance };
    running.cameras.reload(next.cameras, { added, removed, changed });
    running.events.refreshInfo(this.config);
    if (restartNeeded.length > 0) this.log.warn({ sections: restartNeeded }, 'these sections changed and take effect after a restart');
    this.log.info({ added, removed, changed }, 'config reloaded');
    this.o.notifier.ready(this.statusLine());
    return { added, removed, changed, restartNeeded };
  }

  /** SIGHUP and the control socket's `reload`: the config file read and checked again, taken over, audited with `by`. */
  reloadConfig(by: Actor): ReloadResult {
    return this.mustRun().reloads.reload(by);
  }

  /** Enrol, rename, erase, promote: the one implementation every entry point goes through. */
  get persons(): PersonService {
    return this.mustRun().persons;
  }

  /** Deletes what the retention settings say is too old, in the state file and in memory alike; audited with `by`, who asked. */
  purgeRetention(by?: Actor): PurgeResult {
    return this.mustRun().retention.purge(by);
  }

  get audit(): AuditLog {
    return this.mustRun().audit;
  }

  get gallery(): Gallery {
    return this.mustRun().gallery;
  }

  /** The vision workers; enrolment and identify calls go to the least busy one. */
  get analyzer(): VisionEngine {
    return this.mustRun().vision;
  }

  /** The review of unverified arrivals, as every door calls it. */
  get reviews(): ArrivalReviews {
    return this.mustRun().reviews;
  }

  get eventsStage(): EventsStage | undefined {
    return this.running?.events;
  }

  cameraHealth(): CameraHealth[] {
    return this.running?.cameras.health() ?? [];
  }

  liveness(): Liveness {
    return this.statusService.liveness();
  }

  /** The control socket's and the remote command's `status`. */
  status(): StatusReport {
    return this.statusService.report();
  }

  /** One line for systemd's STATUS= and /status; what is stuck as the watchdog last saw it. */
  statusLine(): string {
    return this.statusService.line();
  }

  private mustRun(): Running {
    if (!this.running) throw new Error('the daemon is not running');
    return this.running;
  }

  private buildAttendance(c: Config): AttendanceParts | undefined {
    const running = this.mustRun();
    if (!c.attendance.enabled) return undefined;
    return createAttendance({
      config: c.attendance,
      // Doors take effect at a restart (config/diff.ts): the ones the cameras run with now.
      doors: this.config.doors,
      db: running.gallery.db,
      writer: running.events.writer,
      sealer: gallerySealerForProofs(running.gallery.sealer),
      cellSealer: running.gallery.sealer,
      roster: () => running.recognizer.roster(),
      logger: this.o.logger,
      now: this.now,
      onSighting: (decision, decisions) => void this.bus.emit('sighting', { decision, decisions }),
      onRefusedByReview: (r) => running.reviews.sightingRefused(r),
    });
  }

  private startTimers(): void {
    const running = this.mustRun();
    const tasks = new PeriodicTasks(this.o.logger);
    running.parts.add('timers', () => tasks.stop());
    new Watchdog({ status: this.statusService, notifier: this.o.notifier, statusIntervalS: this.config.daemon.status_interval_s, logger: this.o.logger }).schedule(tasks);
    // Read at each tick: a reload may rebuild attendance or turn it off.
    tasks.every(60_000, 'attendance', () => running.attendance?.stage.tick());
    running.retention.schedule(tasks, () => this.running === running);
  }

  /** The site's zone, the one clock of every entry point: as the config has it, or as the shifts command replaced it. */
  timeZone(): string {
    return this.running?.attendance?.rules.current().timeZone ?? this.config.attendance.time_zone;
  }
}
