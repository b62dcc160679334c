import type { Database } from 'better-sqlite3';
import { TamperError, type CellRef, type Sealer } from '../gallery/seal.js';
import type { SealedCellSource } from '../gallery/sealed-cells.js';
import type { Logger } from '../base/log.js';
import type { TrackConfig } from './config.js';
import { MAX_SIGHTINGS, UnknownRegistry, type UnknownFrame, type UnknownPersistence, type UnknownSighting, type UnknownSnapshot } from './unknowns.js';

type UnknownColumn = 'sum' | 'frames' | 'thumbnail';
const COLUMNS: readonly UnknownColumn[] = ['sum', 'frames', 'thumbnail'];

/** The place a cluster's sealed value is bound to: its row, the anonymous id standing for the person. */
export function unknownCell(anonId: string, column: UnknownColumn): CellRef {
  return { table: 'unknown_persons', column, rowId: anonId, personId: anonId };
}

interface Row {
  anon_id: string;
  first_seen_ms: number;
  last_seen_ms: number;
  sum: Buffer;
  frames: Buffer;
  thumbnail: Buffer | null;
  sightings: string;
}

/**
 * The daemon's unknown persons in the state file, sealed with the gallery's sealer. Writes never
 * throw: a failed write is logged and the cluster lives on in memory, since a camera must not stop
 * over it (the next change writes the whole cluster again).
 */
export class UnknownStore implements UnknownPersistence {
  constructor(
    private readonly db: Database,
    private readonly sealer: Pick<Sealer, 'seal' | 'open'>,
    private readonly logger: Logger,
  ) {}

  /** Every cluster that authenticates; the anonymous ids of those that do not (left in the file for `gallery verify`). */
  load(): { clusters: UnknownSnapshot[]; damaged: string[] } {
    const clusters: UnknownSnapshot[] = [];
    const damaged: string[] = [];
    for (const row of this.db.prepare('SELECT * FROM unknown_persons ORDER BY first_seen_ms').all() as Row[]) {
      try {
        clusters.push(this.open(row));
      } catch (e) {
        if (!(e instanceof TamperError)) throw e;
        damaged.push(row.anon_id);
        this.logger.warn({ stage: 'track', anon_id: row.anon_id }, 'unknown person failed authentication; left out');
      }
    }
    return { clusters, damaged };
  }

  save(c: UnknownSnapshot): void {
    this.guard(c.id, 'saved', () => {
      const sum = new Uint8Array(c.sum.buffer.slice(c.sum.byteOffset, c.sum.byteOffset + c.sum.byteLength));
      const frames = encodeFrames(c.frames);
      const seal = (column: UnknownColumn, plain: Uint8Array) => Buffer.from(this.sealer.seal(unknownCell(c.id, column), plain));
      this.db
        .prepare(
          `INSERT INTO unknown_persons (anon_id, first_seen_ms, last_seen_ms, sum, frames, thumbnail, sightings) VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (anon_id) DO UPDATE SET last_seen_ms = excluded.last_seen_ms, sum = excluded.sum, frames = excluded.frames, thumbnail = excluded.thumbnail, sightings = excluded.sightings`,
        )
        .run(c.id, Math.round(c.firstSeen * 1000), Math.round(c.lastSeen * 1000), seal('sum', sum), seal('frames', frames), c.thumbnail ? seal('thumbnail', c.thumbnail) : null, encodeSightings(c.sightings));
      sum.fill(0);
      frames.fill(0);
    });
  }

  remove(id: string): void {
    this.guard(id, 'removed', () => this.db.prepare('DELETE FROM unknown_persons WHERE anon_id = ?').run(id));
  }

  private open(row: Row): UnknownSnapshot {
    const open = (column: UnknownColumn, value: Buffer) => this.sealer.open(unknownCell(row.anon_id, column), value);
    const sumBytes = open('sum', row.sum);
    const sum = new Float64Array(sumBytes.buffer.slice(sumBytes.byteOffset, sumBytes.byteOffset + sumBytes.byteLength));
    sumBytes.fill(0);
    const framesBytes = open('frames', row.frames);
    const frames = decodeFrames(framesBytes);
    framesBytes.fill(0);
    const thumbnail = row.thumbnail ? Buffer.from(open('thumbnail', row.thumbnail)) : null;
    const sightings = decodeSightings(row.sightings);
    if (sightings === undefined) this.logger.warn({ stage: 'track', anon_id: row.anon_id }, "unknown person's sightings unreadable in the state file; starting them afresh");
    return { id: row.anon_id, firstSeen: row.first_seen_ms / 1000, lastSeen: row.last_seen_ms / 1000, sum, frames, thumbnail, sightings: sightings ?? [] };
  }

  private guard(id: string, what: string, fn: () => unknown): void {
    try {
      fn();
    } catch (e) {
      this.logger.error({ stage: 'track', anon_id: id, err: (e as Error).message }, `unknown person not ${what} in the state file; kept in memory`);
    }
  }
}

