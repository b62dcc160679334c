import { displayStreamsMax } from '../../display/config.js';
import { readFileSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import { formatLocalIso } from '../../base/zoned-time.js';
import { SHOWN_PERSON } from '../../display/config.js';
import type { ConsoleContext } from '../server.js';
import { WebError } from '../errors.js';
import { DisplayStreams } from '../display-streams.js';

const NAME = '^[a-z0-9][a-z0-9_-]{0,31}$';
const TargetParams = Type.Object({ target: Type.String({ pattern: NAME }) });
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const NewToken = Type.Object(
  {
    target: Type.String({ pattern: NAME }),
    show: Type.Optional(Type.Union(SHOWN_PERSON.map((s) => Type.Literal(s)))),
    label: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);

/** The one place a display's token comes in: the Authorization header (the page keeps it in its URL's fragment, which no request carries). */
function displayTokenOf(authorization: string | undefined): string {
  return /^Bearer (fgd_[A-Za-z0-9_-]{43})$/.exec(authorization ?? '')?.[1] ?? '';
}

/** The page's id for itself, which lets it replace its own half-open feed when it reconnects; anything else is ignored. */
function pageIdOf(header: string | string[] | undefined): string | undefined {
  return typeof header === 'string' && /^[A-Za-z0-9_-]{16,64}$/.test(header) ? header : undefined;
}

/**
 * Door displays: the page (`/display/<door-or-camera>`), its feed of server-sent events opened by
 * a display token, and the admin's calls that make, list and revoke the tokens. A display token
 * opens its own display's feed and nothing else: no /api/ call takes it (they take only the
 * console's access tokens), and the feed of another door refuses it.
 */
export function displayRoutes(ctx: ConsoleContext): void {
  const { app, daemon } = ctx;
  const d = daemon.displays;
  const page = readFileSync(new URL('../static/display.html', import.meta.url));
  const streams = new DisplayStreams({
    feed: d.feed,
    tokens: d.tokens,
    device: daemon.deviceId,
    timeZone: () => daemon.timeZone(),
    perToken: d.config.streams_per_token,
    max: displayStreamsMax(d.config, ctx.config),
    // Well inside the console's idle timeout, which would otherwise close a quiet feed.
    heartbeatMs: Math.min(10_000, (ctx.config.connections.idle_timeout_s * 1000) / 3),
    recheckMs: 1000,
    now: Date.now,
  });
  app.addHook('onClose', async () => streams.close());
  const perClient = ctx.perClient('read');

  app.get<{ Params: Static<typeof TargetParams> }>('/display/:target', { schema: { params: TargetParams }, ...perClient }, async (_req, reply) => {
    void reply.header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-cache').send(page);
  });

  app.get<{ Params: Static<typeof TargetParams> }>('/display/:target/feed', { schema: { params: TargetParams }, ...perClient }, async (req, reply) => {
    const opened = d.tokens.open(displayTokenOf(req.headers.authorization), req.params.target);
    if (!opened.ok && opened.why === 'invalid') throw new WebError(401, 'FG_ERR_DISPLAY_TOKEN', 'no valid display token: missing, mistyped or revoked', "ask an admin for this display's link ('facegate display token add DOOR', or the console's Displays page)");
    if (!opened.ok) throw new WebError(403, 'FG_ERR_DISPLAY_OTHER_TARGET', `this display token is for ${opened.record!.target}, not ${req.params.target}`, `open /display/${opened.record!.target} with it, or make a token for ${req.params.target}`);
    const page = pageIdOf(req.headers['x-display-page']);
    streams.admit(opened.record, page);
    // From here the answer is the stream, written by the feed and never by fastify.
    reply.hijack();
    streams.start(opened.record, page, reply.raw);
  });

  const admin = ctx.guard({ role: 'admin', limit: 'enrol' });
  app.get('/api/displays', ctx.guard({ role: 'admin', limit: 'read' }), async () => ({
    targets: d.targets(),
    tokens: d.tokens.list().map((t) => ({ id: t.id, target: t.target, show: t.show, label: t.label, created: formatLocalIso(t.createdMs, daemon.timeZone()), created_by: t.createdBy })),
    open_feeds: streams.size,
  }));
  app.post<{ Body: Static<typeof NewToken> }>('/api/displays', { schema: { body: NewToken }, ...admin }, async (req) => {
    const { token, record } = d.tokens.add(req.body.target, req.body.show ?? 'first_name', req.body.label ?? '', ctx.actor(req));
    // The token is in this answer alone: the state file keeps only its hash.
    return { id: record.id, target: record.target, show: record.show, label: record.label, token, path: `/display/${record.target}#${token}` };
  });
  app.delete<{ Params: Static<typeof IdParams> }>('/api/displays/:id', { schema: { params: IdParams }, ...admin }, async (req) => {
    const record = d.tokens.revoke(req.params.id, ctx.actor(req));
    // Its display is closed now, not at the next periodic check (that one is for the CLI's revocations).
    streams.recheck();
    return { id: record.id, target: record.target, revoked: true };
  });
}
