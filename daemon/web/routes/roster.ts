import { Type, type Static } from '@sinclair/typebox';
import { ENROL_BODY_BYTES, PERSON_LIMITS, PersonText } from '../../service/person-input.js';
import { enrolAnswer } from '../../service/person-answers.js';
import { parseRoster, ROSTER_LIMITS, rosterPerson, rosterPhotos } from '../../service/roster-file.js';
import { enrolRosterPerson, refusedRowReport, rosterEnrolRequest } from '../../service/roster-import.js';
import { INPUT_FILE_LIMITS } from '../../base/input-file.js';
import { WebError } from '../errors.js';
import type { ConsoleContext } from '../server.js';

/**
 * A roster from the console: the page sends the CSV and the names of the photos picked with it, and
 * is answered each row's plan (the person and the photo names that are theirs, or why the row is
 * refused); then it sends each person with their photos, one request and one service call each
 * (service/roster-import.ts, as `facegate person import-roster` does), and draws the progress and
 * the report from the answers. The server keeps nothing between the calls: a person sent back is
 * held to the roster's row rules again (roster-file.ts `rosterPerson`), so a page that sends
 * something else gets no further than the same refusal.
 */

/** The roster file's limit, as `person import-roster` reads it (base/input-file.ts). */
export const ROSTER_WEB_BYTES = INPUT_FILE_LIMITS.roster;
/** Photo names the plan takes: every row's plain photo and a few more. */
export const ROSTER_PHOTO_NAMES = 4 * ROSTER_LIMITS.rows;

const PhotoName = Type.String({ minLength: 1, maxLength: PERSON_LIMITS.photoNameChars });
// The roster's size is checked in bytes, as the command checks its file, with the roster's own code.
const Plan = Type.Object({ roster: Type.String(), photos: Type.Array(PhotoName, { maxItems: ROSTER_PHOTO_NAMES }) }, { additionalProperties: false });
const Photo = Type.Object({ name: PhotoName, data: Type.String() }, { additionalProperties: false });
const Person = Type.Object(
  {
    line: Type.Integer({ minimum: 2, maximum: Number.MAX_SAFE_INTEGER }),
    name: PersonText,
    staff_number: PersonText,
    group: Type.Optional(PersonText),
    // More than a person may have is the person service's refusal of that person (FG_ERR_ENROL_TOO_LARGE),
    // as from the command; the body limit bounds what is sent.
    photos: Type.Array(Photo, { maxItems: 4 * PERSON_LIMITS.photos }),
  },
  { additionalProperties: false },
);
/** The CSV as JSON text: a character may take up to six bytes escaped. */
const PLAN_BODY_BYTES = 6 * ROSTER_WEB_BYTES + ROSTER_PHOTO_NAMES * (PERSON_LIMITS.photoNameChars + 8) + 64 * 1024;

export function rosterRoutes(ctx: ConsoleContext): void {
  const { app, daemon } = ctx;
  const importing = ctx.guard({ role: 'operator', limit: 'roster' });

  app.post<{ Body: Static<typeof Plan> }>('/api/people/roster/plan', { schema: { body: Plan }, bodyLimit: PLAN_BODY_BYTES, ...importing }, async (req) => {
    const bytes = Buffer.from(req.body.roster, 'utf8');
    if (bytes.length > ROSTER_WEB_BYTES) {
      throw new WebError(413, 'FG_ERR_ROSTER_INVALID', `the roster is ${bytes.length} bytes, more than the ${ROSTER_WEB_BYTES} one import takes; nothing was enrolled`, 'split it in two and import each');
    }
    const rows = parseRoster(bytes);
    const photos = rosterPhotos(
      rows.flatMap((r) => (r.ok ? [r.staffNumber] : [])),
      req.body.photos,
    );
    return {
      rows: rows.map((r) =>
        r.ok
          ? { line: r.line, staff_number: r.staffNumber, name: r.name, ...(r.group !== undefined ? { group: r.group } : {}), photos: photos.get(r.staffNumber) ?? [] }
          : refusedRowReport(r),
      ),
    };
  });

  app.post<{ Body: Static<typeof Person> }>('/api/people/roster/person', { schema: { body: Person }, bodyLimit: ENROL_BODY_BYTES, ...importing }, async (req) => {
    const b = req.body;
    const row = rosterPerson(b.line, { name: b.name, staffNumber: b.staff_number, group: b.group });
    if (!row.ok) return refusedRowReport(row);
    const photos = b.photos.map((p) => ({ name: p.name, bytes: Buffer.from(p.data, 'base64') }));
    // Audited by the person service with the account as actor, as every enrolment is.
    return enrolRosterPerson(row, photos.length, `no photo named ${row.staffNumber}.jpg, .jpeg or .png (or ${row.staffNumber}_2.jpg ...) among the photos picked`, async () =>
      enrolAnswer(await daemon.persons.enrol(rosterEnrolRequest(row, photos), ctx.actor(req))),
    );
  });
}
