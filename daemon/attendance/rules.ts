import type { ShiftDay } from './shift.js';

/** Shift-rule arithmetic on UTC instants; minutes are whole minutes, rounded down. */

const minutesBetween = (fromMs: number, toMs: number) => Math.floor((toMs - fromMs) / 60_000);

export type CheckInStatus = 'on_time' | 'late' | 'unscheduled';
export type CheckOutStatus = 'on_time' | 'early' | 'unscheduled';

export interface CheckInVerdict {
  status: CheckInStatus;
  late_minutes: number;
}

export interface CheckOutVerdict {
  status: CheckOutStatus;
  early_minutes: number;
  overtime_minutes: number;
}

/** Late when after start + grace (exactly at start + grace is on time); late minutes count from start. */
export function classifyCheckIn(day: ShiftDay, atMs: number): CheckInVerdict {
  if (!day.scheduled) return { status: 'unscheduled', late_minutes: 0 };
  if (atMs > day.startMs + day.shift.grace_min * 60_000) return { status: 'late', late_minutes: minutesBetween(day.startMs, atMs) };
  return { status: 'on_time', late_minutes: 0 };
}

/**
 * Early when before end − early_leave; overtime (minutes past end) only once it reaches the
 * overtime threshold, so that leaving a few minutes late is not overtime.
 */
export function classifyCheckOut(day: ShiftDay, atMs: number): CheckOutVerdict {
  if (!day.scheduled) return { status: 'unscheduled', early_minutes: 0, overtime_minutes: 0 };
  const { shift, endMs } = day;
  if (atMs < endMs - shift.early_leave_min * 60_000) {
    return { status: 'early', early_minutes: Math.max(0, minutesBetween(atMs, endMs)), overtime_minutes: 0 };
  }
  const over = minutesBetween(endMs, atMs);
  return { status: 'on_time', early_minutes: 0, overtime_minutes: over >= shift.overtime_after_min && over > 0 ? over : 0 };
}

export type DayStatus = 'present' | 'half_day' | 'absent';

export interface DaySummary {
  status: DayStatus;
  /** Elapsed minutes from check-in to check-out (DST-correct); null when either is missing. */
  worked_minutes: number | null;
}

/**
 * End-of-day verdict for a scheduled day. A check-in without a check-out cannot be measured and
 * counts as present (worked_minutes null) rather than guessing.
 */
export function summarizeDay(day: ShiftDay, checkInMs: number | null, checkOutMs: number | null): DaySummary {
  if (checkInMs === null) return { status: 'absent', worked_minutes: checkOutMs === null ? 0 : null };
  if (checkOutMs === null || checkOutMs <= checkInMs) return { status: 'present', worked_minutes: null };
  const worked = minutesBetween(checkInMs, checkOutMs);
  if (!day.scheduled) return { status: 'present', worked_minutes: worked };
  if (worked < day.shift.absent_below_min) return { status: 'absent', worked_minutes: worked };
  if (worked < day.shift.half_day_below_min) return { status: 'half_day', worked_minutes: worked };
  return { status: 'present', worked_minutes: worked };
}
