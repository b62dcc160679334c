// Every time on every page is the site's wall clock (attendance.time_zone), as MQTT and the CSV
// write it, whatever zone the browser is in; the header says which zone that is.
import { session } from './session.js';

export function siteTime(iso: string | null | undefined, { date = true }: { date?: boolean } = {}): string {
  if (!iso) return '';
  const style: Intl.DateTimeFormatOptions = date ? { dateStyle: 'medium', timeStyle: 'medium' } : { timeStyle: 'medium' };
  return new Intl.DateTimeFormat(undefined, { ...style, hourCycle: 'h23', timeZone: session.zone ?? 'UTC' }).format(new Date(iso));
}

/** The time of day alone, on the site's clock. */
export const siteClock = (iso: string | null | undefined): string => siteTime(iso, { date: false });
