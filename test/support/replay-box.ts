import { generateKeyPairSync, type KeyPairKeyObjectResult } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CommandRouter } from '../../daemon/remote/router.js';
import { CommandAudit, ReplayCache } from '../../daemon/service/command-records.js';
import { FakePersons, noReviews } from './fake-persons.js';
import { quietLogger, type EventsStack } from './events-stack.js';

/**
 * Lets a box answer `events/replay` as the daemon does: a central command key (its private half
 * written to `dir`/central.key for the consumer's `replay.command_key`), and the box's remote
 * command router, trusting its public half, attached to the box's bridge. Returns the key's path.
 * Boxes that one consumer asks share its key: pass the same `commandKey` to each.
 */
export function answerReplays(box: EventsStack, dir: string, commandKey: KeyPairKeyObjectResult = generateKeyPairSync('ed25519')): string {
  const path = join(dir, 'central.key');
  writeFileSync(path, commandKey.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const router = new CommandRouter({
    baseTopic: box.baseTopic,
    policy: { key: commandKey.publicKey, deviceId: box.deviceId, maxTokenAgeS: 300, clockSkewS: 5 },
    replay: new ReplayCache(box.db),
    audit: new CommandAudit(box.db),
    deps: { persons: new FakePersons(), setShiftRules: () => ({ groups: [] }), status: () => ({}), replay: (from, to) => box.replay.replay(from, to), reviews: noReviews },
    writer: box.writer,
    db: box.db,
    now: Date.now,
    logger: quietLogger(),
  });
  router.attach(box.bridge);
  return path;
}
