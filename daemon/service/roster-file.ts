import { FacegateError, isFacegateError } from '../base/errors.js';
import { personFields } from './person-input.js';

/**
 * A site's staff roster as HR hands it over: a CSV file with a header row naming a name, a staff
 * number and (optionally) a group column, in any order, and a folder of photos named by staff
 * number. This module reads the file's text into rows, each either a person to enrol or a refusal
 * with its code and why, and matches the photo folder's file names to the rows; it reads no file
 * itself. Every row is held to the person rules of every entry point (person-input.ts) before any
 * file is looked for: a staff number is an external id, so `../../x` or `-rf` never names a photo.
 *
 * The CSV is RFC 4180's: fields separated by commas (or semicolons, as spreadsheets set to a
 * decimal comma export, when the header has no comma), optionally quoted with `"`, a quote inside a
 * quoted field doubled, line breaks inside quotes allowed; a UTF-8 byte order mark is skipped.
 * It is parsed here rather than with csv-parse, the well-kept parser: a roster is hostile input and
 * one broken row must cost that row alone. Tried with csv-parse 7 (skip_records_with_error): after
 * a field with text past its closing quote, the next well-formed quoted row was refused too, as the
 * parser does not find its way back to the next line; this reader starts again at the next line
 * break outside quotes.
 */

export const ROSTER_LIMITS = {
  /** Rows of people, the header not counted: a large site's staff, enrolled in one sitting. */
  rows: 5000,
  /** Columns a row may have: the three read and some others a spreadsheet exports beside them. */
  columns: 64,
  /** Characters of one field: far over the person rules' own bounds, so those name the field. */
  fieldChars: 4096,
} as const;

/** The photo extensions a roster's photo folder is searched for (case does not matter). */
export const ROSTER_PHOTO_EXTENSIONS = ['.jpg', '.jpeg', '.png'] as const;

/** A row that holds a person to enrol. */
export interface RosterPerson {
  /** The row's line in the file (the header is line 1), for the report. */
  line: number;
  name: string;
  staffNumber: string;
  group?: string;
}

/** A row refused before anything was enrolled from it, with the cells as read (for the report). */
export interface RosterRefusal {
  line: number;
  name?: string;
  staffNumber?: string;
  code: `FG_ERR_${string}`;
  reason: string;
}

export type RosterRow = ({ ok: true } & RosterPerson) | ({ ok: false } & RosterRefusal);

/** The header names each column is known by, compared without case, spaces, `_`, `-` or `.`. */
const HEADERS = {
  name: ['name', 'fullname', 'displayname', 'employeename', 'staffname'],
  staffNumber: ['staffnumber', 'staffno', 'staffid', 'employeenumber', 'employeeno', 'employeeid', 'externalid', 'personnelnumber', 'badgenumber', 'id'],
  group: ['group', 'department', 'dept', 'shift', 'team'],
} as const;
type Column = keyof typeof HEADERS;

const headerKey = (h: string) => h.trim().toLowerCase().replace(/[\s_.-]+/g, '');

/**
 * A cell that a spreadsheet would run as a formula if the roster were opened in one again (`=`,
 * `+`, `-`, `@`, or a tab or carriage return before them): in a roster exported from one, it is a
 * formula exported as its text rather than its value, never a person's name.
 */
const FORMULA_START = /^[\t\r]*[=+\-@]/;

function rosterInvalid(why: string): FacegateError {
  return new FacegateError(
    'FG_ERR_ROSTER_INVALID',
    `${why}; nothing was enrolled`,
    `give a CSV file with a header row naming a name and a staff number column (and a group column if the site uses groups), one person a row, at most ${ROSTER_LIMITS.rows} rows (docs/gallery.md#enrolling-a-roster)`,
  );
}

/**
 * The roster's rows from the file's bytes, or FG_ERR_ROSTER_INVALID when the file as a whole is not
 * a roster (not UTF-8 text, no header naming the columns, more rows than allowed). Rows that break a
 * rule are refused one by one, so one bad row never stops the others; a staff number on two rows is
 * refused on both, since which of them is right is for HR to say.
 */
