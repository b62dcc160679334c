import { ExitCode } from '../daemon/base/errors.js';
import { replayStatusText } from './replay-status.js';
import { centralConfigOrExit, existingStoreOrExit } from './consumer-command.js';
import { command, UsageError } from '../daemon/cli/command.js';
import { jsonLine, printable } from '../daemon/cli/terminal-text.js';

const USAGE = '--config FILE [--json]';

/**
 * `facegate central status`: what the central consumer's database says of each box's events:
 * the highest number, how many are stored and missing, what replay asked for and what the box
 * reported gone. It reads the database the consumer writes, so it runs beside it and shows what
 * every consumer sharing that file did.
 */
export const centralStatusCommand = command({
  words: ['central', 'status'],
  summary: "each box's event numbers in the central database: stored, missing, asked for again, reported gone",
  usage: USAGE,
  options: { config: { type: 'string', short: 'c' }, json: { type: 'boolean' } },
  async run({ values }, io) {
    if (!values.config) throw new UsageError('no config file given', USAGE);
    const config = centralConfigOrExit(values.config, io);
    if (typeof config === 'number') return config;
    const store = await existingStoreOrExit(config, io);
    if (typeof store === 'number') return store;
    try {
      const boxes = await store.replayStatus();
      // Box ids are what each box's topics said: escaped a line at a time.
      io.stdout(values.json ? jsonLine({ events: await store.eventCount(), boxes }) : replayStatusText(boxes).split('\n').map(printable).join('\n'));
    } finally {
      await store.close();
    }
    return ExitCode.OK;
  },
});
