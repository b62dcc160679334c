import { openDatabase, type Database } from '../daemon/store/database.js';
import type { Migration } from '../daemon/store/migrate.js';
import { feedEntryTopic, type FeedEntry, type FeedKey, type FeedSealed, type FeedSealedV1 } from '../contract/feed.js';

/**
 * The central's gallery feed, in an SQLite file of its own (feed.database): each site's log of
 * entries as signed, the persons it holds (their clear state, from which an update is encrypted
 * again: personal data, kept like the timesheets), the content keys of the site and its groups of
 * boxes (as readable as the persons they encrypt), and the retained messages still to publish.
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
  {
    version: 2,
    description: 'central feed: content keys per site or group of boxes, key entries in the log',
    up(db) {
      // The log's kinds gain 'key', which a CHECK cannot be altered to: the table is made again.
      // Entries written before keep v = 1 (each sealed to every box), and stay valid until the
      // central writes their persons again under the site's key.
      db.exec(`
        CREATE TABLE feed_entries_v2 (
          site TEXT NOT NULL,
          seq INTEGER NOT NULL,
          prev INTEGER NOT NULL,
          v INTEGER NOT NULL CHECK (v IN (1, 2)),
          kind TEXT NOT NULL CHECK (kind IN ('enrol', 'update', 'erase', 'key')),
          person TEXT NOT NULL,
          key_id TEXT,
          time TEXT NOT NULL,
          sealed TEXT,
          live INTEGER NOT NULL DEFAULT 1,
          PRIMARY KEY (site, seq)
        ) STRICT;
        INSERT INTO feed_entries_v2 (site, seq, prev, v, kind, person, key_id, time, sealed, live)
          SELECT site, seq, prev, 1, kind, person, NULL, time, sealed, live FROM feed_entries;
        DROP TABLE feed_entries;
        ALTER TABLE feed_entries_v2 RENAME TO feed_entries;
        CREATE INDEX feed_entries_live ON feed_entries (site, live, seq);
        CREATE INDEX feed_entries_key ON feed_entries (site, key_id, live);
        CREATE TABLE feed_keys (
          site TEXT NOT NULL,
          id TEXT NOT NULL,
          scope TEXT NOT NULL,
          key BLOB NOT NULL CHECK (length(key) = 32),
          boxes TEXT NOT NULL,
          seq INTEGER NOT NULL,
          current INTEGER NOT NULL CHECK (current IN (0, 1)),
          PRIMARY KEY (site, id)
        ) STRICT;
        CREATE UNIQUE INDEX feed_keys_current ON feed_keys (site, scope) WHERE current = 1;
      `);
    },
  },
];

/** A content key of a site: for every box of the site (`scope` 'site') or for a group of them (`scope` the group's device ids as JSON). */
export interface FeedKeyRow {
  id: string;
  scope: string;
  key: Uint8Array;
  /** The boxes its live key entry wraps it to. */
  boxes: string[];
  /** Its live key entry. */
  seq: number;
  current: boolean;
}

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
  v: 1 | 2;
  kind: FeedEntry['kind'];
  /** The person's uuid; a key entry's key id. */
  person: string;
  /** The content key a person's entry is under, or a key entry's own; null for an erasure and the first format. */
  keyId: string | null;
}

interface EntryRow {
  seq: number;
  prev: number;
  v: 1 | 2;
  kind: FeedEntry['kind'];
  person: string;
  time: string;
  sealed: string | null;
}

/** An entry as it is signed, from its row and the site. */
function entryOf(site: string, r: EntryRow): FeedEntry {
  const head = { site, seq: r.seq, prev: r.prev, time: r.time };
  if (r.kind === 'key') return { v: 2, ...head, kind: 'key', key: JSON.parse(r.sealed!) as FeedKey };
  const sealed = r.sealed !== null ? { sealed: JSON.parse(r.sealed) as unknown } : {};
  return r.v === 1
    ? { v: 1, ...head, kind: r.kind, person: r.person, ...(sealed as { sealed?: FeedSealedV1 }) }
    : { v: 2, ...head, kind: r.kind, person: r.person, ...(sealed as { sealed?: FeedSealed }) };
}

