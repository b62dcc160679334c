// What a box keeps of the gallery feed: how far it applied each site's feed, which persons came from
// it (a person's source: 'feed' here, 'local' otherwise), and the signed entries it refused. In the
// service layer beside the person use cases that write it in their transactions.
import type { Database, Statement } from 'better-sqlite3';
import type { FeedRefusal } from '../../contract/feed.js';

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
