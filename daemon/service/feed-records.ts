// What a box keeps of the gallery feed: how far it applied each site's feed, which persons came from
// it (a person's source: 'feed' here, 'local' otherwise), the signed entries it refused, and the
// content keys it opened (sealed as the gallery's cells are). In the service layer beside the person use cases that write it in their transactions.
import type { Database, Statement } from 'better-sqlite3';
import type { FeedRefusal } from '../../contract/feed.js';
import type { CellRef, Sealer } from '../gallery/seal.js';
import type { SealedCellSource } from '../gallery/sealed-cells.js';

/** A person's source: enrolled on this box (any local door), or by the central through a site's feed. */
export type PersonSource = { kind: 'local' } | { kind: 'feed'; site: string; seq: number };

/** The refusals a report names, newest last; older ones are dropped as new ones come. */
export const FEED_REFUSALS_KEPT = 100;

export class FeedRecords {
  private readonly getApplied: Statement<[string]>;
  private readonly setApplied: Statement<[string, number, number]>;
  private readonly getPerson: Statement<[string]>;
  private readonly putPerson: Statement<[string, string, number]>;
  private readonly dropPerson: Statement<[string]>;
  private readonly putRefusal: Statement<[string, number, string, number]>;
  private readonly trimRefusals: Statement<[string, string, number]>;

  constructor(private readonly db: Database) {
    this.getApplied = db.prepare('SELECT applied FROM feed_state WHERE site = ?');
    this.setApplied = db.prepare('INSERT INTO feed_state (site, applied, updated_ms) VALUES (?, ?, ?) ON CONFLICT (site) DO UPDATE SET applied = excluded.applied, updated_ms = excluded.updated_ms');
    this.getPerson = db.prepare('SELECT site, seq FROM feed_persons WHERE person_id = ?');
    this.putPerson = db.prepare('INSERT INTO feed_persons (person_id, site, seq) VALUES (?, ?, ?) ON CONFLICT (person_id) DO UPDATE SET site = excluded.site, seq = excluded.seq');
    this.dropPerson = db.prepare('DELETE FROM feed_persons WHERE person_id = ?');
    this.putRefusal = db.prepare('INSERT OR REPLACE INTO feed_refusals (site, seq, reason, at_ms) VALUES (?, ?, ?, ?)');
    this.trimRefusals = db.prepare('DELETE FROM feed_refusals WHERE site = ? AND seq NOT IN (SELECT seq FROM feed_refusals WHERE site = ? ORDER BY seq DESC LIMIT ?)');
  }

  /** The last entry of the site's feed this box is done with; 0 before any. */
  applied(site: string): number {
    return (this.getApplied.get(site) as { applied: number } | undefined)?.applied ?? 0;
  }

  /** Inside the transaction that applied (or refused) entry `seq`. */
  advance(site: string, seq: number, nowMs: number): void {
    this.setApplied.run(site, seq, nowMs);
  }

  sourceOf(personId: string): PersonSource {
    const row = this.getPerson.get(personId) as { site: string; seq: number } | undefined;
    return row ? { kind: 'feed', site: row.site, seq: row.seq } : { kind: 'local' };
  }

  fromFeed(personId: string, site: string, seq: number): void {
    this.putPerson.run(personId, site, seq);
  }

  /** A person erased (by the feed or at a local door): no longer from the feed. */
  forget(personId: string): void {
    this.dropPerson.run(personId);
  }

  countFromFeed(site: string): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM feed_persons WHERE site = ?').get(site) as { n: number }).n;
  }

  refused(site: string, seq: number, reason: FeedRefusal, nowMs: number): void {
    this.putRefusal.run(site, seq, reason, nowMs);
    this.trimRefusals.run(site, site, FEED_REFUSALS_KEPT);
  }

  refusals(site: string): { seq: number; reason: FeedRefusal }[] {
    return this.db.prepare('SELECT seq, reason FROM feed_refusals WHERE site = ? ORDER BY seq').all(site) as { seq: number; reason: FeedRefusal }[];
  }
}

/** The content keys of the feed this box opened, each sealed as a gallery cell is. */
export class FeedKeys {
  constructor(
    private readonly db: Database,
    private readonly sealer: Sealer,
  ) {}

  /**
   * A content key of the site's feed: its bytes (the caller zeroes them), null when its key entry
   * wraps nothing to this box, undefined when no key entry of it came. Throws TamperError when the
   * sealed key does not open where it is.
   */
  keyOf(site: string, id: string): Uint8Array | null | undefined {
    const row = this.db.prepare('SELECT sealed FROM feed_keys WHERE site = ? AND key_id = ?').get(site, id) as { sealed: Buffer | null } | undefined;
    if (!row) return undefined;
    return row.sealed === null ? null : this.sealer.open(keyCell(site, id), row.sealed);
  }

  /** Keeps a key of a key entry (null: not for this box); a key held is never replaced, nor taken back by a later entry without one. */
  put(site: string, id: string, key: Uint8Array | null, seq: number, nowMs: number): boolean {
    const row = this.db.prepare('SELECT sealed FROM feed_keys WHERE site = ? AND key_id = ?').get(site, id) as { sealed: Buffer | null } | undefined;
    if (row && (row.sealed !== null || key === null)) return false;
    this.db
      .prepare('INSERT INTO feed_keys (site, key_id, sealed, seq, at_ms) VALUES (?, ?, ?, ?, ?) ON CONFLICT (site, key_id) DO UPDATE SET sealed = excluded.sealed, seq = excluded.seq, at_ms = excluded.at_ms')
      .run(site, id, key === null ? null : this.sealer.seal(keyCell(site, id), key), seq, nowMs);
    return true;
  }
}

const keyCell = (site: string, id: string): CellRef => ({ table: 'feed_keys', column: 'sealed', rowId: `${site}/${id}`, personId: '' });

/** The kept keys among the state file's sealed cells: checked by `gallery verify`, sealed again by `keys rotate --reencrypt`. */
export const FEED_KEY_CELLS: SealedCellSource = {
  *cells(db) {
    const rows = db.prepare('SELECT site, key_id, sealed FROM feed_keys WHERE sealed IS NOT NULL ORDER BY site, key_id').iterate() as Iterable<{ site: string; key_id: string; sealed: Buffer }>;
    for (const r of rows) yield { ref: keyCell(r.site, r.key_id), value: r.sealed };
  },
  reseal(db, ref, plain, to) {
    const rowId = String(ref.rowId);
    const cut = rowId.indexOf('/');
    db.prepare('UPDATE feed_keys SET sealed = ? WHERE site = ? AND key_id = ?').run(Buffer.from(to.seal(ref, plain)), rowId.slice(0, cut), rowId.slice(cut + 1));
  },
};
