import { Type, type Static } from '@sinclair/typebox';
import type { ConsoleContext } from '../server.js';
import { WebError } from '../errors.js';
import { REJECT_REASONS } from '../../attendance/arrivals.js';
import { NOTE_MAX } from '../../service/arrival-reviews.js';

const ArrivalRef = Type.Object({ id: Type.String({ pattern: '^[0-9a-f-]{1,64}$' }) });
const CropRef = Type.Object({ id: Type.String({ pattern: '^[0-9a-f-]{1,64}$' }), n: Type.Integer({ minimum: 1, maximum: 3 }) });
const ListQuery = Type.Object(
  {
    status: Type.Optional(Type.Union([Type.Literal('pending'), Type.Literal('confirmed'), Type.Literal('rejected'), Type.Literal('all')])),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
  },
  { additionalProperties: false },
);
const Confirm = Type.Object({ note: Type.Optional(Type.String({ maxLength: NOTE_MAX })) }, { additionalProperties: false });
const Reject = Type.Object({ reason: Type.Union(REJECT_REASONS.map((r) => Type.Literal(r))), note: Type.Optional(Type.String({ maxLength: NOTE_MAX })) }, { additionalProperties: false });

const WEEK_MS = 7 * 86_400_000;

/**
 * The review queue of unverified arrivals (operators and admins): the list with names, each crop on
 * demand, confirm and reject; and, for every role on the System page, the reviews' counts per camera
 * and week. The review service decides and audits; this door parses and answers.
 */
export function reviewRoutes(ctx: ConsoleContext): void {
  const { app, daemon } = ctx;
  const operator = ctx.guard({ role: 'operator', limit: 'read' });
  const deciding = ctx.guard({ role: 'operator', limit: 'enrol' });
  const named = <T extends { person_id: string }>(arrivals: T[]) => {
    const byId = new Map(daemon.listPersons().map((p) => [p.id, p]));
    return arrivals.map((a) => ({ ...a, name: byId.get(a.person_id)?.name ?? '(erased)', external_id: byId.get(a.person_id)?.externalId ?? null }));
  };

  app.get<{ Querystring: Static<typeof ListQuery> }>('/api/arrivals', { schema: { querystring: ListQuery }, ...operator }, async (req) =>
    named(daemon.reviews.list({ ...(req.query.status ? { status: req.query.status } : {}), ...(req.query.limit ? { limit: req.query.limit } : {}) })),
  );
  app.get<{ Params: Static<typeof CropRef> }>('/api/arrivals/:id/crops/:n', { schema: { params: CropRef }, ...operator }, async (req, reply) => {
    const jpeg = daemon.reviews.crop(req.params.id, req.params.n, ctx.actor(req));
    if (!jpeg) throw new WebError(404, 'FG_ERR_WEB_NO_CROP', `arrival ${req.params.id} kept no crop ${req.params.n}`, 'it kept fewer crops; see how many in the list');
    return reply.header('content-type', 'image/jpeg').send(jpeg);
  });
  app.post<{ Params: Static<typeof ArrivalRef>; Body: Static<typeof Confirm> }>('/api/arrivals/:id/confirm', { schema: { params: ArrivalRef, body: Confirm }, ...deciding }, async (req) => {
    const r = daemon.reviews.confirm(req.params.id, ctx.actor(req), req.body.note);
    return { ...r, arrival: named([r.arrival])[0] };
  });
  app.post<{ Params: Static<typeof ArrivalRef>; Body: Static<typeof Reject> }>('/api/arrivals/:id/reject', { schema: { params: ArrivalRef, body: Reject }, ...deciding }, async (req) => {
    const r = daemon.reviews.reject(req.params.id, req.body.reason, ctx.actor(req), req.body.note);
    return { ...r, arrival: named([r.arrival])[0] };
  });
  // How the site's cameras and threshold serve it, from its own reviews: the last eight weeks.
  app.get('/api/reviews/weekly', ctx.guard({ role: 'viewer', limit: 'read' }), async () => daemon.reviews.weekly(Date.now() - 8 * WEEK_MS));
}
