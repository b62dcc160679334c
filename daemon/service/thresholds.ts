import type { Database } from 'better-sqlite3';
import type { CameraThresholds, MatchRules } from '../track/thresholds.js';
import { auditingFailure, type Actor, type AuditLog } from './audit.js';

export interface ThresholdServiceOptions {
  db: Database;
  thresholds: Pick<CameraThresholds, 'change'>;
  audit: Pick<AuditLog, 'append'>;
}

/**
 * A camera's match threshold and margin set on site (the console's thresholds page), or taken back
 * to the config's: the row and its audit entry in one transaction, with the actor the door names.
 */
export class ThresholdService {
  constructor(private readonly o: ThresholdServiceOptions) {}

  set(camera: string, rules: MatchRules | null, by: Actor): void {
    auditingFailure(this.o.audit, 'threshold.set', by, camera, () =>
      this.o.thresholds.change(camera, rules, by.actor, (write) =>
        this.o.db
          .transaction(() => {
            write();
            this.o.audit.append({ ...by, action: 'threshold.set', target: camera, detail: rules ? { threshold: rules.threshold, margin: rules.margin } : { rules: 'config' }, outcome: 'ok' });
          })
          .immediate(),
      ),
    );
  }
}