type Sign = (entry: FeedEntry) => string;

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

  /** The boxes of the site the keys were last wrapped for; undefined before the first entry. */
  sitesBoxes(site: string): string[] | undefined {
    const row = this.db.prepare('SELECT boxes FROM feed_sites WHERE site = ?').get(site) as { boxes: string } | undefined;
    return row ? (JSON.parse(row.boxes) as string[]) : undefined;
  }

  /** The highest number of the site's log; 0 before any. */
  head(site: string): number {
    return (this.db.prepare('SELECT COALESCE(MAX(seq), 0) AS n FROM feed_entries WHERE site = ?').get(site) as { n: number }).n;
  }

  /** The entries the broker holds for the site, in order. */
  live(site: string): LoggedEntry[] {
    return this.db.prepare('SELECT seq, prev, v, kind, person, key_id AS keyId FROM feed_entries WHERE site = ? AND live = 1 ORDER BY seq').all(site) as LoggedEntry[];
  }

  /** The site's live content keys (those its live entries use, and the current ones). */
  keys(site: string): FeedKeyRow[] {
    return (this.db.prepare('SELECT id, scope, key, boxes, seq, current FROM feed_keys WHERE site = ? ORDER BY seq').all(site) as { id: string; scope: string; key: Buffer; boxes: string; seq: number; current: number }[]).map((r) => ({
      id: r.id,
      scope: r.scope,
      key: new Uint8Array(r.key),
      boxes: JSON.parse(r.boxes) as string[],
      seq: r.seq,
      current: r.current === 1,
    }));
  }

  /** The key new entries of the scope are encrypted under; undefined before the first, or after a rotation. */
  currentKey(site: string, scope: string): FeedKeyRow | undefined {
    return this.keys(site).find((k) => k.current && k.scope === scope);
  }

  /** The persons of the site whose live entry is still of the first format. */
  firstFormat(site: string): number {
    return (this.db.prepare("SELECT COUNT(*) AS n FROM feed_entries WHERE site = ? AND live = 1 AND v = 1 AND kind != 'erase'").get(site) as { n: number }).n;
  }

  /** A person's boxes, as the site's boxes now are (one of theirs taken off the site). */
  setBoxes(site: string, externalId: string, boxes: string[] | undefined): void {
    this.db.prepare('UPDATE feed_people SET boxes = ? WHERE site = ? AND external_id = ?').run(boxes ? JSON.stringify(boxes) : null, site, externalId);
  }

  /** The boxes of the site now, once the keys follow them. */
  setSiteBoxes(site: string, boxes: readonly string[]): void {
    this.db.prepare('INSERT INTO feed_sites (site, boxes) VALUES (?, ?) ON CONFLICT (site) DO UPDATE SET boxes = excluded.boxes').run(site, JSON.stringify(boxes));
  }

  /**
   * Appends an entry to the site's log in one transaction: the person's older entry leaves the log
   * (its retained message cleared) and the entry after it is signed again past it; the new entry
   * follows the last; keys no live entry uses any more leave the log too. `person` is the person's
   * row after the change (undefined: erased); `sealed` encrypts their state for the entry's number.
   * Returns the entry's number. Nothing is published here: `pending` lists what is to be, until
   * `published`.
   */
  append(o: {
    site: string;
    root: string;
    kind: 'enrol' | 'update' | 'erase';
    person: string;
    externalId: string;
    row: Omit<FeedPersonRow, 'externalId' | 'person'> | undefined;
    sealed: ((seq: number) => FeedSealed) | undefined;
    boxes: readonly string[];
    time: string;
    sign: Sign;
  }): number {
    return this.db.transaction(() => {
      const seq = this.head(o.site) + 1;
      const older = this.db.prepare('SELECT seq, prev FROM feed_entries WHERE site = ? AND person = ? AND live = 1').all(o.site, o.person) as { seq: number; prev: number }[];
      for (const old of older) this.unlink(o.site, o.root, old, o.sign);
      const sealed = o.sealed?.(seq);
      this.insert(o.site, o.root, { seq, prev: this.lastLive(o.site), v: 2, kind: o.kind, person: o.person, time: o.time, sealed: sealed ? JSON.stringify(sealed) : null }, sealed?.key ?? null, o.sign);
      if (o.row) {
        this.db
          .prepare('INSERT INTO feed_people (site, external_id, person, state, boxes) VALUES (?, ?, ?, ?, ?) ON CONFLICT (site, external_id) DO UPDATE SET state = excluded.state, boxes = excluded.boxes')
          .run(o.site, o.externalId, o.person, o.row.state, o.row.boxes ? JSON.stringify(o.row.boxes) : null);
      } else {
        // Erased for good: enrolled again, they are a new person to every box.
        this.db.prepare('DELETE FROM feed_people WHERE site = ? AND person = ?').run(o.site, o.person);
      }
      this.setSiteBoxes(o.site, o.boxes);
      this.retireKeys(o.site, o.root, o.sign);
      return seq;
    }).immediate();
  }

  /**
   * A new content key of the site (or of a group of its boxes), in a key entry appended to the log:
   * the scope's key from now on; the one before it stays while live entries use it.
   */
  addKey(o: { site: string; root: string; scope: string; key: Uint8Array; wrapped: FeedKey; time: string; sign: Sign }): number {
    return this.db.transaction(() => {
      const seq = this.head(o.site) + 1;
      this.insert(o.site, o.root, { seq, prev: this.lastLive(o.site), v: 2, kind: 'key', person: o.wrapped.id, time: o.time, sealed: JSON.stringify(o.wrapped) }, o.wrapped.id, o.sign);
      this.db.prepare('UPDATE feed_keys SET current = 0 WHERE site = ? AND scope = ?').run(o.site, o.scope);
      this.db.prepare('INSERT INTO feed_keys (site, id, scope, key, boxes, seq, current) VALUES (?, ?, ?, ?, ?, ?, 1)').run(o.site, o.wrapped.id, o.scope, Buffer.from(o.key), JSON.stringify(Object.keys(o.wrapped.wraps)), seq);
      this.retireKeys(o.site, o.root, o.sign);
      return seq;
    }).immediate();
  }

  /** The scope's key no longer used for new entries (a box of it left, or an admin asked); the next entry of the scope makes another. */
  retireCurrent(site: string, scope: string): void {
    this.db.prepare('UPDATE feed_keys SET current = 0 WHERE site = ? AND scope = ?').run(site, scope);
  }

  /**
   * A live key entry wrapped again, in its place: same number, same key, another set of boxes. A box
   * added to the site reads it where it stands, before the entries that use the key; the boxes that
   * applied it already take it as no news.
   */
  rewrapKey(site: string, root: string, id: string, wrapped: FeedKey, sign: Sign): void {
    this.db.transaction(() => {
      const k = this.db.prepare('SELECT seq FROM feed_keys WHERE site = ? AND id = ?').get(site, id) as { seq: number } | undefined;
      if (!k) return;
      this.db.prepare('UPDATE feed_entries SET sealed = ? WHERE site = ? AND seq = ?').run(JSON.stringify(wrapped), site, k.seq);
      this.db.prepare('UPDATE feed_keys SET boxes = ? WHERE site = ? AND id = ?').run(JSON.stringify(Object.keys(wrapped.wraps)), site, id);
      const row = this.db.prepare('SELECT seq, prev, v, kind, person, time, sealed FROM feed_entries WHERE site = ? AND seq = ?').get(site, k.seq) as EntryRow;
      this.toPublish(feedEntryTopic(root, site, k.seq), sign(entryOf(site, row)));
    }).immediate();
  }

  private lastLive(site: string): number {
    return (this.db.prepare('SELECT COALESCE(MAX(seq), 0) AS n FROM feed_entries WHERE site = ? AND live = 1').get(site) as { n: number }).n;
  }

  private insert(site: string, root: string, row: EntryRow, keyId: string | null, sign: Sign): void {
    this.db.prepare('INSERT INTO feed_entries (site, seq, prev, v, kind, person, key_id, time, sealed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)').run(site, row.seq, row.prev, row.v, row.kind, row.person, keyId, row.time, row.sealed);
    this.toPublish(feedEntryTopic(root, site, row.seq), sign(entryOf(site, row)));
  }

  /** Keys that are no scope's current one and that no live entry of a person uses leave the log: no box needs them any more. */
  private retireKeys(site: string, root: string, sign: Sign): void {
    const unused = this.db
      .prepare("SELECT k.id, k.seq FROM feed_keys k WHERE k.site = ? AND k.current = 0 AND NOT EXISTS (SELECT 1 FROM feed_entries e WHERE e.site = k.site AND e.key_id = k.id AND e.live = 1 AND e.kind != 'key')")
      .all(site) as { id: string; seq: number }[];
    for (const k of unused) {
      const entry = this.db.prepare('SELECT seq, prev FROM feed_entries WHERE site = ? AND seq = ? AND live = 1').get(site, k.seq) as { seq: number; prev: number } | undefined;
      if (entry) this.unlink(site, root, entry, sign);
      this.db.prepare('DELETE FROM feed_keys WHERE site = ? AND id = ?').run(site, k.id);
    }
  }

  /**
   * Erasures every box of the site confirmed leave the log (their retained messages cleared, the
   * entries after them signed again past them): no box needs them any more, and a new box has no
   * one to erase. Returns how many left.
   */
  retire(site: string, root: string, seqs: readonly number[], sign: Sign): number {
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
  private unlink(site: string, root: string, old: { seq: number; prev: number }, sign: Sign): void {
    this.db.prepare('UPDATE feed_entries SET live = 0, sealed = NULL WHERE site = ? AND seq = ?').run(site, old.seq);
    this.toPublish(feedEntryTopic(root, site, old.seq), '');
    const next = this.db.prepare('SELECT seq, prev, v, kind, person, time, sealed FROM feed_entries WHERE site = ? AND live = 1 AND seq > ? ORDER BY seq LIMIT 1').get(site, old.seq) as EntryRow | undefined;
    if (!next) return;
    this.db.prepare('UPDATE feed_entries SET prev = ? WHERE site = ? AND seq = ?').run(old.prev, site, next.seq);
    this.toPublish(feedEntryTopic(root, site, next.seq), sign(entryOf(site, { ...next, prev: old.prev })));
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
