import { WEEKDAYS, type Shift, type ShiftRules } from './config.js';
import { addDays, localParts, parseClock, weekdayOf, zonedInstant, type LocalDate } from '../base/zoned-time.js';

/** The shift a person works: their group's (or 'default'), with their own override on top. */
export interface ResolvedShift {
  /** Group whose shift applies ('default' when the person has none or an unknown one). */
  name: string;
  shift: Shift;
}

export function resolveShift(rules: ShiftRules, personId: string, group: string | undefined): ResolvedShift | undefined {
  const name = group !== undefined && rules.shifts[group] ? group : 'default';
  const base = rules.shifts[name];
  if (!base) return undefined;
  const override = rules.personOverrides[personId];
  return { name, shift: override ? { ...base, ...definedOnly(override) } : base };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * The attendance day an instant belongs to. A scheduled day runs from the check-in window before
 * the shift's start to the check-out window after its end (which may be the next calendar day);
 * anything outside every such window is an unscheduled day: the local calendar date, midnight to
 * midnight. All instants are UTC ms; the zone only turns local clock times into them.
 */
export type ShiftDay = ScheduledDay | UnscheduledDay;

interface DayBase {
  /** The day's key: the local date the shift starts on (or the calendar date when unscheduled). */
  date: LocalDate;
  opensMs: number;
  closesMs: number;
}
export interface ScheduledDay extends DayBase {
  scheduled: true;
  shiftName: string;
  shift: Shift;
  startMs: number;
  endMs: number;
}
export interface UnscheduledDay extends DayBase {
  scheduled: false;
  /** Why no shift applies, for the payload and the summary. */
  reason: 'holiday' | 'day_off' | 'outside_window' | 'no_shift';
}

/** The scheduled shift starting on `date`, or why there is none. */
export function scheduledDay(rules: ShiftRules, resolved: ResolvedShift | undefined, date: LocalDate): ScheduledDay | 'holiday' | 'day_off' | 'no_shift' {
  if (!resolved) return 'no_shift';
  const { shift } = resolved;
  if (!shift.weekdays.includes(WEEKDAYS[weekdayOf(date)]!)) return 'day_off';
  if (rules.holidays.has(date)) return 'holiday';
  const start = parseClock(shift.start);
  let end = parseClock(shift.end);
  if (end <= start) end += 1440; // ends the next day
  const startMs = zonedInstant(date, start, rules.timeZone);
  const endMs = zonedInstant(date, end, rules.timeZone);
  return {
    scheduled: true,
    date,
    shiftName: resolved.name,
    shift,
    startMs,
    endMs,
    opensMs: startMs - shift.checkin_window_min * 60_000,
    closesMs: endMs + shift.checkout_window_min * 60_000,
  };
}

export function shiftDayAt(rules: ShiftRules, resolved: ResolvedShift | undefined, atMs: number): ShiftDay {
  const today = localParts(atMs, rules.timeZone).date;
  // Latest start first: a new shift's check-in wins over a long previous check-out window.
  let reason: UnscheduledDay['reason'] = 'outside_window';
  for (const date of [addDays(today, 1), today, addDays(today, -1)]) {
    const day = scheduledDay(rules, resolved, date);
    if (typeof day !== 'string') {
      if (day.opensMs <= atMs && atMs < day.closesMs) return day;
    } else if (date === today) {
      reason = day;
    }
  }
  return {
    scheduled: false,
    reason,
    date: today,
    opensMs: zonedInstant(today, 0, rules.timeZone),
    closesMs: zonedInstant(addDays(today, 1), 0, rules.timeZone),
  };
}
