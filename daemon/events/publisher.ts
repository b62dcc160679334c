import type { Logger } from '../base/log.js';
import type { MqttBridge } from './bridge.js';
import type { Outbox, OutboxRow } from './outbox.js';

export interface PublisherOptions {
  outbox: Outbox;
  bridge: MqttBridge;
  logger: Logger;
  /** Most events handed to mqtt.js and not yet acknowledged (also capped by the broker's receive maximum). */
  inflight: number;
  /** Seen once per acknowledged event (benchmarks measure decision → PUBACK with it). */
  onAcknowledged?: (row: OutboxRow) => void;
  /** Wait before resending an event the broker refused (PUBACK with an error reason). */
  refusedRetryMs?: number;
}

/**
 * Moves the outbox to the broker in `seq` order at QoS 1 and deletes each event once its PUBACK
 * arrives. mqtt.js keeps the unacknowledged ones of this process and resends them after a
 * reconnect (persistent session), so they are handed over once; after a restart the outbox still
 * holds them and they go again: at least once, receivers drop duplicates by event id.
 */
export class OutboxPublisher {
  /** Highest seq handed to mqtt.js by this process. */
  private handedUpTo = 0;
  private readonly inFlight = new Set<number>();
  /** Events handed back on a disconnect: sent again first, in order, after the reconnect. */
  private readonly retry: OutboxRow[] = [];
  /** Events the broker refused (e.g. not authorized): kept, and sent again after a delay. */
  private readonly refused: OutboxRow[] = [];
  private refusedTimer: NodeJS.Timeout | undefined;
  private readonly acked: OutboxRow[] = [];
  private ackFlush: NodeJS.Immediate | undefined;
  private pumping = false;
  private scheduled = false;
  private stopped = true;
  published = 0;
  failures = 0;
  private readonly log: Logger;

  constructor(private readonly o: PublisherOptions) {
    this.log = o.logger.child({ stage: 'events' });
  }

  start(): void {
    this.stopped = false;
    this.o.bridge.onConnect(() => this.wake());
    this.wake();
  }

  /** Something was enqueued or the link came back: send what can be sent. */
  wake(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  private window(): number {
    const brokerMax = this.o.bridge.mqtt?.serverProperties?.receiveMaximum ?? 65_535;
    return Math.max(1, Math.min(this.o.inflight, brokerMax));
  }

  private pump(): void {
    if (this.pumping || this.stopped) return;
    this.pumping = true;
    try {
      while (this.o.bridge.connected && this.inFlight.size < this.window()) {
        const room = this.window() - this.inFlight.size;
        const rows = this.retry.length > 0 ? this.retry.splice(0, room) : this.o.outbox.readAfter(this.handedUpTo, room);
        if (rows.length === 0) break;
        for (const row of rows) this.send(row);
      }
    } finally {
      this.pumping = false;
    }
  }

  private send(row: OutboxRow): void {
    const client = this.o.bridge.mqtt!;
    this.inFlight.add(row.seq);
    if (row.seq > this.handedUpTo) this.handedUpTo = row.seq;
    client.publish(row.topic, row.payload, { qos: 1, retain: false }, (err) => {
      this.inFlight.delete(row.seq);
      if (this.stopped) return;
      if (err) {
        // Never dropped here: the event stays in the outbox and is sent again.
        if (this.o.bridge.connected) this.refuse(row, err);
        else {
          this.retry.push(row);
          this.retry.sort((a, b) => a.seq - b.seq);
        }
        return;
      }
      this.published++;
      this.acked.push(row);
      this.o.onAcknowledged?.(row);
      this.scheduleAckFlush();
      this.wake();
    });
  }

  private refuse(row: OutboxRow, err: Error): void {
    this.failures++;
    this.log.warn({ event: row.eventId, topic: row.topic, err: err.message }, 'broker refused the event; it stays in the outbox and is sent again later');
    this.refused.push(row);
    this.refusedTimer ??= setTimeout(() => {
      this.refusedTimer = undefined;
      this.retry.push(...this.refused.splice(0));
      this.retry.sort((a, b) => a.seq - b.seq);
      this.wake();
    }, this.o.refusedRetryMs ?? 5000);
  }

  get refusedCount(): number {
    return this.refused.length;
  }

  private scheduleAckFlush(): void {
    if (this.acked.length >= 512) return this.flushAcks();
    this.ackFlush ??= setImmediate(() => this.flushAcks());
  }

  private flushAcks(): void {
    if (this.ackFlush) clearImmediate(this.ackFlush);
    this.ackFlush = undefined;
    if (this.acked.length === 0) return;
    const rows = this.acked.splice(0);
    try {
      this.o.outbox.acknowledge(rows);
    } catch (e) {
      // Not deleting only means a duplicate after a restart; log and carry on.
      this.log.error({ err: (e as Error).message }, 'could not delete acknowledged events');
    }
  }

  /** Stops sending; acknowledged events are deleted; unacknowledged ones stay for next time. */
  stop(): void {
    this.flushAcks();
    if (this.refusedTimer) clearTimeout(this.refusedTimer);
    this.refusedTimer = undefined;
    this.stopped = true;
  }
}
