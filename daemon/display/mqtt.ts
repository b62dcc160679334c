import type { Logger } from '../base/log.js';
import type { MqttBridge } from '../events/bridge.js';
import { TOPICS, topicFor } from '../../contract/topics.js';
import type { ShownPerson } from './config.js';
import type { DisplayFeed } from './feed.js';
import { displayPayload } from './wire.js';

export interface DisplayTopicOptions {
  bridge: Pick<MqttBridge, 'publish' | 'connected'>;
  baseTopic: string;
  device: string;
  show: ShownPerson;
  timeZone: () => string;
  now: () => number;
  logger: Logger;
}

/**
 * Every display's changes on `<base>/<target>/display`, for a site that drives its own display, a
 * light or a speaker. Only while the broker is connected, never kept for later: a greeting is worth
 * showing as the person stands there, not when the broker comes back. Returns the unsubscribe.
 */
export function publishDisplays(feed: Pick<DisplayFeed, 'listen'>, o: DisplayTopicOptions): () => void {
  const spec = TOPICS.display;
  let failures = 0;
  return feed.listen((target, state) => {
    if (!o.bridge.connected) return;
    const payload = displayPayload({ device: o.device, target, state, show: o.show, timeZone: o.timeZone(), nowMs: o.now() });
    o.bridge.publish(topicFor(o.baseTopic, 'display', { target }), JSON.stringify(payload), { qos: spec.qos, retain: spec.retain }).then(
      () => (failures = 0),
      (e: unknown) => {
        // Once per run of failures: a broker that refuses every display event would fill the log.
        if (failures++ === 0) o.logger.warn({ stage: 'display', target, err: e instanceof Error ? e.message : String(e) }, 'display event not published; the next ones are tried as they come');
      },
    );
  });
}
