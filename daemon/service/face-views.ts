import type { Database } from 'better-sqlite3';
import { sealedProof } from '../attendance/history.js';
import { gallerySealerForProofs } from '../attendance/proof-sealer.js';
import type { Sealer } from '../gallery/seal.js';
import { Timeline } from '../track/timeline.js';
import type { Actor, AuditLog } from './audit.js';

export interface FaceViewsOptions {
  /** The state file, whose timeline and attendance stages keep the sealed faces. */
  db: Database;
  sealer: Pick<Sealer, 'seal' | 'open'>;
  audit: Pick<AuditLog, 'append'>;
}

/**
 * Faces kept by the stages and opened for an operator: a decision's face crop on the timeline, the
 * proof image behind a check-in or check-out. A face is personal data, so each look is one audit
 * entry with the actor the door names, whichever door asked (the console's pictures, a teach from a
 * sighting). Nothing is audited where there is no face to show: the door answers that it is not
 * there.
 */
export class FaceViews {
  private readonly timeline: Pick<Timeline, 'crop' | 'decisionOf'>;
  private readonly proofs: ReturnType<typeof gallerySealerForProofs>;

  constructor(private readonly o: FaceViewsOptions) {
    this.timeline = new Timeline(o.db, o.sealer);
    this.proofs = gallerySealerForProofs(o.sealer);
  }

  /** A timeline entry's face crop as JPEG; undefined where the entry kept none (or is gone). */
  crop(entryId: number, by: Actor): Buffer | undefined {
    const jpeg = Number.isSafeInteger(entryId) && entryId >= 1 ? this.timeline.crop(entryId) : undefined;
    if (jpeg) this.o.audit.append({ ...by, action: 'timeline.crop.view', target: String(entryId), detail: {}, outcome: 'ok' });
    return jpeg;
  }

  /** What a timeline entry decided (no face in it: nothing to audit), for what teaching from it says of the camera. */
  decisionOf(entryId: number): ReturnType<Timeline['decisionOf']> {
    return this.timeline.decisionOf(entryId);
  }

  /** A day's check-in or check-out proof image as JPEG; undefined where that day has none. */
  proof(recordId: string, kind: 'check_in' | 'check_out', by: Actor): Buffer | undefined {
    const row = sealedProof(this.o.db, recordId, kind);
    if (!row) return undefined;
    const jpeg = Buffer.from(this.proofs.open({ recordId, personId: row.personId, kind }, row.sealed));
    this.o.audit.append({ ...by, action: 'proof.view', target: row.personId, detail: { record: recordId, kind }, outcome: 'ok' });
    return jpeg;
  }
}
