import { readFileSync } from 'node:fs';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type preHandlerAsyncHookHandler } from 'fastify';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import { isFacegateError } from '../base/errors.js';
import type { Role } from '../service/audit.js';
import { PERSON_LIMITS } from '../service/person-input.js';
import type { Logger } from '../base/log.js';
import type { AccessTokens } from './access-tokens.js';
import type { WebConfig } from '../config/web-section.js';
import type { ConsoleDaemon } from './deps.js';
import { forbidden, statusOf, unauthenticated, WebError } from './errors.js';
import type { WebUser } from './users.js';

export type LimitClass = 'login' | 'login_client' | 'enrol' | 'roster' | 'read';

const RANK: Readonly<Record<Role, number>> = { viewer: 0, operator: 1, admin: 2 };

/** What a route needs: the role that may call it, and its rate limit. */
export interface Guard {
  role: Role;
  limit: LimitClass;
}

export interface ConsoleContext {
  app: FastifyInstance;
  daemon: ConsoleDaemon;
  config: WebConfig;
  tokens: AccessTokens;
  secure: boolean;
  /** onRequest and preHandler hooks of a route that needs a logged-in user of at least `role`. */
  guard(g: Guard): { onRequest: preHandlerAsyncHookHandler[]; preHandler: preHandlerAsyncHookHandler[] };
  /**
   * The hooks of the login, refresh and logout calls, which anyone may make: limited per client
   * address (a flood cap: on loopback every ssh -L user is the one client 127.0.0.1) and, when
   * `account` names one (the login's account name), per account, so that guessing at one account
   * does not hold up the others.
   */
  open(account?: (req: FastifyRequest) => string): { onRequest: preHandlerAsyncHookHandler[]; preHandler: preHandlerAsyncHookHandler[] };
  /**
   * The hooks of a call anyone may make without an account (a door display's page and feed, which
   * carry their own token): limited per client address in `limit`'s class.
   */
  perClient(limit: LimitClass): { onRequest: preHandlerAsyncHookHandler[] };
  /** The logged-in account, as the services audit what it does: 'web:<name>' with its role. */
  actor(req: FastifyRequest): { actor: string; role: Role };
}

declare module 'fastify' {
  interface FastifyRequest {
    user: WebUser | null;
  }
}

export interface ConsoleServerOptions {
  config: WebConfig;
  daemon: ConsoleDaemon;
  tokens: AccessTokens;
  logger: Logger;
  tls?: { cert: Buffer; key: Buffer };
  routes: readonly ((ctx: ConsoleContext) => void)[];
}

/** Default cap of a request body; routes that take photos raise their own. */
const BODY_LIMIT = 64 * 1024;
/** Headers larger than this are answered 431: the console's own are under 2 KiB. */
const MAX_HEADER_BYTES = 16 * 1024;
const STATIC: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
  // The door display's page (served at /display/<door-or-camera> by routes/display.ts) and its own small script and style.
  '/display.js': { file: 'display.js', type: 'text/javascript; charset=utf-8' },
  '/display.css': { file: 'display.css', type: 'text/css; charset=utf-8' },
};

/**
 * The console's HTTP server: fastify with helmet's headers (a CSP without inline script, no
 * framing), rate limits per client and per user, a JSON schema on every route, and roles. It is
 * CSRF-safe by construction: every call but the refresh and logout needs an access token in the
 * Authorization header, which a browser never adds by itself, and those two need a SameSite=Strict
 * cookie and a JSON body, which no form on another site can send.
 */
