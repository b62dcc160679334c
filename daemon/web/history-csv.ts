import type { HistoryDay } from '../attendance/history.js';

const CSV_COLUMNS = ['date', 'person_id', 'name', 'group', 'status', 'check_in', 'check_in_camera', 'check_out', 'check_out_camera', 'last_seen', 'last_seen_camera'] as const;

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

/** The history as RFC 4180 CSV, one quoted cell per column. */
export function historyCsv(days: readonly (HistoryDay & { name: string })[]): string {
  const lines = days.map((d) => CSV_COLUMNS.map((c) => csvCell(d[c])).join(','));
  return [CSV_COLUMNS.join(','), ...lines].join('\r\n') + '\r\n';
}
