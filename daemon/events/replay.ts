import { Type, type Static } from '@sinclair/typebox';
import { FacegateError } from '../base/errors.js';
import type { Logger } from '../base/log.js';
import type { Outbox } from './outbox.js';

/** The most numbers one replay request may name: its answer and the events it queues stay small. */
export const MAX_REPLAY_RANGE = 1000;
/** Replay requests run one at a time (each in its command's transaction), and at most one per this. */
export const MIN_REPLAY_INTERVAL_MS = 1000;

const SeqNumber = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });
const Count = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

/**
 * The `data` of an `ok` answer to `events/replay` (what `replay` returns), as a receiver reads it
 * off the broker: every number one a database column holds, and `gone` no longer than a request's
 * range. Fields are optional: boxes from before `first` answer without it.
 */
export const ReplayAnswerData = Type.Object(
  {
    from: Type.Optional(SeqNumber),
    /** `to` cut at `last`: 0 from a box that gave no number yet. */
    to: Type.Optional(Count),
    replayed: Type.Optional(Count),
    pending: Type.Optional(Count),
    gone: Type.Optional(Type.Array(Type.Tuple([SeqNumber, SeqNumber]), { maxItems: MAX_REPLAY_RANGE })),
    last: Type.Optional(Count),
    first: Type.Optional(SeqNumber),
  },
  { description: 'The answer to events/replay' },
);
export type ReplayAnswerData = Static<typeof ReplayAnswerData>;

/**
 * The `events/replay` remote command (docs/mqtt.md#replay): a receiver that missed events asks
 * for their numbers again, and the box puts the ones it kept back into its outbox, unchanged, so
 * they go out once more at QoS 1 the normal way, and names the ones it no longer holds. It only
 * republishes what was already published, signed; still it is bounded (range, rate) so that a
 * request cannot make the box flood its broker.
 */
export class EventReplay {
  private lastMs = Number.NEGATIVE_INFINITY;
  private readonly log: Logger;

  constructor(
    private readonly o: {
      outbox: Outbox;
      now: () => number;
      /** Tells the publisher that the outbox has events again; it looks after the transaction commits. */
      wake: () => void;
      logger: Logger;
    },
  ) {
    this.log = o.logger.child({ stage: 'events', part: 'replay' });
  }

  /** Runs inside the command's transaction; throws a coded error for a range too large or a request too soon. */
  replay(from: number, to: number): Record<string, unknown> {
    if (to < from) throw new FacegateError('FG_ERR_REPLAY_RANGE', `replay range ${from}..${to} is empty: to is below from`, 'ask for from ≤ to');
    if (to - from + 1 > MAX_REPLAY_RANGE) throw new FacegateError('FG_ERR_REPLAY_RANGE', `replay range ${from}..${to} names ${to - from + 1} events, over ${MAX_REPLAY_RANGE}`, `ask for at most ${MAX_REPLAY_RANGE} at a time`);
    const nowMs = this.o.now();
    if (nowMs - this.lastMs < MIN_REPLAY_INTERVAL_MS) throw new FacegateError('FG_ERR_REPLAY_TOO_FAST', `a replay ran less than ${MIN_REPLAY_INTERVAL_MS} ms ago`, 'wait and ask again');
    this.lastMs = nowMs;
    const r = this.o.outbox.replay(from, to, nowMs);
    if (r.replayed > 0) this.o.wake();
    const fields = { from: r.from, to: r.to, replayed: r.replayed, pending: r.pending, gone: r.gone, first: r.first };
    if (r.gone.length > 0) this.log.warn(fields, 'replay asked for events this box no longer holds: they are reported gone');
    else this.log.info(fields, 'replayed events on request');
    return { from: r.from, to: r.to, replayed: r.replayed, pending: r.pending, gone: r.gone.map(([a, b]) => [a, b]), last: r.last, first: r.first };
  }
}
