import type { Database, Statement } from 'better-sqlite3';
import type { Subscribable } from '../base/subscribable.js';
import type { CellRef, Sealer } from '../gallery/seal.js';
import type { SealedCellSource } from '../gallery/sealed-cells.js';
import type { TrackEvent } from './events.js';
import { assuranceOf, type TrackAssurance } from './assurance.js';
import { isAssurance } from '../../contract/assurance.js';

/** The decisions the timeline keeps: every way a track ends up decided, not its blinks or starts. */
export const TIMELINE_KINDS = ['recognized', 'unknown', 'unknown_withdrawn', 'spoof_suspected', 'low_quality', 'too_small'] as const;
export type TimelineKind = (typeof TIMELINE_KINDS)[number];
type Decision = Extract<TrackEvent, { type: TimelineKind }>;

export interface TimelineEntry {
  id: number;
  atMs: number;
  camera: string;
  /** The door (doors:) the camera belonged to when it decided; null for a camera in no door. */
  door: string | null;
  kind: TimelineKind;
  personId: string | null;
  anonId: string | null;
  score: number | null;
  /** What the decision rests on: liveness cues, reasons, margin, face size (no crop, no embedding). */
  detail: Record<string, unknown>;
  /** What proved the person there, on a recognition; null on a decision that proves no one (unknown, refused, too small ...). */
  assurance: TrackAssurance | null;
  hasCrop: boolean;
}

export interface TimelineFilter {
  camera?: string;
  personId?: string;
  kind?: TimelineKind;
  fromMs?: number;
  toMs?: number;
  /** Keyset paging: entries older than this id (the last one of the page before). */
  beforeId?: number;
  limit: number;
}

interface Row {
  id: number;
  at_ms: number;
  camera: string;
  kind: TimelineKind;
  person_id: string | null;
  anon_id: string | null;
  score: number | null;
  detail: string;
  has_crop: number;
}

/** Recognised tracks remembered until they end, at most: the cameras' trackers keep far fewer at once. */
const MAX_RUNNING_TRACKS = 4096;

const isDecision = (e: TrackEvent): e is Decision => (TIMELINE_KINDS as readonly string[]).includes(e.type);

/** The place a crop is sealed for: its row, and whom it shows (a person, an anonymous id, or nobody named). */
function cropCell(id: number, personId: string | null, anonId: string | null): CellRef {
  return { table: 'timeline', column: 'crop', rowId: id, personId: personId ?? anonId ?? '' };
}

/** The columns of a decision, and its crop where the tracker kept one. */
function shape(e: Decision): { personId: string | null; anonId: string | null; score: number | null; detail: Record<string, unknown>; crop: Buffer | null } {
  switch (e.type) {
    case 'recognized':
      return { personId: e.person.id, anonId: null, score: e.score, detail: { track: e.track, name: e.person.name, margin: e.margin, live: e.live, liveness: e.liveness, assurance: e.assurance, antispoof: e.antispoof, face_px: e.face_px, ...(e.challenges ? { challenges: e.challenges } : {}) }, crop: e.thumbnail };
    case 'unknown':
      return { personId: null, anonId: e.anon_id, score: e.score, detail: { track: e.track, live: e.live, liveness: e.liveness, antispoof: e.antispoof, face_px: e.face_px }, crop: e.thumbnail };
    case 'unknown_withdrawn':
      return { personId: e.person.id, anonId: e.anon_id, score: e.score, detail: { track: e.track, name: e.person.name, cluster: e.cluster }, crop: null };
    case 'spoof_suspected':
      return { personId: e.person?.id ?? null, anonId: null, score: null, detail: { track: e.track, name: e.person?.name ?? null, reasons: e.reasons, liveness: e.liveness, antispoof: e.antispoof }, crop: null };
    case 'low_quality':
    case 'too_small':
      return { personId: null, anonId: null, score: null, detail: { track: e.track, reason: e.reason }, crop: null };
  }
}

/**
 * Every decision each camera made, with its face crop sealed under the gallery's data key: the
 * console's timeline. Rows are written as the bus delivers decisions (a few per track), read newest
 * first a page at a time, purged by retention and erased with a person.
 */
export class Timeline {
  private readonly insert: Statement;
  private readonly setCrop: Statement<[Buffer, number]>;
  private readonly getCrop: Statement<[number], { crop: Buffer | null; person_id: string | null; anon_id: string | null }>;
  private readonly getDecision: Statement<[number], { camera: string; kind: TimelineKind; person_id: string | null }>;
  private readonly setChallenges: Statement<[string, number]>;
  /** Each running track's last recognition entry, by `camera:track`, until the track ends: where its movements' answers go. */
  private readonly recognitions = new Map<string, number>();

