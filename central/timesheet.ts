import { formatLocalIso } from '../daemon/base/zoned-time.js';
import { csvCell } from '../daemon/base/csv.js';
import { attendanceAssurance } from '../contract/assurance.js';
import { sharesText } from '../contract/liveness-shares.js';
import { sharesFrom, type AttendanceMark, type TimesheetRow } from './storage.js';

/**
 * The mark a verified attendance event leaves in the timesheet: check-ins and check-outs only (a
 * summary repeats them), on the day the box gave (the local date the shift starts on, so a night
 * shift stays on one line), at the signed check-in or check-out time, with what proved it (`live`
 * from a box older than assurance: contract/assurance.ts), the door the box named (none from a
 * camera in no door, nor from a box older than doors) and the cues' shares behind it (none from a
 * box older than them).
 */
export function attendanceMark(signed: Readonly<Record<string, unknown>>): AttendanceMark | undefined {
  const { type, external_id, person_id, date, check_in, check_out, door, liveness } = signed;
  if (type !== 'check_in' && type !== 'check_out') return undefined;
  const at = type === 'check_in' ? check_in : check_out;
  const atMs = typeof at === 'string' ? Date.parse(at) : NaN;
  const assurance = attendanceAssurance(signed);
  if (!Number.isFinite(atMs) || typeof date !== 'string' || typeof person_id !== 'string' || assurance === null) return undefined;
  return { employee: typeof external_id === 'string' ? external_id : person_id, type, day: date, atMs, assurance, door: typeof door === 'string' ? door : null, liveness: sharesFrom(liveness) };
}

/**
 * The columns HR's imports read by position come first, as before; what proved each time follows
 * them, then where it was made, then the cues behind it (as the box's own history CSV writes them).
 */
const COLUMNS = ['external_id', 'name', 'day', 'first_in', 'last_out', 'first_in_assurance', 'last_out_assurance', 'first_in_door', 'last_out_door', 'first_in_liveness', 'last_out_liveness'] as const;

/** One day's timesheet as RFC 4180 CSV, times in the site's zone with their offset; names from the consumer's config. */
export function timesheetCsv(rows: readonly TimesheetRow[], names: Readonly<Record<string, string>>, timeZone: string): string {
  const at = (ms: number | null) => (ms === null ? '' : formatLocalIso(ms, timeZone));
  const lines = rows.map((r) =>
    [r.employee, Object.hasOwn(names, r.employee) ? names[r.employee]! : '', r.day, at(r.firstInMs), at(r.lastOutMs), r.firstInAssurance ?? '', r.lastOutAssurance ?? '', r.firstInDoor ?? '', r.lastOutDoor ?? '', sharesText(r.firstInLiveness) ?? '', sharesText(r.lastOutLiveness) ?? ''].map(csvCell).join(','),
  );
  return [COLUMNS.join(','), ...lines].join('\r\n') + '\r\n';
}
