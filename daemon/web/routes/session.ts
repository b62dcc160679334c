import { Type, type Static } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { MAX_PASSWORD } from '../passwords.js';
import type { ConsoleContext } from '../server.js';
import { unauthenticated, WebError } from '../errors.js';
import type { RefreshToken, WebUser } from '../users.js';

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
  const answer = async (reply: FastifyReply, user: WebUser, refresh: RefreshToken) => {
    setCookie(reply, refresh.token);
    return { access_token: await tokens.sign({ user: user.id, role: user.role, tokenVersion: user.tokenVersion, session: refresh.family }), expires_in: config.access_token_s, user: { name: user.name, role: user.role } };
  };
  // One answer for every refused login, whatever the reason (no such account, wrong password,
  // locked): a different one would tell which names are accounts.
  const refused = () =>
    new WebError(401, 'FG_ERR_WEB_LOGIN', 'wrong account name or password, or the account is locked', `after ${config.lockout.failures} failures in a row an account is locked for ${config.lockout.lock_s} s; an admin lifts it with 'facegate user passwd'`);

  app.post<{ Body: Static<typeof Login> }>('/api/session', { schema: { body: Login }, ...ctx.open((req) => (req.body as { name: string }).name) }, async (req, reply) => {
    const login = await daemon.users.login(req.body.name, req.body.password, { failures: config.lockout.failures, lockMs: config.lockout.lock_s * 1000 }, req.ip);
    if (!login.ok) throw refused();
    return answer(reply, login.user, daemon.users.issueRefresh(login.user.id, refreshMs));
  });

  app.post('/api/session/refresh', { schema: { body: Empty }, ...ctx.open() }, async (req, reply) => {
    const token = refreshCookieOf(req);
    const next = token ? daemon.users.rotateRefresh(token, refreshMs) : undefined;
    if (!next) {
      setCookie(reply, null);
      throw unauthenticated();
    }
    return answer(reply, next.user, next.refresh);
  });

  app.post('/api/session/logout', { schema: { body: Empty }, ...ctx.open() }, async (req, reply) => {
    const token = refreshCookieOf(req);
    if (token) daemon.users.revokeFamilyOf(token);
    setCookie(reply, null);
    return { ok: true };
  });

  app.get('/api/me', ctx.guard({ role: 'viewer', limit: 'read' }), async (req) => ({ name: req.user!.name, role: req.user!.role, device: daemon.deviceId, time_zone: daemon.timeZone() }));
}