  constructor(
    private readonly db: Database,
    private readonly sealer: Pick<Sealer, 'seal' | 'open'>,
  ) {
    this.insert = db.prepare('INSERT INTO timeline (at_ms, camera, kind, person_id, anon_id, score, detail) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.setCrop = db.prepare('UPDATE timeline SET crop = ? WHERE id = ?');
    this.getCrop = db.prepare('SELECT crop, person_id, anon_id FROM timeline WHERE id = ?');
    this.getDecision = db.prepare('SELECT camera, kind, person_id FROM timeline WHERE id = ?');
    this.setChallenges = db.prepare("UPDATE timeline SET detail = json_set(detail, '$.challenges', json(?)) WHERE id = ?");
  }

  /** Which camera decided an entry, what, and whom it named; undefined where the entry is gone. */
  decisionOf(id: number): { camera: string; kind: TimelineKind; personId: string | null } | undefined {
    const row = Number.isSafeInteger(id) ? this.getDecision.get(id) : undefined;
    return row && { camera: row.camera, kind: row.kind, personId: row.person_id };
  }

  /**
   * Keeps one decision (other track events are not decisions and are left out); returns its id.
   * A movement a door display asked for is often answered after the track was decided live (its
   * turn moved the landmarks as a face first): the track's end brings every answer to its last
   * recognition's entry, so that the decision keeps what was asked, when, and what came of it.
   */
  record(e: TrackEvent & { atMs: number }): number | undefined {
    const key = `${e.camera}:${e.track}`;
    if (e.type === 'track_ended') {
      const id = this.recognitions.get(key);
      this.recognitions.delete(key);
      if (id !== undefined && e.challenges) this.setChallenges.run(JSON.stringify(e.challenges), id);
      return undefined;
    }
    if (!isDecision(e)) return undefined;
    const s = shape(e);
    // The door rides in the detail, as the assurance does: an entry from before doors has none.
    const detail = e.door !== undefined ? { ...s.detail, door: e.door } : s.detail;
    const id = this.db.transaction(() => {
      const id = Number(this.insert.run(e.atMs, e.camera, e.type, s.personId, s.anonId, s.score, JSON.stringify(detail)).lastInsertRowid);
      if (s.crop) this.setCrop.run(Buffer.from(this.sealer.seal(cropCell(id, s.personId, s.anonId), s.crop)), id);
      return id;
    })();
    if (e.type === 'recognized') {
      this.recognitions.delete(key);
      this.recognitions.set(key, id);
      if (this.recognitions.size > MAX_RUNNING_TRACKS) this.recognitions.delete(this.recognitions.keys().next().value!);
    }
    return id;
  }

  /** Newest first, filtered in SQL with bound parameters. */
  list(f: TimelineFilter): TimelineEntry[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    const add = (clause: string, value: string | number | undefined) => {
      if (value === undefined) return;
      where.push(clause);
      args.push(value);
    };
    add('camera = ?', f.camera);
    add('person_id = ?', f.personId);
    add('kind = ?', f.kind);
    add('at_ms >= ?', f.fromMs);
    add('at_ms < ?', f.toMs);
    add('id < ?', f.beforeId);
    const rows = this.db
      .prepare(`SELECT id, at_ms, camera, kind, person_id, anon_id, score, detail, crop IS NOT NULL AS has_crop FROM timeline ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`)
      .all(...args, f.limit) as Row[];
    return rows.map((r) => {
      const detail = JSON.parse(r.detail) as Record<string, unknown>;
      const door = typeof detail.door === 'string' ? detail.door : null;
      return { id: r.id, atMs: r.at_ms, camera: r.camera, door, kind: r.kind, personId: r.person_id, anonId: r.anon_id, score: r.score, detail, assurance: assuranceIn(r.kind, detail), hasCrop: r.has_crop === 1 };
    });
  }

  /** An entry's face crop, opened for this one answer; undefined where it has none. */
  crop(id: number): Buffer | undefined {
    const row = this.getCrop.get(id);
    if (!row?.crop) return undefined;
    return Buffer.from(this.sealer.open(cropCell(id, row.person_id, row.anon_id), row.crop));
  }

  /** Keeps each decision on the bus, as the stage 'timeline'; returns the unsubscribe. */
  subscribe(bus: Subscribable<{ track: TrackEvent & { atMs: number } }>): () => void {
    return bus.on('track', 'timeline', (e) => void this.record(e));
  }
}

/**
 * A recognition's assurance as its entry keeps it. Entries written before recognitions carried one
 * keep what it was derived from (whether the track was live, its cues), so the one rule gives it.
 */
function assuranceIn(kind: TimelineKind, detail: Record<string, unknown>): TrackAssurance | null {
  if (kind !== 'recognized') return null;
  if (isAssurance(detail.assurance) && detail.assurance !== 'reviewed') return detail.assurance;
  const liveness = detail.liveness as { score?: unknown; stereo?: unknown } | undefined;
  return assuranceOf(detail.live === true, { score: Number(liveness?.score ?? 0), ...(typeof liveness?.stereo === 'number' ? { stereo: liveness.stereo } : {}) });
}

/** Retention: entries (and their crops) older than `beforeMs`. */
export function purgeTimelineBefore(db: Database, beforeMs: number): number {
  return db.prepare('DELETE FROM timeline WHERE at_ms < ?').run(beforeMs).changes;
}

/** Erasure: every entry that names the person. */
export function eraseTimelineOf(db: Database, personId: string): number {
  return db.prepare('DELETE FROM timeline WHERE person_id = ?').run(personId).changes;
}

/** The sealed crops, for `gallery verify` and `keys rotate --reencrypt`. */
export const TIMELINE_SEALED_CELLS: SealedCellSource = {
  *cells(db) {
    const rows = db.prepare('SELECT id, person_id, anon_id, crop FROM timeline WHERE crop IS NOT NULL ORDER BY id').iterate() as Iterable<{ id: number; person_id: string | null; anon_id: string | null; crop: Buffer }>;
    for (const r of rows) yield { ref: cropCell(r.id, r.person_id, r.anon_id), value: r.crop };
  },
  reseal(db, ref, plain, to) {
    db.prepare('UPDATE timeline SET crop = ? WHERE id = ?').run(Buffer.from(to.seal(ref, plain)), ref.rowId);
  },
};
