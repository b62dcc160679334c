import type { Database } from 'better-sqlite3';
import { FacegateError } from '../base/errors.js';
import type { Logger } from '../base/log.js';
import type { MqttConfig } from '../events/config.js';
import type { MqttBridge } from '../events/bridge.js';
import type { MqttIdentity } from '../events/mqtt-options.js';
import type { EventWriter } from '../events/writer.js';
import type { CommandDeps } from './handlers.js';
import { CommandAudit, ReplayCache } from '../service/command-records.js';
import { CommandRouter } from './router.js';
import { loadCentralKey } from '../service/command-token.js';

/**
 * Remote commands from the config. While they are off, a router still subscribes and answers every
 * request with FG_ERR_COMMANDS_OFF (rate-limited like other refusals): a central server then learns
 * why nothing runs instead of waiting.
 */
export function createCommandRouter(o: {
  config: MqttConfig;
  identity: MqttIdentity;
  db: Database;
  writer: EventWriter;
  bridge: MqttBridge;
  deps: CommandDeps;
  logger: Logger;
  now?: () => number;
}): CommandRouter {
  const commands = o.config.commands;
  if (commands.enabled && !commands.central_public_key) {
    throw new FacegateError('FG_ERR_CENTRAL_KEY', 'mqtt.commands.enabled is set but mqtt.commands.central_public_key is empty', "give the file with the central server's Ed25519 public key, or turn commands off");
  }
  const router = new CommandRouter({
    baseTopic: o.identity.baseTopic,
    policy: commands.enabled ? { key: loadCentralKey(commands.central_public_key), deviceId: o.identity.deviceId, maxTokenAgeS: commands.max_token_age_s, clockSkewS: commands.clock_skew_s } : undefined,
    replay: new ReplayCache(o.db),
    audit: new CommandAudit(o.db),
    deps: o.deps,
    writer: o.writer,
    db: o.db,
    now: o.now ?? Date.now,
    logger: o.logger,
  });
  const interrupted = router.answerInterrupted();
  if (interrupted > 0) o.logger.warn({ stage: 'events', part: 'commands', interrupted }, `${interrupted} remote commands were cut off by a stop before they finished: answered FG_ERR_COMMAND_INTERRUPTED`);
  router.attach(o.bridge);
  return router;
}
