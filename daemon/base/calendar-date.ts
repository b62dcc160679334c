import { FormatRegistry, Type, type StringOptions, type TString } from '@sinclair/typebox';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/value';

/**
 * A day of the calendar written 'YYYY-MM-DD', wherever one is parsed: holidays in the config and in
 * the remote `attendance/shifts` command, the console's date filters. The shape alone lets
 * '2026-02-30' and '2026-13-01' through, days that never come, so a holiday set on one would never
 * match and nothing would say so.
 *
 * The schema's format is JSON Schema's own 'date' (RFC 3339 full-date): editors reading the config's
 * JSON Schema and the console's validator (Fastify's Ajv with ajv-formats) check the same calendar.
 */
export const CALENDAR_DATE_FORMAT = 'date';

/** What a calendar day must be, for the refusals of every door. */
export const CALENDAR_DATE_EXPECTED = "a calendar day 'YYYY-MM-DD' that exists (month 01-12, a day that month has; 29 February in leap years only)";

const SHAPE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

/** Whether `value` is 'YYYY-MM-DD' naming a day that exists in the (proleptic) Gregorian calendar. */
export function isCalendarDate(value: string): boolean {
  const m = SHAPE.exec(value);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!);
}

// TypeBox checks a format through its registry: set here, beside the only schema that names it, so
// that whatever validates a CalendarDate has loaded this module first.
FormatRegistry.Set(CALENDAR_DATE_FORMAT, isCalendarDate);

/** A string schema that holds a calendar day (isCalendarDate). */
export function CalendarDate(options: StringOptions = {}): TString {
  return Type.String({ ...options, format: CALENDAR_DATE_FORMAT });
}

/**
 * A schema error's text where the value is not a calendar day: the value and what is expected, for
 * the doors that report schema errors (the config's issues, a remote command's refusal); undefined
 * for every other error.
 */
export function calendarDateProblem(error: ValueError): string | undefined {
  if (error.type !== ValueErrorType.StringFormat || (error.schema as StringOptions).format !== CALENDAR_DATE_FORMAT) return undefined;
  return `${JSON.stringify(String(error.value).slice(0, 40))} is not ${CALENDAR_DATE_EXPECTED}`;
}