export function parseRoster(bytes: Buffer): RosterRow[] {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw rosterInvalid('the file is not UTF-8 text (save it from the spreadsheet as "CSV UTF-8")');
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const firstLine = text.slice(0, text.search(/\r?\n|$/));
  const delimiter = !firstLine.includes(',') && firstLine.includes(';') ? ';' : ',';
  const records = csvRecords(text, delimiter);
  const header = records.shift();
  if (!header || 'broken' in header) throw rosterInvalid('the file has no header row');
  const columns = headerColumns(header.fields);
  if (records.length > ROSTER_LIMITS.rows) throw rosterInvalid(`the file has ${records.length} rows, more than the ${ROSTER_LIMITS.rows} one import takes: split it in two`);
  const rows = records.map((r) => rosterRow(r, columns));
  return refuseRepeatedStaffNumbers(rows);
}

/** Which field of a row holds each column, from the header; FG_ERR_ROSTER_INVALID without a name or staff number column. */
function headerColumns(header: readonly string[]): Partial<Record<Column, number>> & { name: number; staffNumber: number } {
  const found: Partial<Record<Column, number>> = {};
  for (const [i, cell] of header.entries()) {
    const key = headerKey(cell);
    for (const column of Object.keys(HEADERS) as Column[]) {
      if (!(HEADERS[column] as readonly string[]).includes(key)) continue;
      if (found[column] !== undefined) throw rosterInvalid(`the header names the ${columnWords(column)} twice (columns ${found[column] + 1} and ${i + 1})`);
      found[column] = i;
    }
  }
  const missing = (['name', 'staffNumber'] as const).filter((c) => found[c] === undefined);
  if (missing.length > 0) {
    throw rosterInvalid(`the header row has no ${missing.map(columnWords).join(' and no ')} column (a header of "name,staff number,group" is read in any order)`);
  }
  return found as Partial<Record<Column, number>> & { name: number; staffNumber: number };
}

const columnWords = (c: Column) => (c === 'staffNumber' ? 'staff number' : c);

function rosterRow(record: CsvRecord, columns: ReturnType<typeof headerColumns>): RosterRow {
  if ('broken' in record) return { ok: false, line: record.line, code: 'FG_ERR_ROSTER_ROW', reason: record.broken };
  const cell = (c: Column) => (columns[c] !== undefined ? record.fields[columns[c]]?.trim() : undefined);
  return rosterPerson(record.line, { name: cell('name'), staffNumber: cell('staffNumber'), group: cell('group') });
}

/**
 * One row's cells held to the roster's rules (a staff number and a name, no spreadsheet formula)
 * and the person rules of every entry point: a person to enrol, or the refusal with its code. The
 * roster reader runs it on each row, and the console on each person its page sends back from the
 * roster it read, so that a row is held to the same rules whichever way it came.
 */
export function rosterPerson(line: number, cells: { name?: string | undefined; staffNumber?: string | undefined; group?: string | undefined }): RosterRow {
  const { name, staffNumber } = cells;
  const group = cells.group === '' ? undefined : cells.group;
  const seen = { ...(name ? { name: clip(name) } : {}), ...(staffNumber ? { staffNumber: clip(staffNumber) } : {}) };
  const refuse = (code: `FG_ERR_${string}`, reason: string): RosterRow => ({ ok: false, line, ...seen, code, reason });
  if (!staffNumber) return refuse('FG_ERR_ROSTER_ROW', 'no staff number: every person is keyed by theirs, so that the roster can be imported again without enrolling anyone twice');
  if (!name) return refuse('FG_ERR_ROSTER_ROW', 'no name');
  for (const [field, value] of [
    ['name', name],
    ['group', group],
  ] as const) {
    if (value !== undefined && FORMULA_START.test(value)) return refuse('FG_ERR_ROSTER_ROW', `the ${field} starts with "${value.replace(/^[\t\r]*/, '')[0]}" as a spreadsheet formula does: export the sheet's values, not its formulas`);
  }
  try {
    const fields = personFields({ name, externalId: staffNumber, ...(group ? { group } : {}) });
    return { ok: true, line, name: fields.name!, staffNumber: fields.externalId!, ...(fields.group !== undefined ? { group: fields.group } : {}) };
  } catch (e) {
    if (!isFacegateError(e)) throw e;
    return refuse(e.code, e.message.replace(/; nothing was changed$/, '').replace(/^the external id/, 'the staff number'));
  }
}

/** What the report shows of a cell read from the file: at most 64 characters. */
function clip(value: string): string {
  const chars = [...value];
  return chars.length > 64 ? `${chars.slice(0, 63).join('')}…` : value;
}

