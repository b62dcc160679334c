import { Type, type Static } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { MAX_PASSWORD } from '../passwords.js';
import type { ConsoleContext } from '../server.js';
import { unauthenticated, WebError } from '../errors.js';
import type { WebUser } from '../users.js';

const COOKIE = 'fg_refresh';
const Login = Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }), password: Type.String({ minLength: 1, maxLength: MAX_PASSWORD * 4 }) }, { additionalProperties: false });
const Empty = Type.Object({}, { additionalProperties: false });

function refreshCookieOf(req: FastifyRequest): string | undefined {
  return /(?:^|;\s*)fg_refresh=([A-Za-z0-9_-]{43})(?:;|$)/.exec(req.headers.cookie ?? '')?.[1];
}

/** Login, refresh and logout. The refresh token lives only in an HttpOnly SameSite=Strict cookie scoped to these calls. */
export function sessionRoutes(ctx: ConsoleContext): void {
  const { app, daemon, config, tokens } = ctx;
  const refreshMs = config.refresh_token_h * 3_600_000;
  const setCookie = (reply: FastifyReply, token: string | null) =>
    reply.header('set-cookie', `${COOKIE}=${token ?? ''}; Path=/api/session; HttpOnly; SameSite=Strict; Max-Age=${token ? refreshMs / 1000 : 0}${ctx.secure ? '; Secure' : ''}`);
  const answer = async (reply: FastifyReply, user: WebUser, refresh: string) => {
    setCookie(reply, refresh);
    return { access_token: await tokens.sign({ user: user.name, role: user.role, tokenVersion: user.tokenVersion }), expires_in: config.access_token_s, user: { name: user.name, role: user.role } };
  };

  app.post<{ Body: Static<typeof Login> }>('/api/session', { schema: { body: Login }, ...ctx.open('login', (req) => (req.body as { name?: string } | undefined)?.name) }, async (req, reply) => {
    const r = await daemon.users.login(req.body.name, req.body.password, { failures: config.lockout.failures, lockMs: config.lockout.lock_s * 1000 }, req.ip);
    if (r.ok) return answer(reply, r.user, daemon.users.issueRefresh(r.user.name, refreshMs));
    if (r.locked) {
      void reply.header('retry-after', String(r.retryAfterS ?? config.lockout.lock_s));
      throw new WebError(423, 'FG_ERR_WEB_LOCKED', 'this account is locked after repeated failed logins', 'wait until the lock ends, or ask an admin to set a new password (facegate user passwd)');
    }
    throw new WebError(401, 'FG_ERR_WEB_LOGIN', 'wrong account name or password', `after ${config.lockout.failures} failures in a row the account is locked for ${config.lockout.lock_s} s`);
  });

  app.post('/api/session/refresh', { schema: { body: Empty }, ...ctx.open('login', refreshCookieOf) }, async (req, reply) => {
    const token = refreshCookieOf(req);
    const next = token ? daemon.users.rotateRefresh(token, refreshMs) : undefined;
    if (!next) {
      setCookie(reply, null);
      throw unauthenticated();
    }
    return answer(reply, next.user, next.token);
  });

  app.post('/api/session/logout', { schema: { body: Empty }, ...ctx.open('login', refreshCookieOf) }, async (req, reply) => {
    const token = refreshCookieOf(req);
    const name = token ? daemon.users.revokeFamilyOf(token) : undefined;
    const user = name ? daemon.users.find(name) : undefined;
    if (user) daemon.audit.append({ actor: `web:${user.name}`, role: user.role, action: 'web.logout', target: user.name, outcome: 'ok' });
    setCookie(reply, null);
    return { ok: true };
  });

  app.get('/api/me', ctx.guard({ role: 'viewer', limit: 'read' }), async (req) => ({ name: req.user!.name, role: req.user!.role, device: daemon.deviceId }));
}
