import { Type, type Static } from '@sinclair/typebox';
import type { ConsoleContext } from '../server.js';
import { WebError } from '../errors.js';
import { TIMELINE_KINDS } from '../../track/timeline.js';
import { formatLocalIso, zonedInstant } from '../../base/zoned-time.js';
import { CalendarDate } from '../../base/calendar-date.js';

const TimelineQuery = Type.Object(
  {
    camera: Type.Optional(Type.String({ pattern: '^[a-z0-9_-]{1,64}$' })),
    person: Type.Optional(Type.String({ maxLength: 200 })),
    kind: Type.Optional(Type.Union(TIMELINE_KINDS.map((k) => Type.Literal(k)))),
    from: Type.Optional(CalendarDate()),
    to: Type.Optional(CalendarDate()),
    before: Type.Optional(Type.Integer({ minimum: 1 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
  },
  { additionalProperties: false },
);
const Entry = Type.Object({ id: Type.Integer({ minimum: 1 }) });

/**
 * The decision timeline: what each camera decided about each face, newest first, a page at a
 * time (`before` the last id seen), filtered by camera, person, kind and dates (the site's days).
 * Every role reads the decisions; only operators and admins see the face crops, each view audited.
 */
export function timelineRoutes(ctx: ConsoleContext): void {
  const { app, daemon } = ctx;
  app.get<{ Querystring: Static<typeof TimelineQuery> }>('/api/timeline', { schema: { querystring: TimelineQuery }, ...ctx.guard({ role: 'viewer', limit: 'read' }) }, async (req) => {
    const q = req.query;
    const zone = daemon.timeZone();
    const persons = daemon.listPersons();
    const names = new Map(persons.map((p) => [p.id, p.name]));
    const needle = q.person?.trim().toLowerCase();
    const person = needle ? persons.find((p) => [p.name, p.externalId ?? '', p.id].some((v) => v.toLowerCase() === needle)) ?? persons.find((p) => p.name.toLowerCase().includes(needle)) : undefined;
    if (needle && !person) return { entries: [], next: null };
    const limit = q.limit ?? 50;
    const entries = daemon.timeline.list({
      ...(q.camera ? { camera: q.camera } : {}),
      ...(person ? { personId: person.id } : {}),
      ...(q.kind ? { kind: q.kind } : {}),
      ...(q.from ? { fromMs: zonedInstant(q.from, 0, zone) } : {}),
      ...(q.to ? { toMs: zonedInstant(q.to, 1440, zone) } : {}),
      ...(q.before ? { beforeId: q.before } : {}),
      limit,
    });
    const crops = req.user!.role !== 'viewer';
    // A recognition whose track's check-in was withdrawn stays, saying so.
    const recognitions = entries.flatMap((e) => (e.kind === 'recognized' && e.personId && typeof e.detail.track === 'number' ? [{ id: e.id, camera: e.camera, personId: e.personId, track: e.detail.track, atMs: e.atMs }] : []));
    const withdrawn = daemon.withdrawnTracks(recognitions);
    return {
      entries: entries.map((e) => ({
        id: e.id,
        at: formatLocalIso(e.atMs, zone),
        camera: e.camera,
        door: e.door,
        kind: e.kind,
        person: e.personId ? { id: e.personId, name: names.get(e.personId) ?? '(erased)' } : null,
        anon_id: e.anonId,
        score: e.score,
        assurance: e.assurance,
        detail: e.detail,
        has_crop: crops && e.hasCrop,
        withdrawn: withdrawn.get(e.id) ?? null,
      })),
      next: entries.length === limit ? entries.at(-1)!.id : null,
    };
  });
  app.get<{ Params: Static<typeof Entry> }>('/api/timeline/:id/crop.jpg', { schema: { params: Entry }, ...ctx.guard({ role: 'operator', limit: 'read' }) }, async (req, reply) => {
    // A face is personal data: the service audits each view, as it does a proof's.
    const jpeg = daemon.crop(req.params.id, ctx.actor(req));
    if (!jpeg) throw new WebError(404, 'FG_ERR_WEB_NO_CROP', `no face crop for timeline entry ${req.params.id}`, 'retention may have purged it, or the decision kept no face');
    return reply.header('content-type', 'image/jpeg').send(jpeg);
  });
}
