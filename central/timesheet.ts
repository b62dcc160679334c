import { formatLocalIso } from '../daemon/base/zoned-time.js';
import { csvCell } from '../daemon/base/csv.js';
import type { AttendanceMark, TimesheetRow } from './store.js';

/**
 * The mark a verified attendance event leaves in the timesheet: check-ins and check-outs only (a
 * summary repeats them), on the day the box gave (the local date the shift starts on, so a night
 * shift stays on one line), at the signed check-in or check-out time.
 */
export function attendanceMark(signed: Readonly<Record<string, unknown>>): AttendanceMark | undefined {
  const { type, external_id, person_id, date, check_in, check_out } = signed;
  if (type !== 'check_in' && type !== 'check_out') return undefined;
  const at = type === 'check_in' ? check_in : check_out;
  const atMs = typeof at === 'string' ? Date.parse(at) : NaN;
  if (!Number.isFinite(atMs) || typeof date !== 'string' || typeof person_id !== 'string') return undefined;
  return { employee: typeof external_id === 'string' ? external_id : person_id, type, day: date, atMs };
}

const COLUMNS = ['external_id', 'name', 'day', 'first_in', 'last_out'] as const;

/** One day's timesheet as RFC 4180 CSV, times in the site's zone with their offset; names from the consumer's config. */
export function timesheetCsv(rows: readonly TimesheetRow[], names: Readonly<Record<string, string>>, timeZone: string): string {
  const at = (ms: number | null) => (ms === null ? '' : formatLocalIso(ms, timeZone));
  const lines = rows.map((r) => [r.employee, Object.hasOwn(names, r.employee) ? names[r.employee]! : '', r.day, at(r.firstInMs), at(r.lastOutMs)].map(csvCell).join(','));
  return [COLUMNS.join(','), ...lines].join('\r\n') + '\r\n';
}
