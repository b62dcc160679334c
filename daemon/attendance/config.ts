import { Type, type Static } from '@sinclair/typebox';
import { CalendarDate } from '../base/calendar-date.js';
import { OneOf, Section } from '../base/config-types.js';
import { FacegateError } from '../base/errors.js';
import { isValidTimeZone } from '../base/zoned-time.js';
import type { Assurance } from '../../contract/assurance.js';

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const Clock = (description: string, fallback?: string) =>
  Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', description, ...(fallback ? { default: fallback } : {}) });
const Minutes = (description: string, fallback?: number) =>
  Type.Integer({ minimum: 0, maximum: 1440, description, ...(fallback !== undefined ? { default: fallback } : {}) });

/** The fields of a shift; with defaults for a group's shift, without for a person's partial override. */
function shiftFields(withDefaults: boolean) {
  const d = <T>(v: T): T | undefined => (withDefaults ? v : undefined);
  return {
    weekdays: Type.Array(OneOf(WEEKDAYS), {
      uniqueItems: true,
      maxItems: 7,
      description: 'Days the shift starts on (a night shift belongs to the day it starts).',
      ...(withDefaults ? { default: ['mon', 'tue', 'wed', 'thu', 'fri'] } : {}),
    }),
    start: Clock('Shift start, local time HH:MM.', d('09:00')),
    end: Clock('Shift end, local time HH:MM; at or before start means the next day (night shift).', d('17:00')),
    grace_min: Minutes('A check-in after start + grace is late.', d(5)),
    early_leave_min: Minutes('A check-out more than this before end is an early leave.', d(0)),
    checkin_window_min: Minutes('Check-ins count for the shift from this long before start.', d(60)),
    checkout_window_min: Minutes('Check-outs count for the shift until this long after end; then the last sighting becomes the check-out.', d(240)),
    overtime_after_min: Minutes('Overtime is reported only when the check-out is at least this long after end.', d(30)),
    half_day_below_min: Minutes('In the end-of-day summary, fewer worked minutes than this is a half day.', d(240)),
    absent_below_min: Minutes('In the end-of-day summary, fewer worked minutes than this (or no check-in) is absent.', d(60)),
  };
}

export const ShiftSchema = Type.Object(shiftFields(true), { additionalProperties: false, default: {} });
export type Shift = Static<typeof ShiftSchema>;
export const ShiftOverrideSchema = Type.Partial(Type.Object(shiftFields(false), { additionalProperties: false }));
export type ShiftOverride = Static<typeof ShiftOverrideSchema>;

const CAMERA_ROLES = ['entry', 'exit', 'both'] as const;
export const CameraRoleSchema = OneOf(CAMERA_ROLES);
export type CameraRole = Static<typeof CameraRoleSchema>;

/**
 * What a sighting must be proven by to become a check-in or check-out (contract/assurance.ts), the
 * strongest first: `stereo` (two cameras of a door), `live` (the single camera's cues), `recognised`
 * (named, not proven). `reviewed` is no requirement: only a person's review gives it.
 */
export const REQUIREMENTS = ['stereo', 'live', 'recognised'] as const satisfies readonly Assurance[];
const RequirementSchema = OneOf(REQUIREMENTS);
export type Requirement = Static<typeof RequirementSchema>;

export const AttendanceConfigSchema = Section(
  {
    enabled: Type.Boolean({ default: true, description: 'Turn live recognitions into check-ins and check-outs.' }),
    time_zone: Type.String({ default: 'UTC', description: "IANA time zone of the site, e.g. 'Europe/Berlin'; shift times are read in it." }),
    cooldown_s: Type.Integer({ minimum: 0, maximum: 86_400, default: 300, description: 'A person seen again by the same camera within this many seconds is not processed again.' }),
    default_camera_role: OneOf(CAMERA_ROLES, { default: 'both', description: 'Role of cameras not listed in camera_roles.' }),
    camera_roles: Type.Record(Type.String(), CameraRoleSchema, {
      maxProperties: 1000,
      default: {},
      description: "Role per camera name: 'entry' sightings check in, 'exit' sightings check out, 'both' does both (last sighting → check-out).",
    }),
    require: OneOf(REQUIREMENTS, {
      default: 'live',
      description:
        "What proves a sighting enough to check in or out, site-wide: 'stereo' (two cameras of a door saw a 3D face), 'live' (the single camera's liveness cues), 'recognised' (named, nothing proven). A sighting below it is still a recognition on the timeline, with its assurance, and never a check-in or check-out by itself.",
    }),
    door_require: Type.Record(Type.String(), RequirementSchema, {
      maxProperties: 1000,
      default: {},
      description: 'The requirement per door name (doors:), for every camera of that door; replaces require there.',
    }),
    camera_require: Type.Record(Type.String(), RequirementSchema, {
      maxProperties: 1000,
      default: {},
      description: "The requirement per camera name; replaces require and the camera's door_require.",
    }),
    shifts: Type.Record(Type.String(), ShiftSchema, {
      maxProperties: 1000,
      default: { default: {} },
      description: "Shift per group name; 'default' applies to persons without a group or with a group not listed.",
    }),
    person_overrides: Type.Record(Type.String(), ShiftOverrideSchema, {
      maxProperties: 100_000,
      default: {},
      description: 'Per person id, fields that replace those of the group shift.',
    }),
    holidays: Type.Array(CalendarDate(), {
      default: [],
      uniqueItems: true,
      maxItems: 3660,
      description: "Local dates 'YYYY-MM-DD' on which no shift starts (sightings are still recorded, as unscheduled).",
    }),
  },
  'Attendance: camera roles, shifts per group, grace, overtime and holidays.',
);
export type AttendanceConfig = Static<typeof AttendanceConfigSchema>;

/** What the rules engine needs; also what the `attendance/shifts` command replaces at run time. */
export interface ShiftRules {
  timeZone: string;
  shifts: Readonly<Record<string, Shift>>;
  personOverrides: Readonly<Record<string, ShiftOverride>>;
  holidays: ReadonlySet<string>;
}

/** What the schema cannot say: the zone must be one Intl knows. */
export function checkAttendanceConfig(c: AttendanceConfig): void {
  if (!isValidTimeZone(c.time_zone)) {
    throw new FacegateError(
      'FG_ERR_CONFIG',
      `invalid config: attendance.time_zone: unknown IANA time zone ${JSON.stringify(c.time_zone)}`,
      "use a zone name such as 'Europe/Berlin', 'America/New_York' or 'UTC'",
    );
  }
}

export function shiftRulesFromConfig(c: AttendanceConfig): ShiftRules {
  return { timeZone: c.time_zone, shifts: c.shifts, personOverrides: c.person_overrides, holidays: new Set(c.holidays) };
}
