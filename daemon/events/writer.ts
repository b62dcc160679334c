import type { Logger } from '../ops/log.js';
import { formatLocalIso } from '../attendance/zoned-time.js';
import type { Outbox } from './outbox.js';
import { withSignature, type Signer } from './signing.js';
import { eventClassOf, topicFor, type OutboxTopic, type Payload, type TopicParams } from './topics.js';

/** The event-specific fields; the writer adds id, device, time and the signature. */
export type EventBody<T extends OutboxTopic> = Omit<Payload<T>, 'id' | 'device' | 'time' | 'jws'>;

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

  constructor(private readonly o: EventWriterOptions) {
    this.log = o.logger.child({ stage: 'events' });
  }

  /** `params` fills the topic's placeholders (a command answer's `{command}`). */
  write<T extends OutboxTopic>(name: T, body: EventBody<T>, atMs: number = this.o.now(), params?: TopicParams): string {
    const id = this.o.newId();
    const unsigned = { id, device: this.o.deviceId, time: formatLocalIso(atMs, this.o.timeZone), ...body } as unknown as { image?: string };
    const payload = JSON.stringify(withSignature(this.o.signer, unsigned));
    const evicted = this.o.outbox.enqueue({
      eventId: id,
      topic: topicFor(this.o.baseTopic, name, params),
      payload,
      eventClass: eventClassOf(name),
      createdMs: this.o.now(),
    });
    if (evicted.alert > 0 || evicted.info > 0) {
      const level = evicted.alert > 0 ? 'error' : 'warn';
      this.log[level]({ evicted }, 'outbox full: oldest events evicted (see docs/mqtt.md#outbox)');
      if (name !== 'bridgeEvent') {
        this.write('bridgeEvent', { type: 'outbox_overflow', data: { evicted, dropped_total: this.o.outbox.stats(this.o.now()).dropped } });
      }
    }
    this.o.onWritten?.();
    return id;
  }
}
