import { firstPart, type SeqRange } from '../contract/seq-ranges.js';

/**
 * Missing ranges joined where one request may name them together: ranges whose span, first number
 * to last, fits in `maxRange`. Consumers in one shared group miss numbers interleaved (a member
 * that died held every other message), and one request a gap would ask a box for each number on
 * its own, one a second at best; the box replays what lies between as well, which is dropped as
 * duplicates by id. Ranges in, ascending and disjoint; ranges out, the same.
 */
export function requestSpans(missing: readonly SeqRange[], maxRange: number): SeqRange[] {
  const out: SeqRange[] = [];
  for (const r of missing) {
    const last = out.at(-1);
    if (last && r[1] - last[0] + 1 <= maxRange) out[out.length - 1] = [last[0], r[1]];
    else out.push(r);
  }
  return out;
}

export interface GapPolicy {
  /** How long a gap must stay open before it is asked for: QoS 1 redelivery can bring events out of order. */
  graceMs: number;
  /** The least wait before the same range is asked for again; doubled at each try, up to 32 times. */
  backoffMs: number;
  /** The most numbers one request names. */
  maxRange: number;
}

/**
 * Which of one box's missing ranges to ask for now, if any (docs/mqtt.md#replay). What is missing
 * comes from the store each time; this keeps only when each gap was first seen and when each
 * range may be asked for again. Pure: the time is given.
 */
export class GapTracker {
  /** A gap's first number → when it was first seen open. */
  private readonly firstSeen = new Map<number, number>();
  /** A range asked for ("from-to") → when it may be asked for again, and how often it was. */
  private readonly asked = new Map<string, { nextMs: number; tries: number }>();

  constructor(private readonly policy: GapPolicy) {}

  next(missing: readonly SeqRange[], nowMs: number): SeqRange | undefined {
    const open = new Set(missing.map((r) => r[0]));
    for (const from of this.firstSeen.keys()) if (!open.has(from)) this.firstSeen.delete(from);
    for (const key of this.asked.keys()) if (!open.has(Number(key.split('-')[0]))) this.asked.delete(key);
    let pick: SeqRange | undefined;
    for (const range of missing) {
      const seen = this.firstSeen.get(range[0]);
      if (seen === undefined) this.firstSeen.set(range[0], nowMs);
      if (pick || seen === undefined || nowMs - seen < this.policy.graceMs) continue;
      const part = firstPart(range, this.policy.maxRange);
      const key = `${part[0]}-${part[1]}`;
      const before = this.asked.get(key);
      if (before && nowMs < before.nextMs) continue;
      const tries = (before?.tries ?? 0) + 1;
      this.asked.set(key, { nextMs: nowMs + this.policy.backoffMs * 2 ** Math.min(tries - 1, 5), tries });
      pick = part;
    }
    return pick;
  }
}
