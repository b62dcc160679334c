// The attendance tables as the state file's migrations leave them, for tests that open a database
// of their own beside the events' tables rather than the whole state file.
import type { Database } from 'better-sqlite3';
import { createAttendanceTables } from '../../daemon/store/schema/attendance.js';
import { createAttendanceCooldownTable } from '../../daemon/store/schema/attendance-cooldown.js';
import { addAttendanceRetractionTrack, createAttendanceRetractionsTable } from '../../daemon/store/schema/attendance-retractions.js';
import { createAttendanceUpgradesTable } from '../../daemon/store/schema/attendance-upgrades.js';
import { addAttendanceAssurance } from '../../daemon/store/schema/attendance-assurance.js';
import { addArrivalRetracts, createAttendanceArrivalsTables, pendingArrivalPerDay } from '../../daemon/store/schema/attendance-arrivals.js';
import { addAttendanceDoors } from '../../daemon/store/schema/attendance-doors.js';
import { addAttendanceLiveness } from '../../daemon/store/schema/attendance-liveness.js';

/** Every attendance table at its newest; a second call on the same file (a restart) changes nothing. */
export function createAttendanceSchema(db: Database): void {
  createAttendanceTables(db);
  createAttendanceCooldownTable(db);
  createAttendanceRetractionsTable(db);
  const hasAssurance = db.prepare("SELECT 1 FROM pragma_table_info('attendance_days') WHERE name = 'last_seen_assurance'").get() !== undefined;
  if (!hasAssurance) addAttendanceAssurance(db);
  createAttendanceArrivalsTables(db);
  const hasDoors = db.prepare("SELECT 1 FROM pragma_table_info('attendance_days') WHERE name = 'last_seen_door'").get() !== undefined;
  if (!hasDoors) addAttendanceDoors(db);
  const hasTrack = db.prepare("SELECT 1 FROM pragma_table_info('attendance_retractions') WHERE name = 'track'").get() !== undefined;
  if (!hasTrack) addAttendanceRetractionTrack(db);
  createAttendanceUpgradesTable(db);
  const hasRetracts = db.prepare("SELECT 1 FROM pragma_table_info('attendance_arrivals') WHERE name = 'retracts'").get() !== undefined;
  if (!hasRetracts) addArrivalRetracts(db);
  const pendingPerDay = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'attendance_arrivals_pending_per_day'").get() !== undefined;
  if (!pendingPerDay) pendingArrivalPerDay(db);
  const hasLiveness = db.prepare("SELECT 1 FROM pragma_table_info('attendance_days') WHERE name = 'last_seen_liveness'").get() !== undefined;
  if (!hasLiveness) addAttendanceLiveness(db);
}