export function encodeSightings(sightings: readonly UnknownSighting[]): string {
  return JSON.stringify(sightings.map((s) => ({ camera: s.camera, at_ms: Math.round(s.at * 1000) })));
}

/**
 * The sightings column read back, or undefined when it is not what encodeSightings writes: the
 * file may have been edited by hand, and a bad column must cost only that column.
 */
export function decodeSightings(text: string): UnknownSighting[] | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value)) return undefined;
  const out: UnknownSighting[] = [];
  for (const item of value.slice(-MAX_SIGHTINGS) as unknown[]) {
    if (typeof item !== 'object' || item === null) return undefined;
    const { camera, at_ms: atMs } = item as Record<string, unknown>;
    if (typeof camera !== 'string' || camera.length > 200 || typeof atMs !== 'number' || !Number.isFinite(atMs)) return undefined;
    out.push({ camera, at: atMs / 1000 });
  }
  return out;
}

/** count, dim, then per frame its quality and embedding; little-endian float32. */
export function encodeFrames(frames: readonly UnknownFrame[]): Uint8Array {
  const dim = frames[0]?.embedding.length ?? 0;
  const out = new Uint8Array(8 + frames.length * (1 + dim) * 4);
  const view = new DataView(out.buffer);
  view.setUint32(0, frames.length, true);
  view.setUint32(4, dim, true);
  let at = 8;
  for (const f of frames) {
    view.setFloat32(at, f.quality, true);
    at += 4;
    for (let i = 0; i < dim; i++, at += 4) view.setFloat32(at, f.embedding[i] ?? 0, true);
  }
  return out;
}

export function decodeFrames(bytes: Uint8Array): UnknownFrame[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(0, true);
  const dim = view.getUint32(4, true);
  const frames: UnknownFrame[] = [];
  let at = 8;
  for (let n = 0; n < count; n++) {
    const quality = view.getFloat32(at, true);
    at += 4;
    const embedding = new Float32Array(dim);
    for (let i = 0; i < dim; i++, at += 4) embedding[i] = view.getFloat32(at, true);
    frames.push({ embedding, quality });
  }
  return frames;
}

/** The clusters' sealed cells, for `gallery verify` and `keys rotate --reencrypt`. */
export const UNKNOWN_SEALED_CELLS: SealedCellSource = {
  *cells(db) {
    for (const row of db.prepare('SELECT anon_id, sum, frames, thumbnail FROM unknown_persons ORDER BY anon_id').iterate() as Iterable<Pick<Row, 'anon_id' | UnknownColumn>>) {
      for (const column of COLUMNS) {
        const value = row[column];
        if (value !== null) yield { ref: unknownCell(row.anon_id, column), value };
      }
    }
  },
  reseal(db, ref, plain, to) {
    const column = COLUMNS.find((c) => c === ref.column);
    if (!column) throw new Error(`unknown_persons has no sealed column ${ref.column}`);
    db.prepare(`UPDATE unknown_persons SET ${column} = ? WHERE anon_id = ?`).run(Buffer.from(to.seal(ref, plain)), ref.rowId);
  },
};

export interface DaemonUnknownsOptions {
  track: Pick<TrackConfig, 'unknown_similarity' | 'unknown_retention_s' | 'best_k'>;
  retention: { readonly unknown_thumbnail_days: number };
  db: Database;
  sealer: Pick<Sealer, 'seal' | 'open'>;
  logger: Logger;
  /** Wall clock, ms. */
  now: () => number;
}

/**
 * The daemon's registry of unknown persons, loaded from the state file and written through, dated
 * by the wall clock. An id lives at most `retention.unknown_thumbnail_days` (the purge deletes the
 * rows then); with 0 nothing is written to the file and ids live in memory for `unknown_retention_s`.
 */
export function daemonUnknowns(o: DaemonUnknownsOptions): UnknownRegistry {
  const days = o.retention.unknown_thumbnail_days;
  const rules = { similarity: o.track.unknown_similarity, maxFrames: o.track.best_k };
  const clock = () => o.now() / 1000;
  if (days === 0) return new UnknownRegistry({ ...rules, retentionS: o.track.unknown_retention_s }, undefined, { clock });
  const store = new UnknownStore(o.db, o.sealer, o.logger);
  const { clusters, damaged } = store.load();
  const registry = new UnknownRegistry({ ...rules, retentionS: Math.min(o.track.unknown_retention_s, days * 86_400) }, undefined, { initial: clusters, store, clock });
  registry.expire(clock());
  o.logger.info({ stage: 'track', unknown_persons: registry.size, damaged: damaged.length }, 'unknown persons loaded');
  return registry;
}

/** Retention: unknown persons not seen since `beforeMs` (their sealed embeddings and face crop) lose their anonymous id. */
export function purgeUnknownPersonsBefore(db: Database, beforeMs: number): number {
  return db.prepare('DELETE FROM unknown_persons WHERE last_seen_ms < ?').run(beforeMs).changes;
}
