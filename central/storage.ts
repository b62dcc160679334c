import type { OutboxTopic } from '../contract/topics.js';
import type { PinnedKey } from '../contract/signature.js';
import type { SeqRange } from '../contract/seq-ranges.js';
import { ASSURANCE_STRENGTH, ASSURANCES, isAssurance, strongerThan, type Assurance } from '../contract/assurance.js';

/** A value now (SQLite, in process) or later (PostgreSQL, over the network): the consumer awaits either. */
export type Awaitable<T> = T | Promise<T>;

/** A box's numbers as the store holds them: the highest it announced, and the ranges neither stored nor reported gone. */
export interface BoxGaps {
  readonly base: string;
  readonly device: string;
  readonly high: number;
  readonly missing: readonly SeqRange[];
}

/** What replay did for one box, as `facegate central status` shows it: all from the database, so every consumer sharing it sees the same. */
export interface BoxReplayStatus {
  readonly base: string;
  readonly device: string;
  /** The highest number announced (bridge/sequence) or stored. */
  readonly high: number;
  /** Numbers stored, distinct. */
  readonly stored: number;
  /** Numbers neither stored nor reported gone: what replay still asks for. */
  readonly missing: number;
  /** Requests sent, the numbers they named together, and the last one. */
  readonly asked: { readonly requests: number; readonly numbers: number; readonly last: { readonly from: number; readonly to: number; readonly at: string } | null };
  /** Numbers the box reported it no longer holds, in how many ranges, and when last. */
  readonly gone: { readonly numbers: number; readonly ranges: number; readonly lastAt: string | null };
}

/** The fused liveness and each cue's share of it behind a mark (contract/liveness-shares.ts), by cue name. */
export type Shares = Readonly<Record<string, number>>;

/** One employee's day as the timesheet shows it: instants in ms, what proved each, at which door and by which cues, null when there was none. */
export interface TimesheetRow {
  readonly employee: string;
  readonly day: string;
  readonly firstInMs: number | null;
  readonly firstInAssurance: Assurance | null;
  /** The door (doors:) of the check-in's camera; null for a camera in no door, and from a box of a release before doors. */
  readonly firstInDoor: string | null;
  /** The cues' shares behind the check-in's assurance; null from a box of a release before them. */
  readonly firstInLiveness: Shares | null;
  readonly lastOutMs: number | null;
  readonly lastOutAssurance: Assurance | null;
  readonly lastOutDoor: string | null;
  readonly lastOutLiveness: Shares | null;
}

/** Which marks a timesheet counts: by what proved them, and (where given) only those made at these doors. */
export interface TimesheetFilter {
  readonly assurances?: readonly Assurance[];
  readonly doors?: readonly string[];
}

/** An accepted check-in or check-out: `employee` is the external id, else the box's person id. */
export interface AttendanceMark {
  readonly employee: string;
  readonly type: 'check_in' | 'check_out';
  readonly day: string;
  readonly atMs: number;
  readonly assurance: Assurance;
  /** The door the box named (the event's `door`); null for a camera in no door, and from boxes before doors. */
  readonly door: string | null;
  /** The cues' shares the box sent with it (the event's `liveness`); null from boxes before them. */
  readonly liveness: Shares | null;
}

/**
 * What the central consumer, its replay requester and its commands ask of the store, whichever
 * database holds it: an SQLite file (store.ts, the embedded default) or PostgreSQL (pg-store.ts,
 * shared by consumers on several machines). Both keep the same tables under the same numbered
 * migrations, drop a duplicate by the event's id (a unique key), and keep what replay asked for in
 * the database, so that consumers sharing one store and one subscription group ask each box once.
 */
