import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from './log.js';
import type { Liveness } from './health.js';

export interface OpsHttpOptions {
  port: number;
  metrics: () => string;
  liveness: () => Liveness;
  status: () => string;
  logger: Logger;
}

/**
 * /metrics (Prometheus text) and /healthz on 127.0.0.1 only: the box's numbers are for a local
 * agent or an ssh tunnel, never for the site network. /healthz answers 503 with the reasons when the
 * pipeline is stuck, the same check that withholds WATCHDOG=1.
 */
export class OpsHttpServer {
  private server: Server | undefined;

  constructor(private readonly o: OpsHttpOptions) {}

  async start(): Promise<number> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { Allow: 'GET, HEAD' }).end();
        return;
      }
      if (path === '/metrics') {
        res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' }).end(this.o.metrics());
      } else if (path === '/healthz') {
        const l = this.o.liveness();
        res.writeHead(l.alive ? 200 : 503, { 'Content-Type': 'application/json' }).end(JSON.stringify({ status: l.alive ? 'ok' : 'stuck', problems: l.problems, summary: this.o.status() }) + '\n');
      } else {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('try /metrics or /healthz\n');
      }
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.o.port, '127.0.0.1', () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    this.o.logger.info({ stage: 'metrics', port }, 'metrics on http://127.0.0.1:' + port + '/metrics');
    return port;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
