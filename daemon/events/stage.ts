import type { Database } from 'better-sqlite3';
import mqtt from 'mqtt';
import type { Logger } from '../base/log.js';
import { redactSecrets } from '../base/log.js';
import { formatLocalIso } from '../base/zoned-time.js';
import type { MqttConfig } from './config.js';
import { MqttBridge, type Connect, type Timers, realTimers } from './bridge.js';
import { UnknownAlerts } from './alerts.js';
import { DayCounters, type CountKind, type DayCounts } from './day-counters.js';
import { loadDeviceKey, type DeviceKey } from './device-key.js';
import { mqttClientOptions, mqttIdentity, OFFLINE, ONLINE, type MqttIdentity } from './mqtt-options.js';
import { Outbox, type OutboxSealer } from './outbox.js';
import { OutboxPublisher } from './publisher.js';
import { EventReplay } from './replay.js';
import { SequenceAnnouncer } from './sequence-announcer.js';
import { createSigner } from './signing.js';
import { topicFor, type Payload } from '../../contract/topics.js';
import { TrackReporter, type TrackView } from './track-report.js';
import { uuidv7Generator } from '../base/uuidv7.js';
import type { TrackEvent } from '../track/events.js';
import { EventWriter } from './writer.js';
import { FrigateFaces } from './frigate.js';
import type { Subscribable } from '../base/subscribable.js';
import type { CameraHealth } from '../camera/health.js';
import { CameraLinks } from './camera-links.js';
import { alertTrackEvent, type AlertTargets } from './track-alerts.js';

/** How often the stage looks whether the local day changed (its counters then start again at zero). */
const DAY_CHECK_MS = 60_000;

/**
 * The keys the stage reads; the whole config is passed, and bridge/info publishes all of it
 * (masked). Typed by what it reads because the config's full type sits in a layer above the stages.
 */
export interface EventsStageConfig {
  readonly mqtt: MqttConfig;
  readonly attendance: { readonly time_zone: string };
}

export interface EventsStageOptions {
  config: EventsStageConfig;
  db: Database;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  version: string;
  cameras: () => readonly string[];
  /** Seals outbox payloads at rest: the gallery's sealer. */
  sealer: OutboxSealer;
  /** Defaults to the device key file named in the config. */
  deviceKey?: DeviceKey;
  /**
   * The gallery's generation (raised by every change of persons): published in bridge/info and,
   * signed, in the `started` event, so that a central server that remembers it sees an older
   * state file put back on the box.
   */
  galleryGeneration?: () => number;
  connect?: Connect;
  now?: () => number;
  timers?: Timers;
}

/**
 * The events stage as the daemon builds it: identity, device key, outbox, writer, MQTT bridge and
 * publisher, plus the retained state topics (bridge/info, per-camera availability and counters)
 * and periodic stats. Commands and Home Assistant attach to `bridge` when enabled.
 */
export class EventsStage {
  readonly identity: MqttIdentity;
  readonly outbox: Outbox;
  readonly writer: EventWriter;
  readonly bridge: MqttBridge;
  readonly publisher: OutboxPublisher;
  readonly key: DeviceKey;
  /** `events/replay`: kept events sent again on request. */
  readonly replay: EventReplay;
  /** The signed high-water mark on bridge/sequence. */
  private readonly sequence: SequenceAnnouncer;
  private readonly startedMs: number;
  private statsTimer: unknown;
  private started = false;
  private readonly availability = new Map<string, boolean>();
  /** Which cameras are down, so that each going down and coming back is one signed event. */
  private readonly cameraLinks = new CameraLinks();
  /** The config bridge/info shows: the one started with, then each reload's. */
  private infoConfig: EventsStageConfig;
  /** Per-track events; undefined when mqtt.track_events is off. */
  readonly tracks: TrackReporter | undefined;
  /** Recognitions in Frigate's face shape; undefined unless mqtt.frigate is on. */
  private readonly frigate: FrigateFaces | undefined;
  /** The unknown alerts of running tracks, so that a withdrawal names the alert it withdraws. */
  readonly unknownAlerts = new UnknownAlerts();
  /** Each camera's latest decision, retained on `<camera>/last` and sent again on every connect. */
  private readonly lastDecision = new Map<string, Payload<'trackLast'>>();
  private readonly counters: DayCounters;
  /** The local day whose counts were last published for every camera, and the timer that notices the next. */
  private countedDay = '';
  private dayTimer: unknown;
  private readonly now: () => number;
  private readonly timers: Timers;

