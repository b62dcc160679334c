import type { Logger } from '../base/log.js';
import { formatLocalIso } from '../base/zoned-time.js';
import type { Evicted, Outbox } from './outbox.js';
import { withSignature, type Signer } from './signing.js';
import { eventClassOf, topicFor, type OutboxTopic, type Payload, type TopicParams } from '../../contract/topics.js';

/** How often evictions of info events alone are said (log line and outbox_overflow event). */
const INFO_OVERFLOW_EVERY_MS = 60_000;

/** The event-specific fields; the writer adds id, device, time, seq and the signature. */
export type EventBody<T extends OutboxTopic> = Omit<Payload<T>, 'id' | 'device' | 'time' | 'seq' | 'jws'>;

export interface EventWriterOptions {
  outbox: Outbox;
  signer: Signer;
  deviceId: string;
  baseTopic: string;
  /** Site zone: `time` fields read as local time with offset. */
  timeZone: string;
  newId: () => string;
  now: () => number;
  logger: Logger;
  /** Told after each write so the publisher sends without polling. */
  onWritten?: () => void;
}

/**
 * Turns an event body into a signed payload in the outbox. Synchronous, so that callers put it in
 * the same SQLite transaction as the record that caused it: both are written or neither.
 */
export class EventWriter {
  private readonly log: Logger;
  /** Info events evicted since the last time an eviction was said, and when that was. */
  private infoEvicted = 0;
  private infoSaidMs = Number.NEGATIVE_INFINITY;

  constructor(private readonly o: EventWriterOptions) {
    this.log = o.logger.child({ stage: 'events' });
  }

  /** `params` fills the topic's placeholders (a command answer's `{command}`). */
  write<T extends OutboxTopic>(name: T, body: EventBody<T>, atMs: number = this.o.now(), params?: TopicParams): string {
    const id = this.o.newId();
    const envelope = { id, device: this.o.deviceId, time: formatLocalIso(atMs, this.o.timeZone) };
    const event = (signed: object) => ({
      eventId: id,
      topic: topicFor(this.o.baseTopic, name, params),
      payload: JSON.stringify(withSignature(this.o.signer, signed as { image?: string })),
      eventClass: eventClassOf(name),
      createdMs: this.o.now(),
    });
    // Events carry the box's sequence number, signed, so a receiver can tell one it missed and ask
    // for it again (docs/mqtt.md#replay); command answers go to whoever asked and have none.
    const evicted = name === 'response' ? this.o.outbox.enqueue(event({ ...envelope, ...body })) : this.o.outbox.enqueueNumbered((seq) => event({ ...envelope, seq, ...body }));
    if (evicted.alert > 0 || evicted.info > 0) this.overflowed(name, evicted);
    this.o.onWritten?.();
    return id;
  }

  /**
   * Says that events were evicted. An alert lost is said at once, every time. Info events lost are
   * said at most once a minute with their sum: with the broker away and per-track events coming at
   * their steady rate, each write evicts one, and saying each would double the writes and flood the log.
   */
  private overflowed(name: OutboxTopic, evicted: Evicted): void {
    this.infoEvicted += evicted.info;
    const nowMs = this.o.now();
    if (evicted.alert === 0 && nowMs - this.infoSaidMs < INFO_OVERFLOW_EVERY_MS) return;
    const said = { info: this.infoEvicted, alert: evicted.alert };
    this.infoEvicted = 0;
    this.infoSaidMs = nowMs;
    this.log[said.alert > 0 ? 'error' : 'warn']({ evicted: said }, 'outbox full: oldest events evicted (see docs/mqtt.md#outbox)');
    if (name !== 'bridgeEvent') this.write('bridgeEvent', { type: 'outbox_overflow', data: { evicted: said, dropped_total: this.o.outbox.stats(nowMs).dropped } });
  }
}
