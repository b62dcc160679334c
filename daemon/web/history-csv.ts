import type { HistoryDay } from '../attendance/history.js';

const CSV_COLUMNS = ['date', 'person_id', 'name', 'group', 'status', 'check_in', 'check_in_camera', 'check_out', 'check_out_camera', 'last_seen', 'last_seen_camera'] as const;

/**
 * RFC 4180 CSV. A cell that a spreadsheet would run as a formula (=, +, -, @, tab, CR) is prefixed
 * with a quote: names come from whoever enrolled the person.
 */
export function historyCsv(days: readonly (HistoryDay & { name: string })[]): string {
  const cell = (v: string | null) => {
    let s = v ?? '';
    if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const lines = days.map((d) => CSV_COLUMNS.map((c) => cell(d[c])).join(','));
  return [CSV_COLUMNS.join(','), ...lines].join('\r\n') + '\r\n';
}
