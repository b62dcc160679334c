import type { HistoryDay } from '../attendance/history.js';
import { sharesText } from '../../contract/liveness-shares.js';
import { csvCell } from '../base/csv.js';

/** A history row as payroll reads it: who (by the site's own staff id), which day, first in, last out and the shift's minutes. */
export type CsvDay = HistoryDay & { name: string; external_id: string | null };

/**
 * Payroll keys on the staff id, so it leads; times are the site's wall clock with its offset, and
 * the zone is said on every row, so a sheet merged from several sites stays unambiguous. What
 * proved each time, then the door of each camera (empty for a camera in no door), then the cues'
 * shares behind each time, come last, after the columns imports already read by position.
 */
const CSV_COLUMNS = [
  'external_id', 'name', 'group', 'date', 'first_in', 'last_out', 'late_minutes', 'early_minutes', 'overtime_minutes', 'time_zone', 'status', 'check_in_camera', 'check_out_camera', 'person_id',
  'first_in_assurance', 'last_out_assurance', 'check_in_door', 'check_out_door', 'first_in_liveness', 'last_out_liveness',
] as const;

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
    first_in_assurance: d.check_in_assurance,
    last_out_assurance: d.check_out_assurance,
    check_in_door: d.check_in_door,
    check_out_door: d.check_out_door,
    first_in_liveness: sharesText(d.check_in_liveness),
    last_out_liveness: sharesText(d.check_out_liveness),
  });
  const lines = days.map((d) => {
    const row = cells(d);
    return CSV_COLUMNS.map((c) => csvCell(row[c])).join(',');
  });
  return [CSV_COLUMNS.join(','), ...lines].join('\r\n') + '\r\n';
}
