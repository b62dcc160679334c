import type { Database } from 'better-sqlite3';
import { FacegateError } from '../../errors.js';
import type { Logger } from '../../ops/log.js';
import type { MqttConfig } from '../config.js';
import type { MqttBridge } from '../bridge.js';
import type { MqttIdentity } from '../mqtt-options.js';
import type { EventWriter } from '../writer.js';
import type { CommandDeps } from './handlers.js';
import { CommandAudit, ReplayCache } from './replay.js';
import { CommandRouter } from './router.js';
import { loadCentralKey } from './token.js';

/** Remote commands from the config; undefined (and nothing subscribed) unless enabled. */
export function createCommandRouter(o: {
  config: MqttConfig;
  identity: MqttIdentity;
  db: Database;
  writer: EventWriter;
  bridge: MqttBridge;
  deps: CommandDeps;
  logger: Logger;
  now?: () => number;
}): CommandRouter | undefined {
  const c = o.config.commands;
  if (!c.enabled) return undefined;
  if (!c.central_public_key) {
    throw new FacegateError('FG_ERR_CENTRAL_KEY', 'mqtt.commands.enabled is set but mqtt.commands.central_public_key is empty', "give the file with the central server's Ed25519 public key, or turn commands off");
  }
  const router = new CommandRouter({
    baseTopic: o.identity.baseTopic,
    policy: { key: loadCentralKey(c.central_public_key), deviceId: o.identity.deviceId, maxTokenAgeS: c.max_token_age_s, clockSkewS: c.clock_skew_s },
    replay: new ReplayCache(o.db),
    audit: new CommandAudit(o.db),
    deps: o.deps,
    writer: o.writer,
    db: o.db,
    now: o.now ?? Date.now,
    logger: o.logger,
  });
  router.attach(o.bridge);
  return router;
}
