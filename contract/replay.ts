import { Type, type Static } from '@sinclair/typebox';
import { SafeInteger } from './numbers.js';

/**
 * The `events/replay` remote command (docs/mqtt.md#replay) as both sides speak it: a receiver that
 * missed events asks a box for their numbers again, and the box answers what it sent again and what
 * it no longer holds.
 */
export const REPLAY_COMMAND = 'events/replay';

/** The most numbers one replay request may name: a box refuses more, so its answer and the events it queues stay small. */
export const MAX_REPLAY_RANGE = 1000;

const SeqNumber = SafeInteger({ minimum: 1 });
const Count = SafeInteger({ minimum: 0 });

/** The `data` of a replay request (inside its signed token): bounded integers; the range's size is the box's check, with its own code. */
export const ReplayRequestData = Type.Object({ from: SeqNumber, to: SeqNumber }, { additionalProperties: false });

/**
 * The `data` of an `ok` answer to `events/replay`, as a receiver reads it off the broker: every
 * number one a database column holds, and `gone` no longer than a request's range. Fields are
 * optional: boxes from before `first` answer without it.
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
