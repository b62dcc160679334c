import type { Database } from 'better-sqlite3';
import type { Logger } from '../base/log.js';
import type { EventWriter } from '../events/writer.js';
import { uuidv7Generator } from '../base/uuidv7.js';
import { checkAttendanceConfig, type AttendanceConfig } from './config.js';
import type { CellSealer, ProofSealer } from './proof-sealer.js';
import { ArrivalStore } from './arrivals.js';
import { RulesHolder } from './rules-holder.js';
import { AttendanceStage, type AttendanceStageOptions, type RosterPerson } from './stage.js';
import { AttendanceStore } from './store.js';
import { requirementOf } from './requirement.js';
import { doorOfCamera, type DoorConfig } from '../camera/config.js';

export interface AttendanceParts {
  stage: AttendanceStage;
  rules: RulesHolder;
  store: AttendanceStore;
  /** Unverified arrivals, kept by the stage and decided by the review service. */
  arrivals: ArrivalStore;
}

/** Builds the attendance stage from its config section (for the composition root). */
export function createAttendance(o: {
  config: AttendanceConfig;
  /** The doors the daemon runs with: a door's requirement holds for its cameras. */
  doors: readonly DoorConfig[];
  db: Database;
  writer: EventWriter;
  sealer: ProofSealer;
  /** Seals the face crops of unverified arrivals (the gallery's sealer, as proofs). */
  cellSealer: CellSealer;
  roster: () => readonly RosterPerson[];
  logger: Logger;
  now?: () => number;
  onSighting?: AttendanceStageOptions['onSighting'];
  onRefusedByReview?: AttendanceStageOptions['onRefusedByReview'];
}): AttendanceParts {
  checkAttendanceConfig(o.config);
  const now = o.now ?? Date.now;
  const store = new AttendanceStore(o.db);
  const rules = new RulesHolder(o.config, store);
  const arrivals = new ArrivalStore(o.db, o.cellSealer);
  const stage = new AttendanceStage({
    store,
    writer: o.writer,
    sealer: o.sealer,
    arrivals,
    rules: () => rules.current(),
    roleOf: (camera) => o.config.camera_roles[camera] ?? o.config.default_camera_role,
    requireOf: requirementOf(o.config, o.doors),
    doorOf: doorOfCamera(o.doors),
    cooldownMs: o.config.cooldown_s * 1000,
    roster: o.roster,
    newId: uuidv7Generator(now),
    now,
    logger: o.logger,
    ...(o.onSighting ? { onSighting: o.onSighting } : {}),
    ...(o.onRefusedByReview ? { onRefusedByReview: o.onRefusedByReview } : {}),
  });
  return { stage, rules, store, arrivals };
}
