/**
 * Wall-clock arithmetic in an IANA time zone with nothing but Intl: shift rules are written in local
 * time ("09:00"), decisions carry UTC instants, and the two must agree across midnight and DST.
 */

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/** A calendar day in the site's zone, 'YYYY-MM-DD'. */
export type LocalDate = string;

export interface LocalParts {
  date: LocalDate;
  /** Minutes since local midnight, 0..1439. */
  minutes: number;
  /** 0 = Sunday ... 6 = Saturday, as Date#getUTCDay. */
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The local wall clock of `instantMs`, as if it were UTC (so Date.UTC arithmetic works on it). */
function wallClockAsUtc(instantMs: number, timeZone: string): number {
  const p: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(instantMs))) {
    if (part.type !== 'literal') p[part.type] = Number(part.value);
  }
  const seconds = Math.floor(instantMs / 1000) * 1000;
  const ms = instantMs - seconds;
  return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!) + ms;
}

/** Offset of local time from UTC at `instantMs`, in ms (e.g. +3_600_000 for CET). */
export function offsetMs(instantMs: number, timeZone: string): number {
  return wallClockAsUtc(instantMs, timeZone) - instantMs;
}

export function localParts(instantMs: number, timeZone: string): LocalParts {
  const wall = new Date(wallClockAsUtc(instantMs, timeZone));
  return {
    date: wall.toISOString().slice(0, 10),
    minutes: wall.getUTCHours() * 60 + wall.getUTCMinutes(),
    weekday: wall.getUTCDay(),
  };
}

/**
 * '2026-W48': the ISO 8601 week of an instant on the zone's wall clock, so that a site's week starts
 * at its own Monday midnight (the Thursday of the week decides its year).
 */
export function isoWeek(instantMs: number, timeZone: string): string {
  const wall = new Date(wallClockAsUtc(instantMs, timeZone));
  const thursday = new Date(Date.UTC(wall.getUTCFullYear(), wall.getUTCMonth(), wall.getUTCDate() + 4 - (wall.getUTCDay() || 7)));
  const year = thursday.getUTCFullYear();
  const week = Math.ceil(((thursday.getTime() - Date.UTC(year, 0, 1)) / 86_400_000 + 1) / 7);
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/** ISO 8601 with the zone's offset, e.g. 2026-03-29T09:05:00+02:00: what receivers and people read. */
export function formatLocalIso(instantMs: number, timeZone: string): string {
  const off = Math.round(offsetMs(instantMs, timeZone) / MINUTE_MS);
  const wall = new Date(instantMs + off * MINUTE_MS).toISOString().slice(0, 19);
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off);
  return `${wall}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/**
 * The instant at which the local clock in `timeZone` reads `date` + `minutes` (minutes may pass 1440
 * for times on the next day). Resolves like Temporal's 'compatible': a time skipped by a DST jump
 * forward is moved later by the jump (02:30 → 03:30); a time repeated by a jump back takes the first.
 */
export function zonedInstant(date: LocalDate, minutes: number, timeZone: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const wall = Date.UTC(y, m - 1, d) + minutes * MINUTE_MS;
  const before = wall - offsetMs(wall - DAY_MS, timeZone);
  const after = wall - offsetMs(wall + DAY_MS, timeZone);
  const fits = (t: number) => wallClockAsUtc(t, timeZone) === wall;
  if (fits(before) && fits(after)) return Math.min(before, after);
  if (fits(before)) return before;
  if (fits(after)) return after;
  return before; // in a gap: the pre-transition offset lands after the gap, by its length
}

export function addDays(date: LocalDate, days: number): LocalDate {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

export function weekdayOf(date: LocalDate): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d)).getUTCDay();
}

/** 'HH:MM' → minutes since midnight. The config schema guarantees the pattern. */
export function parseClock(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return h * 60 + m;
}