  constructor(private readonly o: EventsStageOptions) {
    const mqttConfig = o.config.mqtt;
    this.now = o.now ?? Date.now;
    this.timers = o.timers ?? realTimers;
    this.startedMs = this.now();
    this.infoConfig = o.config;
    this.counters = new DayCounters(o.db);
    this.identity = mqttIdentity(mqttConfig);
    this.key = o.deviceKey ?? loadDeviceKey(mqttConfig.device_key_file);
    const keep = mqttConfig.replay;
    this.outbox = new Outbox(
      o.db,
      { maxEvents: mqttConfig.outbox.max_events, maxBytes: mqttConfig.outbox.max_mb * 1024 * 1024, kept: { maxEvents: keep.keep_events, maxBytes: keep.keep_mb * 1024 * 1024, maxAgeMs: keep.keep_hours * 3_600_000 } },
      o.sealer,
      o.logger,
    );
    this.bridge = new MqttBridge({
      url: mqttConfig.url,
      options: mqttClientOptions(mqttConfig, this.identity, o.env),
      baseTopic: this.identity.baseTopic,
      reconnect: { minMs: mqttConfig.reconnect.min_ms, maxMs: mqttConfig.reconnect.max_ms },
      connect: o.connect ?? mqtt.connect,
      logger: o.logger,
      timers: this.timers,
    });
    this.publisher = new OutboxPublisher({ outbox: this.outbox, bridge: this.bridge, logger: o.logger, inflight: mqttConfig.inflight });
    const signer = createSigner(this.key);
    this.writer = new EventWriter({
      outbox: this.outbox,
      signer,
      deviceId: this.identity.deviceId,
      baseTopic: this.identity.baseTopic,
      timeZone: o.config.attendance.time_zone,
      newId: uuidv7Generator(this.now),
      now: this.now,
      logger: o.logger,
      onWritten: () => this.publisher.wake(),
    });
    this.replay = new EventReplay({ outbox: this.outbox, now: this.now, wake: () => this.publisher.wake(), logger: o.logger });
    this.sequence = new SequenceAnnouncer({
      bridge: this.bridge,
      outbox: this.outbox,
      signer,
      deviceId: this.identity.deviceId,
      baseTopic: this.identity.baseTopic,
      timeZone: o.config.attendance.time_zone,
      intervalMs: keep.announce_s * 1000,
      now: this.now,
      timers: this.timers,
      logger: o.logger,
    });
    const te = mqttConfig.track_events;
    this.tracks = te.enabled
      ? new TrackReporter({ intervalMs: te.update_interval_ms, maxTracks: te.max_tracks, snapshotMaxKb: te.snapshot_max_kb, personNames: te.person_names })
      : undefined;
    this.frigate = mqttConfig.frigate.enabled ? new FrigateFaces(this.bridge, mqttConfig.frigate.topic) : undefined;
    this.bridge.onConnect(() => this.publishState());
  }

  /** One tracker event as per-track MQTT events (new/update/end through the outbox, the latest decision retained directly) and, opted in, as Frigate's face update. */
  reportTrack(e: TrackEvent & { atMs: number }): void {
    // Only while publishing: with MQTT off (or stopping) they would only fill the outbox.
    if (!this.started) return;
    this.frigate?.report(e).catch((err: unknown) => this.o.logger.warn({ stage: 'events', err: (err as Error).message }, 'Frigate face publish failed'));
    if (!this.tracks) return;
    const report = this.tracks.report(e);
    if (report.event) this.writer.write('trackEvent', report.event, e.atMs, { camera: e.camera });
    if (report.last) this.publishLast(e.camera, report.last, e.atMs);
  }

  private publishLast(camera: string, view: TrackView, atMs: number): void {
    const last = { ...view, time: formatLocalIso(atMs, this.o.config.attendance.time_zone) };
    this.lastDecision.set(camera, last);
    if (this.bridge.connected) void this.safePublish(topicFor(this.identity.baseTopic, 'trackLast', { camera }), JSON.stringify(last), true);
  }

