import mqtt from 'mqtt';
import { ExitCode, isFacegateError } from '../daemon/base/errors.js';
import { createLogger } from '../daemon/base/log.js';
import { MetricsRegistry } from '../daemon/base/metrics.js';
import { loadCentralConfig, type CentralConfig } from './config.js';
import { CentralConsumer } from './consumer.js';
import { CentralStore } from './store.js';
import { OpsHttpServer } from '../daemon/system/http.js';
import { command, UsageError, type CliIo } from '../daemon/cli/command.js';
import { errorText } from '../daemon/cli/terminal-text.js';

const USAGE = '--config FILE';

/**
 * `facegate central`: the reference central consumer, for a server that receives the events of
 * many boxes (docs/mqtt.md#central-consumer). Runs until SIGTERM or SIGINT; exit 78 on a bad config.
 */
export const centralCommand = command({
  words: ['central'],
  summary: "verify, de-duplicate and store the signed events of many boxes, and write each day's timesheet CSV",
  usage: USAGE,
  options: { config: { type: 'string', short: 'c' } },
  async run({ values }, io) {
    if (!values.config) throw new UsageError('no config file given', USAGE);
    const config = centralConfigOrExit(values.config, io, 'Refusing to start: ');
    if (typeof config === 'number') return config;
    const logger = createLogger({ level: io.env.FACEGATE_LOG_LEVEL === 'debug' ? 'debug' : 'info' });
    const password = config.broker.password_env ? io.env[config.broker.password_env] : undefined;
    const store = CentralStore.open(config.database);
    const consumer = new CentralConsumer({ config, store, logger, connect: mqtt.connect, ...(password !== undefined ? { password } : {}) });
    const registry = new MetricsRegistry();
    consumer.registerMetrics(registry);
    const http =
      config.metrics_port > 0
        ? new OpsHttpServer({ host: '127.0.0.1', port: config.metrics_port, metrics: () => registry.text(), liveness: () => ({ alive: true, problems: [] }), status: () => JSON.stringify({ events: store.eventCount(), replay: store.replayStatus(), messages: consumer.counted() }), logger })
        : undefined;
    const stopped = new Promise<string>((resolve) => {
      process.once('SIGTERM', () => resolve('SIGTERM'));
      process.once('SIGINT', () => resolve('SIGINT'));
    });
    try {
      await http?.start();
      consumer.start();
      const signal = await stopped;
      logger.info({ stage: 'central', signal }, 'stopping');
    } finally {
      await consumer.stop();
      await http?.stop();
      store.close();
    }
    return ExitCode.OK;
  },
});

/** The central config at `path`, or exit 78 with its coded error on stderr (after `prefix`). */
export function centralConfigOrExit(path: string, io: Pick<CliIo, 'stderr'>, prefix = ''): CentralConfig | typeof ExitCode.CONFIG {
  try {
    return loadCentralConfig(path);
  } catch (e) {
    if (!isFacegateError(e)) throw e;
    io.stderr(`${prefix}${errorText(e)}\n`);
    return ExitCode.CONFIG;
  }
}
