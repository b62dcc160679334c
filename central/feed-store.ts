import { openDatabase, type Database } from '../daemon/store/database.js';
import type { Migration } from '../daemon/store/migrate.js';
import { feedEntryTopic, type FeedEntry, type FeedSealed } from '../contract/feed.js';

/**
 * The central's gallery feed, in an SQLite file of its own (feed.database): each site's log of
 * entries as signed, the persons it holds (their clear state, from which an update is sealed
 * again: personal data, kept like the timesheets), and the retained messages still to publish.
 *
 * The log is compacted as it grows: a person's new entry takes the place of their older one, whose
 * retained message is cleared; the entry after the removed one is signed again with `prev` past
 * it. So the broker holds one entry per person of the site and one per erasure, and a box that
 * was away for days, or a new one, reads that and nothing older.
 */
export const FEED_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'central feed: entries per site, persons, retained messages to publish',
    up(db) {
      db.exec(`
        CREATE TABLE feed_entries (
          site TEXT NOT NULL,
          seq INTEGER NOT NULL,
          prev INTEGER NOT NULL,
          kind TEXT NOT NULL CHECK (kind IN ('enrol', 'update', 'erase')),
          person TEXT NOT NULL,
          time TEXT NOT NULL,
          sealed TEXT,
          live INTEGER NOT NULL DEFAULT 1,
          PRIMARY KEY (site, seq)
        ) STRICT;
        CREATE INDEX feed_entries_live ON feed_entries (site, live, seq);
        CREATE TABLE feed_people (
          site TEXT NOT NULL,
          external_id TEXT NOT NULL,
          person TEXT NOT NULL UNIQUE,
          state TEXT NOT NULL,
          boxes TEXT,
          PRIMARY KEY (site, external_id)
        ) STRICT;
        CREATE TABLE feed_publish (
          topic TEXT PRIMARY KEY,
          message TEXT NOT NULL
        ) STRICT;
        CREATE TABLE feed_sites (
          site TEXT PRIMARY KEY,
          boxes TEXT NOT NULL
        ) STRICT;
      `);
    },
  },
];

/** A person of a site as the central holds them. */
export interface FeedPersonRow {
  externalId: string;
  person: string;
  /** The clear state sealed into their entries (FeedPerson's JSON). */
  state: string;
  /** The boxes of the site they are sealed to; undefined: every box of the site. */
  boxes: string[] | undefined;
}

export interface LoggedEntry {
  seq: number;
  prev: number;
  kind: FeedEntry['kind'];
  person: string;
}

export class FeedStore {
  private constructor(private readonly db: Database) {}

  static open(path: string): FeedStore {
    return new FeedStore(openDatabase(path, { migrations: FEED_MIGRATIONS }));
  }

  close(): void {
    this.db.close();
  }

  personOf(site: string, externalId: string): FeedPersonRow | undefined {
    const row = this.db.prepare('SELECT external_id, person, state, boxes FROM feed_people WHERE site = ? AND external_id = ?').get(site, externalId) as
      | { external_id: string; person: string; state: string; boxes: string | null }
      | undefined;
    return row ? { externalId: row.external_id, person: row.person, state: row.state, boxes: row.boxes === null ? undefined : (JSON.parse(row.boxes) as string[]) } : undefined;
  }

  people(site: string): FeedPersonRow[] {
    return (this.db.prepare('SELECT external_id, person, state, boxes FROM feed_people WHERE site = ? ORDER BY external_id').all(site) as { external_id: string; person: string; state: string; boxes: string | null }[]).map((row) => ({
      externalId: row.external_id,
      person: row.person,
      state: row.state,
      boxes: row.boxes === null ? undefined : (JSON.parse(row.boxes) as string[]),
    }));
  }

  /** The boxes the site's persons were last sealed to; undefined before the first entry. */
  sealedTo(site: string): string[] | undefined {
    const row = this.db.prepare('SELECT boxes FROM feed_sites WHERE site = ?').get(site) as { boxes: string } | undefined;
    return row ? (JSON.parse(row.boxes) as string[]) : undefined;
  }

  /** The highest number of the site's log; 0 before any. */
  head(site: string): number {
    return (this.db.prepare('SELECT COALESCE(MAX(seq), 0) AS n FROM feed_entries WHERE site = ?').get(site) as { n: number }).n;
  }

  /** The entries the broker holds for the site, in order. */
  live(site: string): LoggedEntry[] {
    return this.db.prepare('SELECT seq, prev, kind, person FROM feed_entries WHERE site = ? AND live = 1 ORDER BY seq').all(site) as LoggedEntry[];
  }

