import type { Migration } from './migrate.js';
import { GALLERY_MIGRATION_1 } from './schema/gallery.js';
import { EVENTS_MIGRATION_2 } from './schema/outbox.js';
import { ATTENDANCE_MIGRATION_3 } from './schema/attendance.js';
import { OPS_AUDIT_MIGRATION } from './schema/audit.js';
import { TRACK_UNKNOWN_SIGHTINGS_MIGRATION, TRACK_UNKNOWNS_MIGRATION } from './schema/unknowns.js';
import { EVENTS_DAY_COUNTERS_MIGRATION } from './schema/day-counters.js';
import { WEB_ACCOUNT_IDS_MIGRATION, WEB_USERS_MIGRATION } from './schema/web.js';
import { GALLERY_GENERATION_MIGRATION } from './schema/gallery-generation.js';
import { EVENTS_COMMAND_PENDING_MIGRATION } from './schema/command-pending.js';
import { ATTENDANCE_COOLDOWN_MIGRATION } from './schema/attendance-cooldown.js';
import { TIMELINE_MIGRATION } from './schema/timeline.js';
import { EVENT_REPLAY_MIGRATION } from './schema/event-replay.js';
import { ATTENDANCE_RETRACTION_TRACK_MIGRATION, ATTENDANCE_RETRACTIONS_MIGRATION } from './schema/attendance-retractions.js';
import { ATTENDANCE_ASSURANCE_MIGRATION } from './schema/attendance-assurance.js';
import { DISPLAY_PHOTO_MIGRATION, DISPLAY_TOKENS_MIGRATION } from './schema/display.js';
import { ATTENDANCE_ARRIVAL_RETRACTS_MIGRATION, ATTENDANCE_ARRIVALS_MIGRATION, ATTENDANCE_PENDING_ARRIVAL_MIGRATION } from './schema/attendance-arrivals.js';
import { ATTENDANCE_DOORS_MIGRATION } from './schema/attendance-doors.js';
import { ATTENDANCE_UPGRADES_MIGRATION } from './schema/attendance-upgrades.js';
import { FEED_KEYS_MIGRATION, FEED_MIGRATION } from './schema/feed.js';
import { ATTENDANCE_LIVENESS_MIGRATION } from './schema/attendance-liveness.js';

/**
 * Every schema step of the daemon's one state file, oldest first. Versions are the positions
 * (1, 2, ...); a step, once released, is never edited: fix forward with a new one.
 */
export const MIGRATIONS: readonly Migration[] = [
  GALLERY_MIGRATION_1,
  EVENTS_MIGRATION_2,
  ATTENDANCE_MIGRATION_3,
  OPS_AUDIT_MIGRATION,
  TRACK_UNKNOWNS_MIGRATION,
  EVENTS_DAY_COUNTERS_MIGRATION,
  WEB_USERS_MIGRATION,
  TRACK_UNKNOWN_SIGHTINGS_MIGRATION,
  GALLERY_GENERATION_MIGRATION,
  WEB_ACCOUNT_IDS_MIGRATION,
  EVENTS_COMMAND_PENDING_MIGRATION,
  ATTENDANCE_COOLDOWN_MIGRATION,
  TIMELINE_MIGRATION,
  EVENT_REPLAY_MIGRATION,
  ATTENDANCE_RETRACTIONS_MIGRATION,
  ATTENDANCE_ASSURANCE_MIGRATION,
  DISPLAY_TOKENS_MIGRATION,
  ATTENDANCE_ARRIVALS_MIGRATION,
  ATTENDANCE_DOORS_MIGRATION,
  ATTENDANCE_RETRACTION_TRACK_MIGRATION,
  ATTENDANCE_UPGRADES_MIGRATION,
  DISPLAY_PHOTO_MIGRATION,
  FEED_MIGRATION,
  ATTENDANCE_ARRIVAL_RETRACTS_MIGRATION,
  ATTENDANCE_PENDING_ARRIVAL_MIGRATION,
  FEED_KEYS_MIGRATION,
  ATTENDANCE_LIVENESS_MIGRATION,
  // New migrations are appended here, one per change, with the next version number.
];