  start(): void {
    this.publisher.start();
    this.sequence.start();
    this.bridge.start();
    const generation = this.o.galleryGeneration?.();
    this.writer.write('bridgeEvent', {
      type: 'started',
      data: { version: this.o.version, outbox_pending: this.outbox.stats(this.now()).pending, ...(generation !== undefined ? { gallery_generation: generation } : {}) },
    });
    this.started = true;
    this.scheduleStats();
    this.watchDay();
  }

  /**
   * The `stopping` bridge event, for a central server to tell a planned stop from a crash (only the
   * last-will then). Written before the daemon drains its outbox, so that it goes out with the rest.
   */
  announceStopping(): void {
    if (!this.started) return;
    this.started = false;
    this.writer.write('bridgeEvent', {
      type: 'stopping',
      data: { uptime_s: Math.floor((this.now() - this.startedMs) / 1000), outbox_pending: this.outbox.stats(this.now()).pending },
    });
  }

  /**
   * At stop, before `stop`: publishes what the outbox holds while the broker stays connected, for
   * up to `timeoutMs` (`mono`: a monotonic clock, ms). What is left stays in the state file and is
   * sent after the next start; returns how many events that is.
   */
  async drain(timeoutMs: number, mono: () => number): Promise<number> {
    const deadline = mono() + timeoutMs;
    while (this.outbox.stats(this.now()).pending > 0 && this.bridge.connected && mono() < deadline) {
      this.publisher.wake();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const left = this.outbox.stats(this.now()).pending;
    if (left > 0) this.o.logger.warn({ pending: left }, 'outbox not empty at stop: the events stay in the state file and are sent after the next start');
    return left;
  }

  async stop(): Promise<void> {
    if (this.statsTimer !== undefined) this.timers.clearTimeout(this.statsTimer);
    this.statsTimer = undefined;
    if (this.dayTimer !== undefined) this.timers.clearTimeout(this.dayTimer);
    this.dayTimer = undefined;
    this.sequence.stop();
    this.publisher.stop();
    await this.bridge.stop();
  }

  /**
   * Follows each camera's state on the bus into its availability and its up/down events, and the
   * tracker's decisions into per-track events, alerts and day counters, as the stage 'events';
   * returns the unsubscribe.
   */
  subscribe(bus: Subscribable<{ cameraState: CameraHealth; track: TrackEvent & { atMs: number } }>): () => void {
    const alerts: AlertTargets = { writer: this.writer, count: (camera, kind, atMs) => this.count(camera, kind, atMs), unknownImageMaxKb: this.o.config.mqtt.unknown_image_max_kb, unknownAlerts: this.unknownAlerts };
    const unsubscribe = [
      bus.on('cameraState', 'events', (health) => this.cameraState(health)),
      bus.on('track', 'events', (e) => {
        this.reportTrack(e);
        alertTrackEvent(e, alerts);
      }),
    ];
    return () => unsubscribe.forEach((off) => off());
  }

  /**
   * One camera state change: the retained availability follows it, and a camera that goes down (a
   * failure, a stall) or comes back is said once, signed, on bridge/event, with the reason. A
   * camera retrying sits in connecting and backoff by turns: neither repeats what was said.
   */
  cameraState(health: CameraHealth, atMs: number = this.now()): void {
    this.setCameraAvailability(health.camera, health.state === 'streaming');
    const change = this.cameraLinks.next(health, atMs);
    if (!change || !this.started) return;
    this.writer.write('bridgeEvent', change, atMs);
  }

  /** Retained `<base>/<camera>/availability`, published when it changes and again on every connect. */
  setCameraAvailability(camera: string, online: boolean): void {
    if (this.availability.get(camera) === online) return;
    this.availability.set(camera, online);
    if (this.bridge.connected) void this.safePublish(topicFor(this.identity.baseTopic, 'availability', { camera }), online ? ONLINE : OFFLINE, true);
  }

  /** After a reload: bridge/info names the cameras and shows the config now in force; a camera added gets its counters. */
  refreshInfo(config: EventsStageConfig): void {
    this.infoConfig = config;
    if (!this.bridge.connected) return;
    const published = async () => {
      await this.safePublish(topicFor(this.identity.baseTopic, 'bridgeInfo'), JSON.stringify(this.bridgeInfo()), true);
      await this.publishAllCounters();
    };
    published().catch((e: unknown) => this.o.logger.warn({ stage: 'events', err: e instanceof Error ? e.message : String(e) }, 'state publish after the reload failed; it is sent again on the next connect'));
  }

  /** Counts a recognition / unknown / spoof on a camera's retained day counters (kept in the state file). */
  count(camera: string, kind: CountKind, atMs: number = this.now()): void {
    const at = formatLocalIso(atMs, this.o.config.attendance.time_zone);
    const counts = this.counters.count(camera, at.slice(0, 10), kind, at);
    if (this.bridge.connected) void this.publishCounters(camera, counts);
  }

  bridgeInfo(): Payload<'bridgeInfo'> {
    return {
      version: this.o.version,
      device: this.identity.deviceId,
      cameras: [...this.o.cameras()],
      public_key: { ...this.key.publicJwk },
      ...(this.o.galleryGeneration ? { gallery_generation: this.o.galleryGeneration() } : {}),
      config: sanitizeConfig(this.infoConfig) as Record<string, unknown>,
    };
  }

  stats(): Payload<'stats'> {
    const outboxStats = this.outbox.stats(this.now());
    return {
      device: this.identity.deviceId,
      time: formatLocalIso(this.now(), this.o.config.attendance.time_zone),
      uptime_s: Math.floor((this.now() - this.startedMs) / 1000),
      outbox: { pending: outboxStats.pending, oldest_age_s: outboxStats.oldestAgeS, dropped: outboxStats.dropped },
      mqtt: { published: this.publisher.published, reconnects: this.bridge.reconnects },
    };
  }

  private async publishState(): Promise<void> {
    await this.safePublish(topicFor(this.identity.baseTopic, 'bridgeInfo'), JSON.stringify(this.bridgeInfo()), true);
    for (const [camera, online] of this.availability) await this.safePublish(topicFor(this.identity.baseTopic, 'availability', { camera }), online ? ONLINE : OFFLINE, true);
    await this.publishAllCounters();
    for (const [camera, last] of this.lastDecision) await this.safePublish(topicFor(this.identity.baseTopic, 'trackLast', { camera }), JSON.stringify(last), true);
  }

  /** Every camera's counts of today, zero where nothing was counted yet: sensors exist from the start. */
  private async publishAllCounters(): Promise<void> {
    const day = this.today();
    this.countedDay = day;
    for (const camera of this.o.cameras()) await this.publishCounters(camera, this.counters.get(camera, day));
  }

  private async publishCounters(camera: string, counts: DayCounts): Promise<void> {
    await this.safePublish(topicFor(this.identity.baseTopic, 'cameraState', { camera }), JSON.stringify(counts), true);
  }

  private today(): string {
    return formatLocalIso(this.now(), this.o.config.attendance.time_zone).slice(0, 10);
  }

  /** Once a minute: at the first check of a new local day, every camera's counts go back to zero on the broker. */
  private watchDay(): void {
    this.dayTimer = this.timers.setTimeout(() => {
      if (this.bridge.connected && this.today() !== this.countedDay) void this.publishAllCounters();
      this.watchDay();
    }, DAY_CHECK_MS);
  }

  private scheduleStats(): void {
    const every = this.o.config.mqtt.stats_interval_s;
    if (every <= 0) return;
    this.statsTimer = this.timers.setTimeout(() => {
      if (this.bridge.connected) void this.safePublish(topicFor(this.identity.baseTopic, 'stats'), JSON.stringify(this.stats()), false, 0);
      this.scheduleStats();
    }, every * 1000);
  }

  private async safePublish(topic: string, payload: string, retain: boolean, qos: 0 | 1 = 1): Promise<void> {
    try {
      await this.bridge.publish(topic, payload, { qos, retain });
    } catch (e) {
      this.o.logger.warn({ stage: 'events', topic, err: (e as Error).message }, 'state publish failed; it is sent again on the next connect');
    }
  }
}

/** The config for bridge/info, as every other output shows it: secret keys and URL credentials masked. */
export function sanitizeConfig(value: unknown): unknown {
  return redactSecrets(value);
}
