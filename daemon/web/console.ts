import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { FacegateError } from '../base/errors.js';
import { describeOpenError, readInputFile } from '../base/input-file.js';
import type { Logger } from '../base/log.js';
import { AccessTokens } from './access-tokens.js';
import type { WebConfig } from '../config/web-section.js';
import type { ConsoleDaemon } from './deps.js';
import { cameraRoutes } from './routes/cameras.js';
import { peopleRoutes } from './routes/people.js';
import { rosterRoutes } from './routes/roster.js';
import { recordRoutes } from './routes/records.js';
import { sessionRoutes } from './routes/session.js';
import { thresholdRoutes } from './routes/thresholds.js';
import { systemRoutes } from './routes/system.js';
import { reviewRoutes } from './routes/reviews.js';
import { timelineRoutes } from './routes/timeline.js';
import { displayRoutes } from './routes/display.js';
import { buildConsoleServer } from './server.js';

export const CONSOLE_ROUTES = [sessionRoutes, cameraRoutes, peopleRoutes, rosterRoutes, recordRoutes, thresholdRoutes, systemRoutes, timelineRoutes, displayRoutes, reviewRoutes] as const;

/** The web console as one part of the daemon: start listens, stop closes every connection. */
export class WebConsole {
  private app: FastifyInstance | undefined;
  constructor(
    private readonly config: WebConfig,
    private readonly daemon: ConsoleDaemon,
    private readonly logger: Logger,
  ) {}

  /** Listens on web.host:port (port 0: any free one); returns the port. */
  async start(port = this.config.port): Promise<number> {
    const config = this.config;
    const tls = config.tls_cert && config.tls_key ? { cert: readTlsFile(config.tls_cert, 'web.tls_cert'), key: readTlsFile(config.tls_key, 'web.tls_key') } : undefined;
    const app = await buildConsoleServer({ config: config, daemon: this.daemon, tokens: new AccessTokens(config.access_token_s, this.daemon.deviceId || 'facegate'), logger: this.logger, routes: CONSOLE_ROUTES, ...(tls ? { tls } : {}) });
    try {
      await app.listen({ host: config.host, port });
    } catch (e) {
      await app.close();
      throw new FacegateError('FG_ERR_WEB_PORT', `cannot serve the web console on ${config.host}:${port}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'pick a free web.port (and an address of this box for web.host), or turn the console off');
    }
    this.app = app;
    const bound = (app.server.address() as AddressInfo).port;
    this.logger.child({ stage: 'web' }).info({ address: `${tls ? 'https' : 'http'}://${config.host}:${bound}/` }, 'web console listening');
    return bound;
  }

  async stop(): Promise<void> {
    const app = this.app;
    this.app = undefined;
    if (app) {
      app.server.closeAllConnections();
      await app.close();
    }
    await this.daemon.users.close();
  }
}

/** A TLS file of the console; a file that cannot be opened is a coded error naming its key, not a bare system error. */
function readTlsFile(path: string, key: string): Buffer {
  try {
    return readInputFile(path, 'key', key);
  } catch (e) {
    if (e instanceof FacegateError) throw e;
    throw new FacegateError('FG_ERR_WEB_TLS', `cannot read ${key} ${path}: ${describeOpenError(e)}`, `give ${key} the path of a PEM file the daemon's user may read, or turn the console off`);
  }
}
