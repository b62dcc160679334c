import { randomBytes } from 'node:crypto';
import { normalise } from './fusion.js';

/** One of an unknown person's best frames: what promotion to an enrolled person needs. */
export interface UnknownFrame {
  embedding: Float32Array;
  quality: number;
}

/** Where and when an unknown person was seen: one per track decided unknown. */
export interface UnknownSighting {
  camera: string;
  /** Seconds of the registry's clock. */
  at: number;
}

/** What one track gave an unknown person (`UnknownRegistry.join`): what `withdraw` takes back. */
export interface UnknownShare {
  readonly id: string;
  /** A copy of the fused embedding added to the cluster's sum. */
  readonly fused: Float32Array;
  /** The frames given, as the cluster holds them (those it kept). */
  readonly frames: readonly UnknownFrame[];
  readonly sighting: UnknownSighting;
}

/** Norm of a cluster's sum below which no track's embedding is left in it, only rounding. */
const EMPTY_SUM = 1e-3;

/** Sightings kept per unknown person, the newest: enough to see a pattern, bounded in the state file. */
export const MAX_SIGHTINGS = 50;

interface Cluster {
  id: string;
  sum: Float64Array;
  firstSeen: number;
  lastSeen: number;
  frames: UnknownFrame[];
  /** Oldest first, at most MAX_SIGHTINGS. */
  sightings: UnknownSighting[];
  /** JPEG of the face from the unknown event, proof of who a promoted person was. */
  thumbnail: Buffer | null;
}

export interface UnknownPerson {
  frames: UnknownFrame[];
  thumbnail: Buffer | null;
}

/** A cluster as it is kept across restarts; times in seconds of the registry's clock. */
export type UnknownSnapshot = Readonly<Cluster>;

/** Where the daemon keeps its unknown persons (daemon/track/unknown-store.ts). */
export interface UnknownPersistence {
  save(cluster: UnknownSnapshot): void;
  remove(id: string): void;
}

/**
 * The daemon's registry: dated by the wall clock (seconds), and kept across restarts when a store
 * is given (the clusters it starts with, and where each change is written). Track times are per
 * camera and restart at 0 with the process, so a registry shared by cameras cannot use them.
 */
export interface WallClockUnknowns {
  clock: () => number;
  initial?: readonly UnknownSnapshot[];
  store?: UnknownPersistence;
}

export interface UnknownRules {
  similarity: number;
  retentionS: number;
  /** Best frames kept per unknown person. */
  maxFrames: number;
}

/**
 * Unknown persons seen by the cameras, each an anonymous id with the running sum of its tracks'
 * fused embeddings. A new unknown track joins the most similar cluster at or above the similarity,
 * else starts one, so the same stranger keeps one id. Clusters not seen for the retention time are
 * forgotten. Dated by the caller's times (seconds, so a scan of a file is repeatable) and kept in
 * memory, unless `wall` is given: then dated by its clock, and each change written to its store.
 */
export class UnknownRegistry {
  private readonly clusters = new Map<string, Cluster>();

  constructor(
    private readonly rules: UnknownRules,
    private readonly newId: () => string = () => `anon-${randomBytes(4).toString('hex')}`,
    private readonly wall?: WallClockUnknowns,
  ) {
    for (const c of wall?.initial ?? []) this.clusters.set(c.id, { ...c, frames: [...c.frames], sightings: [...c.sightings] });
  }

  /**
   * The anonymous id for a track's fused embedding, with its best frames added to the cluster and
   * the track counted as one sighting on its camera (`seen.t` is the track's time, used when the
   * registry has no wall clock).
   */
  assign(fused: Float32Array, seen: { camera: string; t: number }, frames: readonly UnknownFrame[] = []): string {
    return this.join(fused, seen, frames).id;
  }

  /** As `assign`, with what the track gave the cluster, so that `withdraw` can take it back. */
  join(fused: Float32Array, seen: { camera: string; t: number }, frames: readonly UnknownFrame[] = []): UnknownShare {
    const now = this.wall ? this.wall.clock() : seen.t;
    this.expire(now);
    let best: Cluster | undefined;
    let bestScore = -Infinity;
    for (const c of this.clusters.values()) {
      const centre = normalise(c.sum);
      let dot = 0;
      for (let i = 0; i < fused.length; i++) dot += centre[i]! * fused[i]!;
      if (dot > bestScore) {
        bestScore = dot;
        best = c;
      }
    }
    const cluster = best && bestScore >= this.rules.similarity ? best : this.create(fused.length, now);
    for (let i = 0; i < fused.length; i++) cluster.sum[i]! += fused[i]!;
    cluster.lastSeen = now;
    const sighting = { camera: seen.camera, at: now };
    cluster.sightings.push(sighting);
    cluster.sightings.splice(0, cluster.sightings.length - MAX_SIGHTINGS);
    const kept = [...cluster.frames, ...frames].sort((a, b) => b.quality - a.quality);
    for (const f of kept.slice(this.rules.maxFrames)) f.embedding.fill(0);
    cluster.frames = kept.slice(0, this.rules.maxFrames);
    this.wall?.store?.save(cluster);
    return { id: cluster.id, fused: Float32Array.from(fused), frames: [...frames], sighting };
  }