  /**
   * Appends an entry to the site's log in one transaction: the person's older entry leaves the log
   * (its retained message cleared) and the entry after it is signed again past it; the new entry
   * follows the last. `person` is the person's row after the change (undefined: erased). Returns
   * the entry's number. Nothing is published here: `pending` lists what is to be, until `published`.
   */
  append(o: {
    site: string;
    root: string;
    kind: FeedEntry['kind'];
    person: string;
    externalId: string;
    row: Omit<FeedPersonRow, 'externalId' | 'person'> | undefined;
    sealed: FeedSealed | undefined;
    boxes: readonly string[];
    time: string;
    sign: (entry: FeedEntry) => string;
  }): number {
    return this.db.transaction(() => {
      const seq = this.head(o.site) + 1;
      const older = this.db.prepare('SELECT seq, prev FROM feed_entries WHERE site = ? AND person = ? AND live = 1').all(o.site, o.person) as { seq: number; prev: number }[];
      for (const old of older) this.unlink(o.site, o.root, old, o.sign);
      const last = this.db.prepare('SELECT COALESCE(MAX(seq), 0) AS n FROM feed_entries WHERE site = ? AND live = 1').get(o.site) as { n: number };
      const entry: FeedEntry = { v: 1, site: o.site, seq, prev: last.n, kind: o.kind, person: o.person, time: o.time, ...(o.sealed ? { sealed: o.sealed } : {}) };
      this.db.prepare('INSERT INTO feed_entries (site, seq, prev, kind, person, time, sealed) VALUES (?, ?, ?, ?, ?, ?, ?)').run(o.site, seq, entry.prev, o.kind, o.person, o.time, o.sealed ? JSON.stringify(o.sealed) : null);
      this.toPublish(feedEntryTopic(o.root, o.site, seq), o.sign(entry));
      if (o.row) {
        this.db
          .prepare('INSERT INTO feed_people (site, external_id, person, state, boxes) VALUES (?, ?, ?, ?, ?) ON CONFLICT (site, external_id) DO UPDATE SET state = excluded.state, boxes = excluded.boxes')
          .run(o.site, o.externalId, o.person, o.row.state, o.row.boxes ? JSON.stringify(o.row.boxes) : null);
      } else {
        // Erased for good: enrolled again, they are a new person to every box.
        this.db.prepare('DELETE FROM feed_people WHERE site = ? AND person = ?').run(o.site, o.person);
      }
      this.db.prepare('INSERT INTO feed_sites (site, boxes) VALUES (?, ?) ON CONFLICT (site) DO UPDATE SET boxes = excluded.boxes').run(o.site, JSON.stringify(o.boxes));
      return seq;
    }).immediate();
  }

  /**
   * Erasures every box of the site confirmed leave the log (their retained messages cleared, the
   * entries after them signed again past them): no box needs them any more, and a new box has no
   * one to erase. Returns how many left.
   */
  retire(site: string, root: string, seqs: readonly number[], sign: (entry: FeedEntry) => string): number {
    return this.db.transaction(() => {
      let n = 0;
      for (const seq of seqs) {
        const row = this.db.prepare("SELECT seq, prev FROM feed_entries WHERE site = ? AND seq = ? AND live = 1 AND kind = 'erase'").get(site, seq) as { seq: number; prev: number } | undefined;
        if (!row) continue;
        this.unlink(site, root, row, sign);
        n++;
      }
      return n;
    }).immediate();
  }

  /** An entry out of the log: its retained message cleared, the next one signed again to follow the one before it. */
  private unlink(site: string, root: string, old: { seq: number; prev: number }, sign: (entry: FeedEntry) => string): void {
    this.db.prepare('UPDATE feed_entries SET live = 0, sealed = NULL WHERE site = ? AND seq = ?').run(site, old.seq);
    this.toPublish(feedEntryTopic(root, site, old.seq), '');
    const next = this.db.prepare('SELECT seq, kind, person, time, sealed FROM feed_entries WHERE site = ? AND live = 1 AND seq > ? ORDER BY seq LIMIT 1').get(site, old.seq) as
      | { seq: number; kind: FeedEntry['kind']; person: string; time: string; sealed: string | null }
      | undefined;
    if (!next) return;
    this.db.prepare('UPDATE feed_entries SET prev = ? WHERE site = ? AND seq = ?').run(old.prev, site, next.seq);
    const entry: FeedEntry = { v: 1, site, seq: next.seq, prev: old.prev, kind: next.kind, person: next.person, time: next.time, ...(next.sealed !== null ? { sealed: JSON.parse(next.sealed) as FeedSealed } : {}) };
    this.toPublish(feedEntryTopic(root, site, next.seq), sign(entry));
  }

  private toPublish(topic: string, message: string): void {
    this.db.prepare('INSERT INTO feed_publish (topic, message) VALUES (?, ?) ON CONFLICT (topic) DO UPDATE SET message = excluded.message').run(topic, message);
  }

  /** Retained messages written and not yet acknowledged by the broker, oldest first. */
  pending(): { topic: string; message: string }[] {
    return this.db.prepare('SELECT topic, message FROM feed_publish ORDER BY rowid').all() as { topic: string; message: string }[];
  }

  /** Acknowledged by the broker, unless the same topic was written again meanwhile. */
  published(topic: string, message: string): void {
    this.db.prepare('DELETE FROM feed_publish WHERE topic = ? AND message = ?').run(topic, message);
  }
}
