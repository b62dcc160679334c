import { Type, type Static } from '@sinclair/typebox';
import { QUARANTINE_CELLS_MAX } from '../../../contract/alerts.js';
import { ENROL_BODY_BYTES, PERSON_LIMITS, PersonText } from '../../service/person-input.js';
import type { ConsoleContext } from '../server.js';
import { WebError } from '../errors.js';
import { checkAnswer, enrolAnswer, eraseAnswer, photoRemovedAnswer, photosAnswer, updateAnswer } from '../../service/person-answers.js';

/**
 * The person's fields and photos are text and base64 of any size the body limit lets through:
 * their rules (lengths, characters, how many photos and how large) and codes are the person
 * service's (service/person-input.ts), the same as at every other entry point. The body limits are set
 * above those rules, so a photo too many or too large is answered FG_ERR_ENROL_TOO_LARGE as it is
 * everywhere else, not by the transport.
 */
const Photo = Type.Object({ name: PersonText, data: Type.String() }, { additionalProperties: false });
const Enrol = Type.Object({ name: PersonText, id: Type.Optional(PersonText), group: Type.Optional(PersonText), photos: Type.Array(Photo), force: Type.Optional(Type.Boolean()) }, { additionalProperties: false });
const Check = Type.Object({ photo: Photo }, { additionalProperties: false });
const Change = Type.Object({ name: Type.Optional(PersonText), group: Type.Optional(Type.Union([PersonText, Type.Null()])) }, { additionalProperties: false, minProperties: 1 });
const Erase = Type.Object({ confirm: Type.String({ maxLength: 300 }) }, { additionalProperties: false });
const Ref = Type.Object({ id: PersonText });
const PhotoRef = Type.Object({ id: PersonText, photo: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) });
const AddPhotos = Type.Object({ photos: Type.Array(Photo), force: Type.Optional(Type.Boolean()) }, { additionalProperties: false });
const EntryId = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });
const Sighting = Type.Object({ sighting: EntryId }, { additionalProperties: false });
const Teach = Type.Object({ sighting: EntryId, force: Type.Optional(Type.Boolean()) }, { additionalProperties: false });
/** One photo, base64, with room for its name and the JSON around it. */
const CHECK_BODY_BYTES = Math.ceil(PERSON_LIMITS.photoBytes / 3) * 4 + 64 * 1024;
const Search = Type.Object({ q: Type.Optional(Type.String({ maxLength: 200 })) }, { additionalProperties: false });

const bytes = (p: Static<typeof Photo>) => ({ name: p.name, bytes: Buffer.from(p.data, 'base64') });

/** People: search, check a photo against the quality gate, enrol, their photos (add, list, remove, teach from a sighting), rename, regroup, erase everywhere. */
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

  app.post<{ Body: Static<typeof Check> }>('/api/people/check-photo', { schema: { body: Check }, bodyLimit: CHECK_BODY_BYTES, ...enrolling }, async (req) => checkAnswer(await daemon.persons.checkPhoto(bytes(req.body.photo))));

  // Person changes (and looks at their faces) are audited by the person service, with the account as
  // actor; each answers what it answers at every door (service/person-answers.ts).
  app.post<{ Body: Static<typeof Enrol> }>('/api/people', { schema: { body: Enrol }, bodyLimit: ENROL_BODY_BYTES, ...enrolling }, async (req, reply) => {
    const b = req.body;
    const r = await daemon.persons.enrol(
      { name: b.name, photos: b.photos.map(bytes), ifExists: 'refuse', ...(b.id !== undefined ? { externalId: b.id } : {}), ...(b.group !== undefined ? { group: b.group } : {}), ...(b.force ? { force: true } : {}) },
      ctx.actor(req),
    );
    void reply.code(201);
    return enrolAnswer(r);
  });

  app.patch<{ Params: Static<typeof Ref>; Body: Static<typeof Change> }>('/api/people/:id', { schema: { params: Ref, body: Change }, ...operator }, async (req) => {
    const b = req.body;
    return updateAnswer(await daemon.persons.update(req.params.id, { ...(b.name !== undefined ? { name: b.name } : {}), ...(b.group !== undefined ? { group: b.group } : {}) }, ctx.actor(req)));
  });

  // A person's photos are faces: operators and admins only, every look audited by the service.
  app.get<{ Params: Static<typeof Ref> }>('/api/people/:id/photos', { schema: { params: Ref }, ...operator }, async (req) => photosAnswer(await daemon.persons.photos(req.params.id, ctx.actor(req)), daemon.timeZone()));

  app.post<{ Params: Static<typeof Ref>; Body: Static<typeof AddPhotos> }>('/api/people/:id/photos', { schema: { params: Ref, body: AddPhotos }, bodyLimit: ENROL_BODY_BYTES, ...enrolling }, async (req) =>
    enrolAnswer(await daemon.persons.addPhotos(req.params.id, req.body.photos.map(bytes), ctx.actor(req), req.body.force ? { force: true } : {})),
  );

  app.delete<{ Params: Static<typeof PhotoRef> }>('/api/people/:id/photos/:photo', { schema: { params: PhotoRef }, ...enrolling }, async (req) =>
    photoRemovedAnswer(await daemon.persons.removePhoto(req.params.id, req.params.photo, ctx.actor(req))),
  );

  // Teach from a sighting: the gate's verdict on the camera's face first (storing nothing), as check-photo is for a photo.
  app.post<{ Body: Static<typeof Sighting> }>('/api/people/check-sighting', { schema: { body: Sighting }, ...enrolling }, async (req) => checkAnswer(await daemon.persons.checkSighting(req.body.sighting, ctx.actor(req))));
  app.post<{ Params: Static<typeof Ref>; Body: Static<typeof Teach> }>('/api/people/:id/teach', { schema: { params: Ref, body: Teach }, ...enrolling }, async (req) =>
    enrolAnswer(await daemon.persons.teach(req.params.id, req.body.sighting, ctx.actor(req), req.body.force ? { force: true } : {})),
  );

  app.post<{ Params: Static<typeof Ref>; Body: Static<typeof Erase> }>('/api/people/:id/erase', { schema: { params: Ref, body: Erase }, ...ctx.guard({ role: 'admin', limit: 'enrol' }) }, async (req) => {
    const { id } = req.params;
    if (req.body.confirm !== id) throw new WebError(400, 'FG_ERR_WEB_CONFIRM', 'the confirmation does not repeat the id of the person to erase', 'type the id exactly as shown to confirm');
    return eraseAnswer(await daemon.persons.erase(id, ctx.actor(req)));
  });
}
