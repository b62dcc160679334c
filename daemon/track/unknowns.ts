import { randomBytes } from 'node:crypto';
import { normalise } from './fusion.js';

/** One of an unknown person's best frames: what promotion to an enrolled person needs. */
export interface UnknownFrame {
  embedding: Float32Array;
  quality: number;
}

interface Cluster {
  id: string;
  sum: Float64Array;
  lastSeen: number;
  frames: UnknownFrame[];
  /** JPEG of the face from the unknown event, proof of who a promoted person was. */
  thumbnail: Buffer | null;
}

export interface UnknownPerson {
  frames: UnknownFrame[];
  thumbnail: Buffer | null;
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
 * else starts one, so the same stranger keeps one id. Memory only; clusters not seen for the
 * retention time are forgotten. Times are the caller's (seconds), so tests can drive them.
 */
export class UnknownRegistry {
  private readonly clusters = new Map<string, Cluster>();

  constructor(
    private readonly rules: UnknownRules,
    private readonly newId: () => string = () => `anon-${randomBytes(4).toString('hex')}`,
  ) {}

  /** The anonymous id for a track's fused embedding, with its best frames added to the cluster. */
  assign(fused: Float32Array, now: number, frames: readonly UnknownFrame[] = []): string {
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
    const cluster = best && bestScore >= this.rules.similarity ? best : this.create(fused.length);
    for (let i = 0; i < fused.length; i++) cluster.sum[i]! += fused[i]!;
    cluster.lastSeen = now;
    cluster.frames = [...cluster.frames, ...frames].sort((a, b) => b.quality - a.quality).slice(0, this.rules.maxFrames);
    return cluster.id;
  }

  has(id: string): boolean {
    return this.clusters.has(id);
  }

  get size(): number {
    return this.clusters.size;
  }

  setThumbnail(id: string, jpeg: Buffer): void {
    const c = this.clusters.get(id);
    if (c) c.thumbnail = jpeg;
  }

  /** Takes an unknown person out of the registry for enrolment: its best frames, best first. */
  take(id: string): UnknownPerson | undefined {
    const c = this.clusters.get(id);
    if (!c) return undefined;
    this.clusters.delete(id);
    return { frames: c.frames, thumbnail: c.thumbnail };
  }

  expire(now: number): void {
    for (const [id, c] of this.clusters) {
      if (now - c.lastSeen > this.rules.retentionS) {
        c.sum.fill(0);
        for (const f of c.frames) f.embedding.fill(0);
        this.clusters.delete(id);
      }
    }
  }

  private create(dim: number): Cluster {
    let id = this.newId();
    while (this.clusters.has(id)) id = this.newId();
    const c: Cluster = { id, sum: new Float64Array(dim), lastSeen: 0, frames: [], thumbnail: null };
    this.clusters.set(id, c);
    return c;
  }
}