function refuseRepeatedStaffNumbers(rows: RosterRow[]): RosterRow[] {
  const lines = new Map<string, number[]>();
  for (const r of rows) if (r.ok) lines.set(r.staffNumber, [...(lines.get(r.staffNumber) ?? []), r.line]);
  return rows.map((r) => {
    const on = r.ok ? lines.get(r.staffNumber)! : [];
    if (!r.ok || on.length < 2) return r;
    return { ok: false, line: r.line, name: r.name, staffNumber: r.staffNumber, code: 'FG_ERR_ROSTER_DUPLICATE', reason: `staff number ${r.staffNumber} is on lines ${on.join(', ')}: keep the one that is right` };
  });
}

type CsvRecord = { line: number; fields: string[] } | { line: number; broken: string };

/**
 * RFC 4180 records, each with the line it starts on; blank lines are skipped. A record that breaks
 * the format (a quote inside an unquoted field, text after a closing quote, too many columns, a
 * field too long) is kept as `broken`, the reading going on at the next line break outside quotes;
 * a quote left open runs to the end of the file, which ends that record and the file.
 */
function csvRecords(text: string, delimiter: ',' | ';'): CsvRecord[] {
  const records: CsvRecord[] = [];
  let i = 0;
  let line = 1;
  while (i < text.length) {
    const start = line;
    const fields: string[] = [];
    let broken: string | undefined;
    let field = '';
    let quoted = false;
    let afterQuote = false;
    let atFieldStart = true;
    for (; i < text.length; i++) {
      const c = text[i]!;
      if (quoted) {
        if (c === '"' && text[i + 1] === '"') {
          field += '"';
          i++;
        } else if (c === '"') {
          quoted = false;
          afterQuote = true;
        } else {
          if (c === '\n') line++;
          field += c;
        }
      } else if (c === delimiter) {
        fields.push(field);
        field = '';
        afterQuote = false;
        atFieldStart = true;
        continue;
      } else if (c === '\n' || (c === '\r' && text[i + 1] === '\n')) {
        if (c === '\r') i++;
        i++;
        line++;
        break;
      } else if (c === '"' && atFieldStart) {
        quoted = true;
      } else if (afterQuote) {
        broken ??= `text after a closing quote in column ${fields.length + 1}`;
      } else if (c === '"') {
        broken ??= `a quote inside the unquoted column ${fields.length + 1}: quote the whole field ("..."), with each quote in it doubled`;
      } else {
        field += c;
      }
      atFieldStart = false;
      if (field.length > ROSTER_LIMITS.fieldChars) {
        broken ??= `column ${fields.length + 1} is longer than ${ROSTER_LIMITS.fieldChars} characters`;
        field = '';
      }
      if (fields.length >= ROSTER_LIMITS.columns) broken ??= `more than ${ROSTER_LIMITS.columns} columns`;
    }
    if (quoted) broken ??= 'a quote opened and never closed: the rest of the file was read as this one field';
    fields.push(field);
    if (broken !== undefined) records.push({ line: start, broken });
    else if (!(fields.length === 1 && fields[0]!.trim() === '')) records.push({ line: start, fields });
  }
  return records;
}

/**
 * The photos of each staff number among a folder's file names: `<staff number>.jpg` (or .jpeg,
 * .png, any case) and `<staff number>_<n>.jpg` for more, the plain one first, then by n. Only names
 * the folder holds are returned, so no path is ever made from a row's text.
 */
export function rosterPhotos(staffNumbers: Iterable<string>, fileNames: readonly string[]): Map<string, string[]> {
  const wanted = new Set(staffNumbers);
  const found = new Map<string, Array<{ file: string; n: number }>>();
  for (const file of fileNames) {
    const dot = file.lastIndexOf('.');
    if (dot <= 0 || !(ROSTER_PHOTO_EXTENSIONS as readonly string[]).includes(file.slice(dot).toLowerCase())) continue;
    const stem = file.slice(0, dot);
    const more = /^(.+)_(\d{1,4})$/.exec(stem);
    // A staff number may itself end in _<digits>: the whole stem is tried first.
    const [staffNumber, n] = wanted.has(stem) ? [stem, 0] : more && wanted.has(more[1]!) ? [more[1]!, Number(more[2])] : [undefined, 0];
    if (staffNumber === undefined) continue;
    found.set(staffNumber, [...(found.get(staffNumber) ?? []), { file, n }]);
  }
  return new Map([...found].map(([k, files]) => [k, files.sort((a, b) => a.n - b.n || a.file.localeCompare(b.file)).map((f) => f.file)]));
}
