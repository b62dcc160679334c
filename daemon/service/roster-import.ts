import { isFacegateError } from '../base/errors.js';
import type { EnrolRequest } from './enrolment.js';
import type { EnrolAnswer } from './person-answers.js';
import type { Photo } from './person-input.js';
import type { RosterPerson, RosterRow } from './roster-file.js';

/**
 * One roster row through the one enrolment, whatever the door (`person import-roster`, the
 * console's roster import): the request a row becomes, and what its outcome is reported as. A row
 * is enrolled under its staff number as external id with `ifExists: 'refuse'`, so a person already
 * enrolled under it is left as they are and reported as such: the same roster can be imported again.
 */

/**
 * What an enrolment may refuse of one person while the others go on: their photos, their fields,
 * a face the gallery already holds. Any other failure (the daemon gone, a role refused, a damaged
 * state file) stops the import where it is, since every row after would fail the same way.
 */
export const REFUSALS_OF_ONE: ReadonlySet<string> = new Set([
  'FG_ERR_ENROL_NO_FACE',
  'FG_ERR_ENROL_DUPLICATE',
  'FG_ERR_ENROL_TOO_LARGE',
  'FG_ERR_PERSON_INVALID',
  'FG_ERR_IMAGE_UNREADABLE',
  'FG_ERR_IMAGE_INVALID',
  'FG_ERR_INPUT_NOT_FILE',
  'FG_ERR_INPUT_TOO_LARGE',
]);

/** One row's outcome, as the command's `--json` and the console's API give it. */
export type RosterReport = { line: number; staff_number: string | null; name: string | null } & (
  | { outcome: 'enrolled'; id: string; templates: number; photos: number; refused_photos: EnrolAnswer['refused'] }
  | { outcome: 'already_enrolled' }
  | { outcome: 'refused'; code: string; reason: string }
);

/** The enrolment a roster row asks for, with its photos. */
export function rosterEnrolRequest(row: RosterPerson, photos: readonly Photo[]): EnrolRequest {
  return { name: row.name, externalId: row.staffNumber, photos, ifExists: 'refuse', ...(row.group !== undefined ? { group: row.group } : {}) };
}

/**
 * The report of one person: `enrol` is the one service call that enrols them (the daemon's, through
 * whichever door); `photoCount` is how many photos were found for them (none: refused without a
 * call, `noPhoto` saying where they were looked for). A refusal of this person is reported; any
 * other failure is thrown, to stop the import.
 */
export async function enrolRosterPerson(row: RosterPerson, photoCount: number, noPhoto: string, enrol: () => Promise<EnrolAnswer>): Promise<RosterReport> {
  const who = { line: row.line, staff_number: row.staffNumber, name: row.name };
  if (photoCount === 0) return { ...who, outcome: 'refused', code: 'FG_ERR_ROSTER_NO_PHOTO', reason: noPhoto };
  try {
    const answer = await enrol();
    return { ...who, outcome: 'enrolled', id: answer.id, templates: answer.templates, photos: photoCount, refused_photos: answer.refused };
  } catch (e) {
    if (!isFacegateError(e)) throw e;
    if (e.code === 'FG_ERR_PERSON_EXISTS') return { ...who, outcome: 'already_enrolled' };
    if (!REFUSALS_OF_ONE.has(e.code)) throw e;
    return { ...who, outcome: 'refused', code: e.code, reason: e.hint ? `${e.message} — ${e.hint}` : e.message };
  }
}

/** The report of a row the roster reader refused before anything was enrolled from it. */
export function refusedRowReport(row: Extract<RosterRow, { ok: false }>): RosterReport {
  return { line: row.line, staff_number: row.staffNumber ?? null, name: row.name ?? null, outcome: 'refused', code: row.code, reason: row.reason };
}