export async function buildConsoleServer(o: ConsoleServerOptions): Promise<FastifyInstance> {
  const log = o.logger.child({ stage: 'web' });
  const loopbackOnly = !o.tls;
  const conn = o.config.connections;
  // Node checks the headers and request timeouts at this period (30 s unless told), so a slow
  // sender is cut off near its timeout, not up to half a minute later.
  const nodeServer = { headersTimeout: conn.headers_timeout_s * 1000, connectionsCheckingInterval: Math.min(1000, conn.headers_timeout_s * 500), maxHeaderSize: MAX_HEADER_BYTES };
  const app = Fastify({
    bodyLimit: BODY_LIMIT,
    // No request log: failures are logged by the error handler and changes audited, never with headers or bodies.
    logger: false,
    connectionTimeout: conn.idle_timeout_s * 1000,
    requestTimeout: conn.request_timeout_s * 1000,
    keepAliveTimeout: conn.keep_alive_timeout_s * 1000,
    maxRequestsPerSocket: 1000,
    routerOptions: { maxParamLength: 200 },
    ...(o.tls ? { https: { cert: o.tls.cert, key: o.tls.key, ...nodeServer } } : { http: nodeServer }),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
    // What the router refuses before any route runs (a path parameter over maxParamLength, a bad
    // content type header) gets the console's coded answer too, not fastify's own shape.
    frameworkErrors: (err, _req, reply) => sendError(reply as FastifyReply, toWebError(err)),
  });
  // Past the cap Node closes a new connection as it arrives: a local user opening thousands cannot
  // take the daemon to its open-file limit (and with it the control socket and the metrics port).
  app.server.maxConnections = conn.max;
  app.decorateRequest('user', null);
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'blob:', 'data:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        ...(o.tls ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    hsts: o.tls ? { maxAge: 31_536_000 } : false,
    crossOriginEmbedderPolicy: false,
  });
  await app.register(rateLimit, { global: false });

  if (loopbackOnly) {
    // A page elsewhere must not reach the console through a DNS name that points at 127.0.0.1.
    app.addHook('onRequest', async (req) => {
      if (!/^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/.test(req.headers.host ?? '')) throw new WebError(403, 'FG_ERR_WEB_HOST', 'this console answers only to 127.0.0.1 or localhost', 'open it as http://127.0.0.1:PORT/ (through ssh -L from elsewhere)');
    });
  }
  // Personal data must not stay in a browser's or a proxy's cache.
  app.addHook('onSend', async (req, reply) => {
    if (req.url.startsWith('/api/') || /^\/display\/[^/]+\/feed/.test(req.url)) reply.header('cache-control', 'no-store');
  });

  app.setErrorHandler((err: FastifyError | Error, req, reply) => {
    const e = toWebError(err);
    if (e.status >= 500 && !isFacegateError(err)) log.error({ err: (err as Error).message, route: req.routeOptions.url }, 'console request failed');
    sendError(reply, e);
  });
  const limiter = rateLimiters(app, o.config);
  app.setNotFoundHandler({ preHandler: limiter('read', (req) => `client:${req.ip}`) }, async (_req, reply) => {
    sendError(reply, new WebError(404, 'FG_ERR_WEB_NOT_FOUND', 'no such page or call', 'open the console from its start page'));
  });

  const files = new Map(Object.entries(STATIC).map(([route, f]) => [route, { type: f.type, body: readFileSync(new URL(`./static/${f.file}`, import.meta.url)) }]));
  for (const [route, f] of files) {
    app.get(route, { onRequest: [limiter('read', (req) => `client:${req.ip}`)] }, async (_req, reply) => {
      void reply.header('content-type', f.type).header('cache-control', 'no-cache').send(f.body);
    });
  }

  const authenticate: preHandlerAsyncHookHandler = async (req) => {
    const m = /^Bearer ([A-Za-z0-9_.-]{20,4096})$/.exec(req.headers.authorization ?? '');
    const claims = m ? await o.tokens.verify(m[1]!) : undefined;
    const user = claims ? o.daemon.users.byId(claims.user) : undefined;
    // Checked on every request, not only at refresh: a removed account (even one whose name was
    // given again), a password or role changed since the token was made, or a login ended (logout,
    // a reused refresh token) is logged out at once.
    if (!claims || !user || user.tokenVersion !== claims.tokenVersion || !o.daemon.users.sessionLive(user.id, claims.session)) throw unauthenticated();
    req.user = user;
  };
  const ctx: ConsoleContext = {
    app,
    daemon: o.daemon,
    config: o.config,
    tokens: o.tokens,
    secure: Boolean(o.tls),
    // Limited per account once the token is checked, not per address: on loopback every user has
    // the same one, and one user's pages (or another local user's flood) must not use up the rest's.
    guard: (g) => ({
      onRequest: [],
      preHandler: [
        authenticate,
        async (req) => {
          const user = req.user!;
          if (RANK[user.role] >= RANK[g.role]) return;
          if (req.method !== 'GET') o.daemon.audit.append({ actor: `web:${user.name}`, role: user.role, action: `web.${req.routeOptions.url ?? req.url}`.slice(0, 120), target: null, detail: { method: req.method }, outcome: 'refused' });
          throw forbidden(user.role, g.role);
        },
        limiter(g.limit, (req) => `user:${req.user!.id}`),
      ],
    }),
    open: (account) => ({
      onRequest: [limiter('login_client', (req) => `client:${req.ip}`)],
      preHandler: account ? [limiter('login', (req) => `account:${account(req)}`)] : [],
    }),
    perClient: (limit) => ({ onRequest: [limiter(limit, (req) => `client:${req.ip}`)] }),
    actor: (req) => ({ actor: `web:${req.user!.name}`, role: req.user!.role }),
  };
  for (const routes of o.routes) routes(ctx);
  return app;
}

