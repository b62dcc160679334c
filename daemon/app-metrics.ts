import { dirname } from 'node:path';
import type { Config } from './config/schema.js';
import type { EventBus } from './bus/bus.js';
import type { DaemonEvents } from './bus/events.js';
import type { MetricsRegistry } from './base/metrics.js';
import type { Liveness } from './pipeline/pipeline-health.js';
import { registerDaemonMetrics, registerDoorMetrics, registerEventLoopMetrics } from './system/daemon-metrics.js';
import type { Running } from './app-running.js';

/** What the metrics read of the daemon besides its parts. */
export interface MeteredDaemon {
  readonly version: string;
  readonly bus: EventBus<DaemonEvents>;
  /** The config running now: a reload replaces it. */
  config(): Config;
  liveness(): Liveness;
}

/**
 * The daemon's gauges and counters over its running parts (system/daemon-metrics.ts says what each
 * means). The event loop's monitor starts here and is added to `parts`, so the stop ends it.
 */
export function registerRunningMetrics(metrics: MetricsRegistry, running: Running, daemon: MeteredDaemon): void {
  const { cameras, events, gallery, remote, reviews, vision, doors } = running;
  registerDaemonMetrics(
    metrics,
    {
      cameraHealth: () => cameras.health(),
      pipelineCounts: () => cameras.processedCounts(),
      liveness: () => daemon.liveness(),
      eventsStage: events,
      gallery,
      bus: daemon.bus,
      commandCounts: () => remote.commands?.counts,
      feedCounts: () => remote.feed?.counts,
      reviewOutcomes: () => reviews.outcomeCounts(),
      refusedByReview: () => reviews.refusedCounts(),
      vision: () => vision.info(),
    },
    { version: daemon.version, mqttEnabled: () => daemon.config().mqtt.enabled, stateDir: () => dirname(daemon.config().gallery.path) },
  );
  registerDoorMetrics(metrics, () => doors.map((door) => door.status()));
  const eventLoop = registerEventLoopMetrics(metrics);
  eventLoop.start();
  running.parts.add('event loop monitor', () => eventLoop.stop());
}