  /**
   * Takes back what one track gave its unknown person, once the track turned out to be an enrolled
   * person: an unknown person must not keep that person's face (a promotion would enrol it under a
   * second name). Its sum, its frames and its sighting leave the cluster, and the thumbnail too,
   * since it may be this track's face. A cluster left with no other track's embedding is forgotten
   * ('removed'); one that holds other tracks stays ('kept'); 'gone' when it was already forgotten
   * (expired, promoted).
   */
  withdraw(share: UnknownShare): 'removed' | 'kept' | 'gone' {
    const cluster = this.clusters.get(share.id);
    const taken = new Set(share.frames);
    for (const f of share.frames) f.embedding.fill(0);
    if (!cluster) {
      share.fused.fill(0);
      return 'gone';
    }
    let norm = 0;
    for (let i = 0; i < share.fused.length; i++) {
      cluster.sum[i]! -= share.fused[i]!;
      norm += cluster.sum[i]! * cluster.sum[i]!;
    }
    share.fused.fill(0);
    cluster.frames = cluster.frames.filter((f) => !taken.has(f));
    cluster.sightings = cluster.sightings.filter((s) => s !== share.sighting);
    cluster.thumbnail = null;
    // Each track adds a unit vector, and the tracks of one cluster point the same way (they joined at
    // unknown_similarity or more): what is left of another track is far above this; of none, rounding.
    if (Math.sqrt(norm) < EMPTY_SUM) {
      this.forget(cluster);
      return 'removed';
    }
    this.wall?.store?.save(cluster);
    return 'kept';
  }

  has(id: string): boolean {
    return this.clusters.has(id);
  }

  get size(): number {
    return this.clusters.size;
  }

  /** Who is known now, newest sighting first, each with its sightings newest first (times in seconds of the registry's clock). */
  list(): { id: string; firstSeen: number; lastSeen: number; frames: number; hasThumbnail: boolean; sightings: UnknownSighting[] }[] {
    return [...this.clusters.values()]
      .map((c) => ({ id: c.id, firstSeen: c.firstSeen, lastSeen: c.lastSeen, frames: c.frames.length, hasThumbnail: c.thumbnail !== null, sightings: [...c.sightings].reverse() }))
      .sort((a, b) => b.lastSeen - a.lastSeen);
  }

  setThumbnail(id: string, jpeg: Buffer): void {
    const cluster = this.clusters.get(id);
    if (!cluster) return;
    cluster.thumbnail = jpeg;
    this.wall?.store?.save(cluster);
  }

  /** An unknown person's best frames (best first) and thumbnail, left in the registry. */
  get(id: string): UnknownPerson | undefined {
    const cluster = this.clusters.get(id);
    return cluster ? { frames: [...cluster.frames], thumbnail: cluster.thumbnail } : undefined;
  }

  /** Takes an unknown person out of the registry for enrolment: its best frames, best first. */
  take(id: string): UnknownPerson | undefined {
    const cluster = this.clusters.get(id);
    if (!cluster) return undefined;
    this.clusters.delete(id);
    this.wall?.store?.remove(id);
    return { frames: cluster.frames, thumbnail: cluster.thumbnail };
  }

  /** Forgets clusters not seen for the retention time before `now` (seconds of the registry's clock). */
  expire(now: number): void {
    for (const c of this.clusters.values()) if (now - c.lastSeen > this.rules.retentionS) this.forget(c);
  }

  private forget(c: Cluster): void {
    c.sum.fill(0);
    for (const f of c.frames) f.embedding.fill(0);
    this.clusters.delete(c.id);
    this.wall?.store?.remove(c.id);
  }

  private create(dim: number, now: number): Cluster {
    let id = this.newId();
    while (this.clusters.has(id)) id = this.newId();
    const c: Cluster = { id, sum: new Float64Array(dim), firstSeen: now, lastSeen: now, frames: [], sightings: [], thumbnail: null };
    this.clusters.set(id, c);
    return c;
  }
}
