import { FacegateError, isFacegateError } from '../base/errors.js';
import { exportRow, type ExportedPerson } from '../gallery/transfer.js';
import type { Actor } from './audit.js';
import type { PersonContext, Written } from './person-context.js';
import { externalId, personFields, templateInput } from './person-input.js';

export interface ImportResult {
  persons: number;
  templates: number;
  /** Persons already in this gallery (same id or external id), left as they are. */
  skipped: Array<{ id: string; reason: string }>;
}

/**
 * The persons of a gallery export, in one transaction with an audit entry each: an import writes
 * everyone or no one, so a refusal leaves the gallery as it was and the same file (or a corrected
 * one) can simply be imported again. Every row is first held to the rules of what is stored, as
 * an enrolment is (importedRows): an export authenticates only who made it, with the passphrase,
 * not what is in it, and one row the gallery cannot hold would otherwise be written for every
 * later open to trip over. Persons already here (same id or external id) are kept as they are.
 * `onProgress` is told after each person how many of how many are done.
 */
export function importPersons(ctx: PersonContext, persons: readonly ExportedPerson[], by: Actor, onProgress?: (done: number, total: number) => void): Promise<ImportResult> {
  return ctx.audited('person.import', by, null, () => {
    const rows = importedRows(persons);
    return ctx.serial(async () => {
      const result: ImportResult = { persons: 0, templates: 0, skipped: [] };
      const written = ctx.ownTransaction(() => {
        const done: Written[] = [];
        for (const [i, p] of rows.entries()) {
          onProgress?.(i, rows.length);
          try {
            const w = ctx.write(undefined, p.fields, p.templates, p.id);
            ctx.o.audit.append({ ...by, action: 'person.import', target: w.person.id, detail: { templates: w.templateIds.length }, outcome: 'ok' });
            done.push(w);
          } catch (e) {
            if (!isFacegateError(e) || e.code !== 'FG_ERR_PERSON_EXISTS') throw e;
            result.skipped.push({ id: p.id, reason: e.message });
          }
        }
        return done;
      });
      for (const w of written) {
        ctx.follow(w);
        result.persons++;
        result.templates += w.templateIds.length;
      }
      onProgress?.(rows.length, rows.length);
      return result;
    });
  });
}

/**
 * The persons of an export as an enrolment would store them: the id as a new person's id, the
 * fields through personFields, each template through templateInput (its embedding at unit length),
 * and no id or external id twice. The first row that breaks a rule is FG_ERR_IMPORT_INVALID naming
 * it, before anything is written.
 */
function importedRows(persons: readonly ExportedPerson[]): ExportedPerson[] {
  const ids = new Map<string, number>();
  const externalIds = new Map<string, number>();
  return persons.map((p, i) => {
    const refused = (why: string, template?: number) =>
      new FacegateError(
        'FG_ERR_IMPORT_INVALID',
        `${exportRow(i, p.id, template)} of the export breaks the rules of what the gallery stores: ${why}; nothing was imported`,
        'correct or remove that person on the box the export was made on (facegate person rename, drop-photo or remove), export again and import that file',
      );
    const rule = <T>(check: () => T, template?: number): T => {
      try {
        return check();
      } catch (e) {
        if (!isFacegateError(e)) throw e;
        // The rule's own "nothing was changed" is said once, for the whole import.
        throw refused(e.message.replace(/; nothing was changed$/, ''), template);
      }
    };
    const id = rule(() => externalId(p.id));
    const fields = rule(() => personFields(p.fields)) as ExportedPerson['fields'];
    const templates = p.templates.map((t, k) => rule(() => templateInput(t), k));
    for (const [key, seen, what] of [
      [id, ids, 'id'],
      [fields.externalId, externalIds, 'external id'],
    ] as const) {
      if (key === undefined) continue;
      const first = seen.get(key);
      if (first !== undefined) throw refused(`person ${first + 1} has the same ${what}`);
      seen.set(key, i);
    }
    return { id, fields, templates };
  });
}
