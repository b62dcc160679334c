import { Type, type Static } from '@sinclair/typebox';
import type { ConsoleContext } from '../server.js';
import { WebError } from '../errors.js';
import { historyCsv } from '../history-csv.js';
import { PersonText } from '../../service/person-input.js';
import { checkAnswer, enrolAnswer, promoteAnswer } from '../../service/person-answers.js';
import { addDays, formatLocalIso, localParts } from '../../base/zoned-time.js';
import { CalendarDate } from '../../base/calendar-date.js';

const HistoryQuery = Type.Object(
  {
    from: Type.Optional(CalendarDate()),
    to: Type.Optional(CalendarDate()),
    person: Type.Optional(Type.String({ maxLength: 200 })),
    camera: Type.Optional(Type.String({ maxLength: 64 })),
    group: Type.Optional(Type.String({ maxLength: 64 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000 })),
  },
  { additionalProperties: false },
);
const Proof = Type.Object({ record: Type.String({ pattern: '^[A-Za-z0-9-]{1,64}$' }), kind: Type.Union([Type.Literal('check_in'), Type.Literal('check_out')]) });
const AnonRef = Type.Object({ id: Type.String({ pattern: '^anon-[0-9a-f]{1,32}$' }) });
/** The person's fields: their rules and codes are the person service's (service/person-input.ts). */
const Promote = Type.Object({ name: PersonText, id: Type.Optional(PersonText), group: Type.Optional(PersonText) }, { additionalProperties: false });
const TeachUnknown = Type.Object({ person: PersonText }, { additionalProperties: false });
const AuditQuery = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) }, { additionalProperties: false });

/** Recognition history (with CSV), proofs on demand, unknown persons and their promotion, the audit log. */
export function recordRoutes(ctx: ConsoleContext): void {
  const { app, daemon } = ctx;
  const viewer = ctx.guard({ role: 'viewer', limit: 'read' });
  const operator = ctx.guard({ role: 'operator', limit: 'read' });

  const history = (q: Static<typeof HistoryQuery>, withProofs: boolean) => {
    const persons = daemon.listPersons();
    const byId = new Map(persons.map((p) => [p.id, p]));
    const needle = q.person?.trim().toLowerCase();
    const personIds = needle ? persons.filter((p) => [p.name, p.externalId ?? '', p.id].some((v) => v.toLowerCase().includes(needle))).map((p) => p.id) : undefined;
    const today = localParts(Date.now(), daemon.timeZone()).date;
    const days = daemon.history({
      from: q.from ?? addDays(today, -30),
      to: q.to ?? addDays(today, 1),
      ...(personIds ? { personIds } : {}),
      ...(q.camera ? { camera: q.camera } : {}),
      ...(q.group ? { group: q.group } : {}),
      limit: q.limit ?? 1000,
      timeZone: daemon.timeZone(),
    });
    return days.map((d) => ({ ...d, name: byId.get(d.person_id)?.name ?? '(erased)', external_id: byId.get(d.person_id)?.externalId ?? null, proofs: withProofs ? d.proofs : [] }));
  };

  app.get<{ Querystring: Static<typeof HistoryQuery> }>('/api/history', { schema: { querystring: HistoryQuery }, ...viewer }, async (req) => history(req.query, req.user!.role !== 'viewer'));
  app.get<{ Querystring: Static<typeof HistoryQuery> }>('/api/history.csv', { schema: { querystring: HistoryQuery }, ...viewer }, async (req, reply) =>
    reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="facegate-history.csv"').send(historyCsv(history(req.query, false), daemon.timeZone())),
  );

  app.get<{ Params: Static<typeof Proof> }>('/api/history/:record/proof/:kind', { schema: { params: Proof }, ...operator }, async (req, reply) => {
    const { record, kind } = req.params;
    // Seeing a face behind a check-in is a read of personal data: the service audits each view.
    const jpeg = daemon.proof(record, kind, ctx.actor(req));
    if (!jpeg) throw new WebError(404, 'FG_ERR_WEB_NO_PROOF', `no ${kind} proof for that day`, 'it may have been purged by retention or erased');
    return reply.header('content-type', 'image/jpeg').send(jpeg);
  });

  app.get('/api/unknowns', operator, async () => daemon.unknowns());
  app.get<{ Params: Static<typeof AnonRef> }>('/api/unknowns/:id/face.jpg', { schema: { params: AnonRef }, ...operator }, async (req, reply) => {
    const jpeg = daemon.unknownFace(req.params.id);
    if (!jpeg) throw new WebError(404, 'FG_ERR_UNKNOWN_NOT_FOUND', `no face kept for ${req.params.id}`, 'it may have expired; see the unknowns page');
    return reply.header('content-type', 'image/jpeg').send(jpeg);
  });
  app.post<{ Params: Static<typeof AnonRef>; Body: Static<typeof Promote> }>('/api/unknowns/:id/promote', { schema: { params: AnonRef, body: Promote }, ...ctx.guard({ role: 'operator', limit: 'enrol' }) }, async (req) => {
    const b = req.body;
    return promoteAnswer(await daemon.persons.promote(req.params.id, { name: b.name, ...(b.id !== undefined ? { externalId: b.id } : {}), ...(b.group !== undefined ? { group: b.group } : {}) }, ctx.actor(req)), req.params.id);
  });

  // An unknown who was an enrolled person all along: the gate's verdict on their best face first, then their frames taught to that person.
  app.post<{ Params: Static<typeof AnonRef> }>('/api/unknowns/:id/check', { schema: { params: AnonRef }, ...ctx.guard({ role: 'operator', limit: 'enrol' }) }, async (req) => checkAnswer(await daemon.persons.checkUnknown(req.params.id)));
  app.post<{ Params: Static<typeof AnonRef>; Body: Static<typeof TeachUnknown> }>('/api/unknowns/:id/teach', { schema: { params: AnonRef, body: TeachUnknown }, ...ctx.guard({ role: 'operator', limit: 'enrol' }) }, async (req) =>
    enrolAnswer(await daemon.persons.teachFromUnknown(req.body.person, req.params.id, ctx.actor(req))),
  );

  const admin = ctx.guard({ role: 'admin', limit: 'read' });
  app.get<{ Querystring: Static<typeof AuditQuery> }>('/api/audit', { schema: { querystring: AuditQuery }, ...admin }, async (req) =>
    daemon.audit.recent(req.query.limit ?? 200).map((e) => ({ seq: e.seq, at: formatLocalIso(e.atMs, daemon.timeZone()), actor: e.actor, role: e.role, action: e.action, target: e.target, outcome: e.outcome, detail: e.detail })),
  );
  app.get('/api/audit/verify', admin, async () => daemon.audit.verify());
}
