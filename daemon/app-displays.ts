import type { Config } from './config/schema.js';
import type { Logger } from './base/log.js';
import type { Subscribable } from './base/subscribable.js';
import type { DaemonEvents } from './bus/events.js';
import { DisplayFeed } from './display/feed.js';
import { publishDisplays } from './display/mqtt.js';
import { displayTargets, type DisplayTargets } from './display/targets.js';
import type { EventsStage } from './events/stage.js';
import type { Gallery } from './gallery/gallery.js';
import type { AuditLog } from './service/audit.js';
import { DisplayTokenService } from './service/display-tokens.js';
import type { Running } from './app-running.js';

/** What the displays are built from: the config as it is now (a reload swaps it), the site's clock and zone. */
export interface DisplayWiring {
  config: () => Config;
  logger: Logger;
  now: () => number;
  timeZone: () => string;
}

/** The door displays' feed, tokens and targets, on the state file's gallery database. */
export function buildDisplays(w: DisplayWiring, gallery: Gallery, audit: AuditLog): Running['displays'] {
  // Made again only when a reload brought another camera list: the feed asks at every frame.
  let made: { cameras: Config['cameras']; targets: DisplayTargets } | undefined;
  const targets = () => {
    const config = w.config();
    if (made?.cameras !== config.cameras) made = { cameras: config.cameras, targets: displayTargets(config.cameras, config.doors) };
    return made.targets;
  };
  return {
    feed: new DisplayFeed({ targets, greetingMs: w.config().display.greeting_s * 1000, logger: w.logger, now: w.now }),
    tokens: new DisplayTokenService({ db: gallery.db, audit, targets: () => targets().names, photos: gallery.store, now: w.now }),
    targets,
  };
}

/**
 * The displays follow the bus only where something shows them (the console, or their MQTT topic):
 * their views cost every frame. Returns the unsubscribes.
 */
export function subscribeDisplays(w: DisplayWiring, bus: Subscribable<DaemonEvents>, displays: Running['displays'], events: Pick<EventsStage, 'identity' | 'bridge'>): (() => void)[] {
  const config = w.config();
  const mqtt = config.display.mqtt.enabled && config.mqtt.enabled;
  if (!config.web.enabled && !mqtt) return [];
  const subscriptions = [displays.feed.subscribe(bus)];
  if (mqtt) {
    const id = events.identity;
    subscriptions.push(publishDisplays(displays.feed, { bridge: events.bridge, baseTopic: id.baseTopic, device: id.deviceId, show: config.display.mqtt.show, timeZone: w.timeZone, now: w.now, logger: w.logger }));
  }
  return subscriptions;
}
