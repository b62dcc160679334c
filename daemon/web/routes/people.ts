import { Type, type Static } from '@sinclair/typebox';
import { QUARANTINE_CELLS_MAX } from '../../events/topics.js';
import type { ConsoleContext } from '../server.js';
import { WebError } from '../errors.js';

/** 3 MiB of photo, as base64. */
const PHOTO_B64 = 4 * 1024 * 1024;
const MAX_PHOTOS = 5;
const Photo = Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }), data: Type.String({ minLength: 4, maxLength: PHOTO_B64, pattern: '^[A-Za-z0-9+/]+={0,2}$' }) }, { additionalProperties: false });
const Name = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' });
const Group = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9 ._-]+$' });
const ExternalId = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._:-]+$' });
const Enrol = Type.Object({ name: Name, id: Type.Optional(ExternalId), group: Type.Optional(Group), photos: Type.Array(Photo, { minItems: 1, maxItems: MAX_PHOTOS }), force: Type.Optional(Type.Boolean()) }, { additionalProperties: false });
const Check = Type.Object({ photo: Photo }, { additionalProperties: false });
const Change = Type.Object({ name: Type.Optional(Name), group: Type.Optional(Type.Union([Group, Type.Null()])) }, { additionalProperties: false, minProperties: 1 });
const Erase = Type.Object({ confirm: Type.String({ maxLength: 200 }) }, { additionalProperties: false });
const Ref = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._:-]+$' }) });
const Search = Type.Object({ q: Type.Optional(Type.String({ maxLength: 200 })) }, { additionalProperties: false });

const bytes = (p: Static<typeof Photo>) => ({ name: p.name, bytes: Buffer.from(p.data, 'base64') });

/** People: search, check a photo against the quality gate, enrol, rename, regroup, erase everywhere. */
export function peopleRoutes(ctx: ConsoleContext): void {
  const { app, daemon } = ctx;
  const operator = ctx.guard({ role: 'operator', limit: 'read' });
  const enrolling = ctx.guard({ role: 'operator', limit: 'enrol' });

  app.get<{ Querystring: Static<typeof Search> }>('/api/people', { schema: { querystring: Search }, ...operator }, async (req) => {
    const q = req.query.q?.trim().toLowerCase() ?? '';
    return daemon
      .listPersons()
      .filter((p) => !q || [p.name, p.externalId ?? '', p.group ?? '', p.id].some((v) => v.toLowerCase().includes(q)))
      .slice(0, 500)
      .map((p) => ({ id: p.id, name: p.name, external_id: p.externalId, group: p.group, created: p.createdAt }));
  });

  // Ids and the cells that failed only: a damaged row's name is not to be trusted, nor shown.
  app.get('/api/people/quarantined', operator, async () =>
    daemon
      .quarantined()
      .slice(0, 500)
      .map((q) => ({ id: q.personId, cells: q.cells.slice(0, QUARANTINE_CELLS_MAX).map((c) => ({ table: c.table, column: c.column, row: c.rowId, kind: c.kind })), cells_total: q.cells.length })),
  );

  app.post<{ Body: Static<typeof Check> }>('/api/people/check-photo', { schema: { body: Check }, bodyLimit: PHOTO_B64 + 4096, ...enrolling }, async (req) => {
    const r = await daemon.persons.checkPhoto(bytes(req.body.photo));
    return r.ok ? { ok: true, quality: Number(r.quality.toFixed(3)), face_px: r.facePx, thumbnail: r.thumbnail.toString('base64'), ...(r.matches ? { matches: r.matches } : {}) } : r;
  });

  app.post<{ Body: Static<typeof Enrol> }>('/api/people', { schema: { body: Enrol }, bodyLimit: MAX_PHOTOS * (PHOTO_B64 + 1024) + 4096, ...enrolling }, async (req, reply) => {
    const b = req.body;
    const r = await ctx.audited(req, 'person.enrol', (done) => done.person.id, () =>
      daemon.persons.enrol({ name: b.name, photos: b.photos.map(bytes), ifExists: 'refuse', ...(b.id ? { externalId: b.id } : {}), ...(b.group ? { group: b.group } : {}), ...(b.force ? { force: true } : {}) }),
    );
    void reply.code(201);
    return { id: r.person.id, name: r.person.name, templates: r.templateIds.length, best_quality: Number(r.bestQuality.toFixed(3)), refused: r.refused.map((x) => ({ file: x.file, reason: x.reason, detail: x.detail })), clashes: r.clashes };
  });

  app.patch<{ Params: Static<typeof Ref>; Body: Static<typeof Change> }>('/api/people/:id', { schema: { params: Ref, body: Change }, ...operator }, async (req) => {
    const { id } = req.params;
    const b = req.body;
    return ctx.audited(req, 'person.change', id, async () => {
      let person = b.name !== undefined ? await daemon.persons.rename(id, b.name) : undefined;
      if (b.group !== undefined) {
        const r = await daemon.persons.resync([{ ref: id, ...(b.group !== null ? { group: b.group } : {}) }]);
        if (r.known === 0) throw new WebError(404, 'FG_ERR_PERSON_NOT_FOUND', `no person ${id}`, 'search the people page again');
      }
      person ??= daemon.listPersons().find((p) => p.id === id || p.externalId === id);
      return { id: person?.id ?? id, name: person?.name, group: b.group !== undefined ? b.group : (person?.group ?? null) };
    });
  });

  app.post<{ Params: Static<typeof Ref>; Body: Static<typeof Erase> }>('/api/people/:id/erase', { schema: { params: Ref, body: Erase }, ...ctx.guard({ role: 'admin', limit: 'enrol' }) }, async (req) => {
    const { id } = req.params;
    if (req.body.confirm !== id) throw new WebError(400, 'FG_ERR_WEB_CONFIRM', 'the confirmation does not repeat the id of the person to erase', 'type the id exactly as shown to confirm');
    const user = req.user!;
    const erased = await daemon.persons.erase(id, { actor: `web:${user.name}`, role: user.role });
    if (!erased) throw new WebError(404, 'FG_ERR_PERSON_NOT_FOUND', `no person ${id}`, 'search the people page again');
    const { person, ...counts } = erased;
    return { id: person.id, ...counts };
  });
}
