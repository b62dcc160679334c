import type { Database } from 'better-sqlite3';
import type { EventWriter } from '../events/writer.js';
import { QUARANTINE_CELLS_MAX } from '../../contract/alerts.js';
import type { QuarantinedPerson } from '../gallery/gallery.js';
import type { AuditLog } from './audit.js';

/**
 * Persons announced one by one at a start. A gallery copied whole from another box quarantines
 * everyone; past this many the rest are only counted (the log and /metrics give the total) rather
 * than flooding the audit log and the alerts at every restart.
 */
export const QUARANTINE_ANNOUNCED_MAX = 100;

/**
 * At each daemon start, for each quarantined person (a gallery row that failed authentication):
 * an audit entry and a signed `alerts/quarantine` event, written in one transaction so that the
 * record and the alert exist together. Ids only: a damaged row's name cannot be trusted, nor shown.
 * Returns how many persons were announced.
 */
export function announceQuarantine(quarantined: readonly QuarantinedPerson[], db: Database, audit: AuditLog, writer: EventWriter): number {
  const announced = quarantined.slice(0, QUARANTINE_ANNOUNCED_MAX);
  for (const q of announced) {
    const cells = q.cells.map((c) => ({ table: c.table, column: c.column, row: c.rowId, kind: c.kind }));
    const listed = cells.slice(0, QUARANTINE_CELLS_MAX);
    db.transaction(() => {
      audit.append({ actor: 'daemon', role: 'admin', action: 'gallery.quarantine', target: q.personId, detail: { cells: listed, cells_total: cells.length }, outcome: 'failed' });
      writer.write('quarantine', { type: 'quarantine', person_id: q.personId, cells: listed, cells_total: cells.length });
    }).immediate();
  }
  return announced.length;
}
