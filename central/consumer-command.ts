import { existsSync } from 'node:fs';
import mqtt from 'mqtt';
import { ExitCode, FacegateError, isFacegateError } from '../daemon/base/errors.js';
import { createLogger } from '../daemon/base/log.js';
import { MetricsRegistry } from '../daemon/base/metrics.js';
import { loadCentralConfig, type CentralConfig } from './config.js';
import { CentralConsumer } from './consumer.js';
import { openCentralStore } from './store-open.js';
import type { CentralStorage } from './storage.js';
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
    const store = await centralStoreOrExit(config, io, 'Refusing to start: ');
    if (typeof store === 'number') return store;
    const consumer = new CentralConsumer({ config, store, logger, connect: mqtt.connect, ...(password !== undefined ? { password } : {}) });
    const registry = new MetricsRegistry();
    consumer.registerMetrics(registry);
    const storeSummary = config.metrics_port > 0 ? new StoreSummary(store) : undefined;
    const http = storeSummary
      ? new OpsHttpServer({ host: '127.0.0.1', port: config.metrics_port, metrics: () => registry.text(), liveness: () => ({ alive: true, problems: [] }), status: () => JSON.stringify({ ...storeSummary.last, messages: consumer.counted() }), logger })
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
      storeSummary?.stop();
      await store.close();
    }
    return ExitCode.OK;
  },
});

/**
 * The store the config names, opened, or exit 78 where its URL is not one (FG_ERR_CENTRAL_STORE_URL:
 * a setting to fix, which a restart would not). A server that does not answer is thrown (exit 1),
 * so that systemd tries again. `create` false: a database without the central's tables is refused.
 */
export async function centralStoreOrExit(config: CentralConfig, io: Pick<CliIo, 'stderr' | 'env'>, prefix = '', create = true): Promise<CentralStorage | typeof ExitCode.CONFIG> {
  try {
    return await openCentralStore(config.store, io.env, create);
  } catch (e) {
    if (!isFacegateError(e) || e.code !== 'FG_ERR_CENTRAL_STORE_URL') throw e;
    io.stderr(`${prefix}${errorText(e)}\n`);
    return ExitCode.CONFIG;
  }
}

/**
 * The store of a command that only reads (status, timesheet): opened as it is, never created. A
 * SQLite file that does not exist is FG_ERR_DB_MISSING, as an empty new one would only hide a wrong path.
 */
export async function existingStoreOrExit(config: CentralConfig, io: Pick<CliIo, 'stderr' | 'env'>): Promise<CentralStorage | typeof ExitCode.CONFIG> {
  if (config.store.kind === 'sqlite' && !existsSync(config.store.path)) {
    throw new FacegateError('FG_ERR_DB_MISSING', `central database ${config.store.path} does not exist`, 'check `database` (or store.path) in the central config; `facegate central` creates it at its first start');
  }
  return centralStoreOrExit(config, io, '', false);
}

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

/**
 * What /healthz shows of the store (events, and replay per box), read every SUMMARY_MS rather than
 * at each request: a store on PostgreSQL answers later than a health check may wait, and a probe
 * must not queue queries on a database that is away.
 */
class StoreSummary {
  last: { events: number; replay: unknown; as_of: string } | { store: 'not read yet' } = { store: 'not read yet' };
  private readonly timer: NodeJS.Timeout;
  constructor(private readonly store: CentralStorage) {
    void this.read();
    this.timer = setInterval(() => void this.read(), SUMMARY_MS);
    this.timer.unref();
  }

  private async read(): Promise<void> {
    try {
      this.last = { events: await this.store.eventCount(), replay: await this.store.replayStatus(), as_of: new Date().toISOString() };
    } catch {
      // The last one read stays, with its time: the store being away is said in the log.
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

const SUMMARY_MS = 5000;
