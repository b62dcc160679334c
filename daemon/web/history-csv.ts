import type { HistoryDay } from '../attendance/history.js';

/** A history row as payroll reads it: who (by the site's own staff id), which day, first in, last out and the shift's minutes. */
export type CsvDay = HistoryDay & { name: string; external_id: string | null };

/**
 * Payroll keys on the staff id, so it leads; times are the site's wall clock with its offset, and
 * the zone is said on every row, so a sheet merged from several sites stays unambiguous.
 */
const CSV_COLUMNS = ['external_id', 'name', 'group', 'date', 'first_in', 'last_out', 'late_minutes', 'early_minutes', 'overtime_minutes', 'time_zone', 'status', 'check_in_camera', 'check_out_camera', 'person_id'] as const;

/**
 * Where a spreadsheet may see a cell start inside a cell: the cell's own start, and after any
 * separator one might split on (`,` `;` tab `|`) or a line end, past blanks and double quotes it
 * trims, when a formula trigger (OWASP: = + - @ tab CR) follows.
 */
const FORMULA_START = /(?<=^|[,;\t|\r\n])(?=[\s"]*[=+\-@\t\r])/g;

/**
 * One CSV cell, safe under OWASP's CSV injection rules whatever separator the spreadsheet that
 * opens it splits on: every place a formula could start gets a leading quote (which the spreadsheet
 * shows as text), and every cell is quoted with its double quotes doubled (RFC 4180). Names come
 * from whoever enrolled the person.
 */
export function csvCell(value: string | null): string {
  return `"${(value ?? '').replace(FORMULA_START, "'").replace(/"/g, '""')}"`;
}

/** The history as RFC 4180 CSV, one quoted cell per column, in the site's zone. */
export function historyCsv(days: readonly CsvDay[], timeZone: string): string {
  const cells = (d: CsvDay): Record<(typeof CSV_COLUMNS)[number], string | null> => ({
    external_id: d.external_id,
    name: d.name,
    group: d.group,
    date: d.date,
    first_in: d.check_in,
    last_out: d.check_out,
    late_minutes: String(d.late_minutes),
    early_minutes: String(d.early_minutes),
    overtime_minutes: String(d.overtime_minutes),
    time_zone: timeZone,
    status: d.status,
    check_in_camera: d.check_in_camera,
    check_out_camera: d.check_out_camera,
    person_id: d.person_id,
  });
  const lines = days.map((d) => {
    const row = cells(d);
    return CSV_COLUMNS.map((c) => csvCell(row[c])).join(',');
  });
  return [CSV_COLUMNS.join(','), ...lines].join('\r\n') + '\r\n';
}
