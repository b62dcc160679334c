import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { AuditLog } from '../service/audit.js';
import type { Logger } from '../base/log.js';
import type { Liveness } from '../pipeline/pipeline-health.js';
import { hostPort } from '../config/ops-sections.js';

/** Bounds of the metrics port; anyone who reaches it can connect, so none of them is left open. */
export interface OpsHttpLimits {
  /** Open connections at once; Node closes the ones past it as they arrive. */
  maxConnections: number;
  /** Time to send a request's headers, from the connection's first byte (or its opening). */
  headersTimeoutMs: number;
  /** Time to send a whole request. */
  requestTimeoutMs: number;
  /** How long a kept-alive connection waits for its next request. */
  keepAliveTimeoutMs: number;
  /** A connection with no traffic for this long is closed, whatever state it is in. */
  idleTimeoutMs: number;
}

export const DEFAULT_HTTP_LIMITS: OpsHttpLimits = {
  maxConnections: 32,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 15_000,
  keepAliveTimeoutMs: 5_000,
  idleTimeoutMs: 30_000,
};

/** Headers larger than this are answered 431: a scrape sends a few hundred bytes. */
const MAX_HEADER_BYTES = 8 * 1024;

export interface OpsHttpOptions {
  /** An IP address (checked by the config). */
  host: string;
  port: number;
  metrics: () => string;
  liveness: () => Liveness;
  status: () => string;
  logger: Logger;
  /** Where an endpoint's unexpected failure is recorded besides the log. */
  audit?: AuditLog;
  limits?: Partial<OpsHttpLimits>;
}

/**
 * /metrics (Prometheus text) and /healthz on metrics.host: loopback unless told, for a local agent
 * or an ssh tunnel; another address lets a central Prometheus scrape the box, with no login, so
 * neither endpoint says anything secret (camera names and counts, never URLs or keys). /healthz
 * answers 503 with the reasons when the pipeline is stuck, the same check that withholds
 * WATCHDOG=1. Connections are capped and timed out (OpsHttpLimits) and an endpoint that throws is
 * answered 500 FG_ERR_HTTP_FAILED.
 */
export class OpsHttpServer {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly limits: OpsHttpLimits;

  constructor(private readonly o: OpsHttpOptions) {
    this.limits = { ...DEFAULT_HTTP_LIMITS, ...o.limits };
  }

  async start(): Promise<number> {
    const l = this.limits;
    const server = createServer(
      {
        headersTimeout: l.headersTimeoutMs,
        requestTimeout: l.requestTimeoutMs,
        keepAliveTimeout: l.keepAliveTimeoutMs,
        // Node checks the two timeouts above at this period (30 s unless told).
        connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(l.headersTimeoutMs / 2))),
        maxHeaderSize: MAX_HEADER_BYTES,
      },
      (req, res) => this.serve(req, res),
    );
    server.maxConnections = l.maxConnections;
    server.maxRequestsPerSocket = 100;
    // Without a 'timeout' listener Node destroys a socket idle for server.timeout.
    server.timeout = l.idleTimeoutMs;
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.o.port, this.o.host, () => resolve());
    });
    server.on('error', (e) => this.o.logger.error({ stage: 'metrics', err: e.message }, 'metrics server error'));
    const port = (server.address() as AddressInfo).port;
    this.o.logger.info({ stage: 'metrics', host: this.o.host, port }, `metrics on http://${hostPort(this.o.host, port)}/metrics`);
    return port;
  }

  /** Connections open now. */
  connections(): number {
    return this.sockets.size;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private serve(req: IncomingMessage, res: ServerResponse): void {
    try {
      this.route(req, res);
    } catch (e) {
      const err = e instanceof Error ? e.message : `a thrown ${typeof e}`;
      this.o.logger.error({ stage: 'metrics', path: (req.url ?? '').slice(0, 200), err, stack: e instanceof Error ? e.stack : undefined }, 'metrics endpoint failed unexpectedly');
      try {
        this.o.audit?.append({ actor: `http:${(req.socket.remoteAddress ?? 'unknown').slice(0, 64)}`, role: 'viewer', action: 'http', target: null, detail: { error: err.slice(0, 500) }, outcome: 'failed' });
      } catch (auditError) {
        this.o.logger.error({ stage: 'metrics', err: (auditError as Error).message }, 'cannot write the audit entry');
      }
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json', Connection: 'close' });
      res.end(JSON.stringify({ error: { code: 'FG_ERR_HTTP_FAILED', message: 'the endpoint failed; the daemon logged it' } }) + '\n');
    }
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      // The body is never read: the connection closes after the answer.
      res.writeHead(405, { Allow: 'GET, HEAD', Connection: 'close' }).end();
      return;
    }
    // Each body is made before writeHead, so a failing endpoint can still be answered 500.
    if (path === '/metrics') {
      const body = this.o.metrics();
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' }).end(body);
    } else if (path === '/healthz') {
      const l = this.o.liveness();
      const body = JSON.stringify({ status: l.alive ? 'ok' : 'stuck', problems: l.problems, summary: this.o.status() }) + '\n';
      res.writeHead(l.alive ? 200 : 503, { 'Content-Type': 'application/json' }).end(body);
    } else {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('try /metrics or /healthz\n');
    }
  }
}
