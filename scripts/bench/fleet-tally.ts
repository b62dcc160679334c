// The fleet benches' arithmetic, kept apart from their set-up so that it is tested alone
// (test/central/fleet-tally.test.ts): what was sent against what was stored, by unique key.

/** The value at the p-th percentile of ascending `sorted` (nearest rank); NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** One event the bench's box wrote: its id, when it was written (ms) and in which phase. */
export interface SentEvent {
  readonly id: string;
  readonly writtenMs: number;
  readonly phase: string;
}

/** One row of the store: the event id, its box and number, and when the consumer stored it (ms). */
export interface StoredRow {
  readonly id: string;
  readonly base: string;
  readonly seq: number | null;
  readonly storedMs: number;
}

export interface PhaseTally {
  readonly phase: string;
  readonly sent: number;
  readonly stored: number;
  /** Sent in this phase and never stored. */
  readonly lost: number;
  /** Latency written → stored of this phase's events, ms. */
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly maxMs: number;
}

export interface Tally {
  readonly phases: PhaseTally[];
  readonly sent: number;
  /** Distinct events stored that were sent. */
  readonly stored: number;
  readonly lost: number;
  /** Rows beyond the first of one id, or of one box's number: an event stored twice. */
  readonly doubled: number;
  /** Rows no box of the bench sent. */
  readonly foreign: number;
}

/** What was sent against what was stored: each event once by its id and by its box's number. */
export function tally(sent: readonly SentEvent[], rows: readonly StoredRow[], phases: readonly string[]): Tally {
  const byId = new Map<string, StoredRow>();
  const numbers = new Set<string>();
  let doubled = 0;
  for (const r of rows) {
    const key = r.seq === null ? undefined : `${r.base}\u0000${r.seq}`;
    if (byId.has(r.id) || (key !== undefined && numbers.has(key))) {
      doubled++;
      continue;
    }
    byId.set(r.id, r);
    if (key !== undefined) numbers.add(key);
  }
  const sentIds = new Set(sent.map((s) => s.id));
  const foreign = [...byId.keys()].filter((id) => !sentIds.has(id)).length;
  const perPhase = phases.map((phase) => {
    const mine = sent.filter((s) => s.phase === phase);
    const latencies: number[] = [];
    for (const s of mine) {
      const r = byId.get(s.id);
      if (r) latencies.push(r.storedMs - s.writtenMs);
    }
    latencies.sort((a, b) => a - b);
    return { phase, sent: mine.length, stored: latencies.length, lost: mine.length - latencies.length, p50Ms: percentile(latencies, 50), p95Ms: percentile(latencies, 95), maxMs: latencies.at(-1) ?? NaN };
  });
  const stored = sent.filter((s) => byId.has(s.id)).length;
  return { phases: perPhase, sent: sent.length, stored, lost: sent.length - stored, doubled, foreign };
}

/** Rows stored per whole second from `fromMs` to `toMs`: the mean, and the slowest and busiest second. */
export function storedRate(rows: readonly StoredRow[], fromMs: number, toMs: number): { mean: number; min: number; max: number } {
  const seconds = Math.max(1, Math.floor((toMs - fromMs) / 1000));
  const buckets = new Array<number>(seconds).fill(0);
  for (const r of rows) {
    const i = Math.floor((r.storedMs - fromMs) / 1000);
    if (i >= 0 && i < seconds) buckets[i]!++;
  }
  return { mean: buckets.reduce((a, b) => a + b, 0) / seconds, min: Math.min(...buckets), max: Math.max(...buckets) };
}
