import type { SealedCellSource } from '../gallery/sealed-cells.js';
import { proofCell } from './proof-sealer.js';

/** The sealed proof thumbnails of check-ins and check-outs, for gallery verify and key re-encryption. */
export const ATTENDANCE_PROOF_CELLS: SealedCellSource = {
  *cells(db) {
    const rows = db
      .prepare(
        `SELECT p.record_id, p.kind, p.sealed, d.person_id FROM attendance_proofs p
         JOIN attendance_days d ON d.record_id = p.record_id ORDER BY p.record_id, p.kind`,
      )
      .iterate() as Iterable<{ record_id: string; kind: 'check_in' | 'check_out'; sealed: Buffer; person_id: string }>;
    for (const row of rows) {
      yield { ref: proofCell({ recordId: row.record_id, personId: row.person_id, kind: row.kind }), value: row.sealed };
    }
  },
  reseal(db, ref, plain, to) {
    const kind = ref.column.replace(/^attendance_/, '');
    db.prepare('UPDATE attendance_proofs SET sealed = ? WHERE record_id = ? AND kind = ?').run(Buffer.from(to.seal(ref, plain)), ref.rowId, kind);
  },
};
