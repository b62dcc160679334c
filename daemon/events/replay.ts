import { MAX_REPLAY_RANGE } from '../../contract/replay.js';
import { FacegateError } from '../base/errors.js';
import type { Logger } from '../base/log.js';
import type { Outbox } from './outbox.js';

/** Replay requests run one at a time (each in its command's transaction), and at most one per this. */
export const MIN_REPLAY_INTERVAL_MS = 1000;

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

  /** Runs inside the command's transaction; throws a coded error for a range too large or a request too soon. Answers ReplayAnswerData (contract/replay.ts). */
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
