import type { Config } from './schema.js';

/** What a reload changes: cameras by name, whether the attendance rules changed, and the sections that need a restart. */
export interface ConfigChange {
  added: string[];
  removed: string[];
  /** Cameras whose settings differ: stopped and started again with the new ones. */
  changed: string[];
  attendanceChanged: boolean;
  /** Sections other than cameras and attendance that differ: they take effect after a restart. */
  restartNeeded: string[];
}

/** The sections a running daemon takes over on a reload; every other one is read at start only. */
export const RELOADABLE = ['cameras', 'attendance'] as const;

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** How `next` differs from the config the daemon runs with (`now`). */
export function configChange(now: Config, next: Config): ConfigChange {
  const before = new Map(now.cameras.map((cam) => [cam.name, cam]));
  const after = new Map(next.cameras.map((cam) => [cam.name, cam]));
  return {
    added: [...after.keys()].filter((n) => !before.has(n)),
    removed: [...before.keys()].filter((n) => !after.has(n)),
    changed: [...after.keys()].filter((n) => before.has(n) && !same(before.get(n), after.get(n))),
    attendanceChanged: !same(now.attendance, next.attendance),
    restartNeeded: (Object.keys(next) as (keyof Config)[]).filter((k) => !(RELOADABLE as readonly string[]).includes(k) && !same(next[k], now[k])),
  };
}
