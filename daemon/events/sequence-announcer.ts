import type { Logger } from '../base/log.js';
import { formatLocalIso } from '../base/zoned-time.js';
import type { MqttBridge, Timers } from './bridge.js';
import type { Outbox } from './outbox.js';
import { withSignature, type Signer } from './signing.js';
import { topicFor, type Payload } from '../../contract/topics.js';

/**
 * Publishes the box's high-water mark on `bridge/sequence`, signed, on every connect and then
 * every `intervalMs`: a receiver sees a gap between two events it got, but only this shows it
 * events lost after the last one it got (docs/mqtt.md#replay). Directly at QoS 1, not through the
 * outbox: a lost one only delays the news until the next.
 */
export class SequenceAnnouncer {
  private timer: unknown;
  private stopped = true;

  constructor(
    private readonly o: {
      bridge: MqttBridge;
      outbox: Outbox;
      signer: Signer;
      deviceId: string;
      baseTopic: string;
      timeZone: string;
      intervalMs: number;
      now: () => number;
      timers: Timers;
      logger: Logger;
    },
  ) {
    o.bridge.onConnect(() => this.announce());
  }

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.o.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.stopped || this.o.intervalMs <= 0) return;
    this.timer = this.o.timers.setTimeout(() => {
      if (this.o.bridge.connected) void this.announce();
      this.schedule();
    }, this.o.intervalMs);
  }

  async announce(): Promise<void> {
    if (this.stopped) return;
    const body: Omit<Payload<'sequence'>, 'jws'> = { device: this.o.deviceId, time: formatLocalIso(this.o.now(), this.o.timeZone), seq: this.o.outbox.sequence().delivered };
    try {
      await this.o.bridge.publish(topicFor(this.o.baseTopic, 'sequence'), JSON.stringify(withSignature(this.o.signer, body as typeof body & { image?: string })), { qos: 1, retain: false });
    } catch (e) {
      this.o.logger.warn({ stage: 'events', err: (e as Error).message }, 'bridge/sequence not published; it is sent again on the next connect or period');
    }
  }
}