export interface CentralStorage {
  pinOf(base: string): Awaitable<PinnedKey | undefined>;
  /** A pinned base other than `except` whose last level (its box id) is `boxId`. */
  baseOfBox(boxId: string, except: string): Awaitable<string | undefined>;
  /** Pins a box's key once; a later call for the same base changes nothing and says false. */
  pin(base: string, key: PinnedKey, device: string, nowIso: string): Awaitable<boolean>;
  /** Keeps a verified event and its attendance mark together, or says its id is known already. */
  record(base: string, topic: OutboxTopic, signed: Readonly<Record<string, unknown>>, mark: AttendanceMark | undefined, nowIso: string): Awaitable<'stored' | 'duplicate'>;
  /** A box withdrew one of its marks: the day whose timesheet changed, if the mark is here. */
  retract(base: string, withdrawalId: string, retracts: string): Awaitable<string | undefined>;
  /**
   * A box proved one of its marks better (attendance/upgraded): the mark's assurance rises to
   * `assurance` where it is lower, never falls, and takes the shares that raised it (`liveness`,
   * null from a box before them), so that what proved a mark and the cues behind it agree. The day
   * whose timesheet may have changed, if the mark is here.
   */
  upgrade(base: string, upgrades: string, assurance: Assurance, liveness: Shares | null): Awaitable<string | undefined>;
  /** The day's first check-in and last check-out that stand, per employee, counting only the marks `filter` keeps (every one without it). */
  timesheet(day: string, filter?: TimesheetFilter): Awaitable<TimesheetRow[]>;
  /** A box's signed high-water mark; never lowered. */
  raiseHigh(base: string, device: string, seq: number, nowIso: string): Awaitable<void>;
  /** Ranges a box reported gone: the parts of them not held before, now kept. */
  markGone(base: string, ranges: readonly SeqRange[], nowIso: string): Awaitable<SeqRange[]>;
  /**
   * Takes the one replay request a box may have out, for every consumer sharing the store: true
   * (and counted, with `jti` kept) when no request for `base` is out, or the last one's lease ran
   * out by `nowIso`; false when another request holds it (this consumer's or another's).
   */
  claimAsk(base: string, range: SeqRange, jti: string, nowIso: string, leaseUntilIso: string): Awaitable<boolean>;
  /** The box answered the request `jti`: its lease ends, so the next range may be asked at once. */
  releaseAsk(base: string, jti: string): Awaitable<void>;
  /** Every box with a high-water mark and what it misses, from the database alone. */
  gaps(): Awaitable<BoxGaps[]>;
  replayStatus(): Awaitable<BoxReplayStatus[]>;
  eventCount(): Awaitable<number>;
  /** How many boxes are pinned on first use (provisioned keys are the config's, not the store's). */
  pinCount(): Awaitable<number>;
  /**
   * Whether `e` says the database is away for now (a server restarting, the network): the message
   * is kept unacknowledged and tried again, rather than counted failed. SQLite is never away.
   */
  unavailable(e: unknown): boolean;
  close(): Awaitable<void>;
}

/**
 * An SQL expression of an assurance's strength (contract/assurance.ts, ASSURANCE_STRENGTH), the same
 * in SQLite and PostgreSQL: an upgrade compares the mark's assurance with the one it brings in the
 * statement that changes it, so that two consumers sharing a store cannot lower it between them.
 */
export function assuranceStrengthSql(expr: string): string {
  return `(CASE ${expr} ${ASSURANCES.map((a) => `WHEN '${a}' THEN ${ASSURANCE_STRENGTH[a]}`).join(' ')} END)`;
}

/**
 * What a mark stands on as it is stored: its own assurance and shares, or those of the strongest
 * upgrade its box sent before it arrived (read off their bodies: `assurance` and the `liveness`
 * JSON; anything else is left out).
 */
export function strongestOf(own: { assurance: Assurance; liveness: Shares | null }, upgrades: ReadonlyArray<{ a: unknown; l: unknown }>): { assurance: Assurance; liveness: Shares | null } {
  let best = own;
  for (const u of upgrades) if (isAssurance(u.a) && strongerThan(u.a, best.assurance)) best = { assurance: u.a, liveness: sharesFromJson(u.l) };
  return best;
}

/**
 * A body's `liveness` as the store keeps it, else null. The message's schema checked its names and
 * numbers on the way in (contract/liveness-shares.ts); this only tells the object from null or
 * absent, and one read back from a column from anything else.
 */
export function sharesFrom(value: unknown): Shares | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  return Object.values(value).every((v) => typeof v === 'number' && Number.isFinite(v)) ? (value as Shares) : null;
}

/** Shares read back from a column or a body as JSON text; null for anything else. */
export function sharesFromJson(text: unknown): Shares | null {
  if (typeof text !== 'string') return null;
  try {
    return sharesFrom(JSON.parse(text));
  } catch {
    return null;
  }
}

/** Shares as a column keeps them: JSON text, or NULL. */
export function sharesJson(shares: Shares | null): string | null {
  return shares === null ? null : JSON.stringify(shares);
}

/** The longest door name the store takes from an event body: boxes send a config name (contract/fields.ts), at most 32 characters. */
export const DOOR_MAX = 32;