/**
 * The limits as hooks: `limiter(class, key)` counts the request against the class's window under
 * its key (whose prefix says per what). One counter per class, shared by every route of the class.
 * Built on createRateLimit, not the plugin's own hook: that one runs once a request, so a second
 * limit on a route (per account after per client) would never count, and it keeps a counter per
 * route. The X-RateLimit headers are those of the limit nearest to refusing.
 */
function rateLimiters(app: FastifyInstance, config: WebConfig): (limit: LimitClass, key: (req: FastifyRequest) => string) => preHandlerAsyncHookHandler {
  // The key of the limit being counted now; createRateLimit reads it through its key generator.
  const counting = new WeakMap<FastifyRequest, string>();
  const counters = new Map<LimitClass, ReturnType<FastifyInstance['createRateLimit']>>();
  const counterOf = (limit: LimitClass) => {
    let counter = counters.get(limit);
    if (!counter) {
      const { max, window_s } = config.rate_limits[limit];
      counter = app.createRateLimit({ max, timeWindow: window_s * 1000, keyGenerator: (req: FastifyRequest) => counting.get(req)! });
      counters.set(limit, counter);
    }
    return counter;
  };
  return (limit, key) => {
    const count = counterOf(limit);
    const { max, window_s } = config.rate_limits[limit];
    return async (req, reply) => {
      counting.set(req, `${limit}:${key(req)}`);
      const counted = await count(req);
      if (counted.isAllowed) return;
      const shown = reply.getHeader('x-ratelimit-remaining');
      if (counted.isExceeded || shown === undefined || Number(shown) > counted.remaining) {
        void reply.header('x-ratelimit-limit', counted.max).header('x-ratelimit-remaining', counted.remaining).header('x-ratelimit-reset', counted.ttlInSeconds);
      }
      if (!counted.isExceeded) return;
      void reply.header('retry-after', counted.ttlInSeconds);
      throw new WebError(429, 'FG_ERR_WEB_RATE_LIMITED', `too many requests (${max} in ${window_s} s); try again in ${counted.ttlInSeconds} s`, 'wait for the time in Retry-After, then try again');
    };
  };
}

/** Every refusal in one shape: a code to act on, what happened, and what to do. */
function sendError(reply: FastifyReply, e: WebError): void {
  void reply.code(e.status).send({ error: { code: e.code, message: e.message, hint: e.hint } });
}

/** What a body over its limit may hold at most: the photo rules every entry point shares, from the rules themselves. */
const MiB = 1024 * 1024;
const TOO_LARGE_HINT = `send smaller or fewer photos (at most ${PERSON_LIMITS.photos}, ${PERSON_LIMITS.photoBytes / MiB} MiB each, ${PERSON_LIMITS.photosBytes / MiB} MiB together)`;

function toWebError(err: FastifyError | Error): WebError {
  if (err instanceof WebError) return err;
  if (isFacegateError(err)) return new WebError(statusOf(err), err.code, err.message, err.hint ?? '');
  const f = err as FastifyError;
  if (f.validation) return new WebError(400, 'FG_ERR_WEB_BAD_REQUEST', `the request does not fit its schema: ${f.message}`.slice(0, 500), 'send what the console sends; see docs/web.md');
  if (f.statusCode === 413) return new WebError(413, 'FG_ERR_WEB_TOO_LARGE', 'the request body is over its size limit', TOO_LARGE_HINT);
  if (f.statusCode === 415) return new WebError(415, 'FG_ERR_WEB_MEDIA_TYPE', 'only application/json bodies are accepted', 'send the request as JSON');
  if (f.statusCode !== undefined && f.statusCode >= 400 && f.statusCode < 500) return new WebError(f.statusCode, 'FG_ERR_WEB_BAD_REQUEST', f.message.slice(0, 300), 'send what the console sends; see docs/web.md');
  return new WebError(500, 'FG_ERR_WEB_INTERNAL', 'the console failed to answer', 'try again; if it persists, look at the daemon log');
}

export type { FastifyReply };
