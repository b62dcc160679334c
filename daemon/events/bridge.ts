import type { IClientOptions, IClientPublishOptions, IPublishPacket, MqttClient } from 'mqtt';
import type { Logger } from '../base/log.js';
import { FacegateError } from '../base/errors.js';
import { settlesWithin } from '../base/settles-within.js';
import { OFFLINE, ONLINE } from './mqtt-options.js';
import { guardPacketSize, type OversizedPacket } from './packet-guard.js';

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}
export const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export type Connect = (url: string, options: IClientOptions) => MqttClient;

export interface BridgeOptions {
  url: string;
  options: IClientOptions;
  baseTopic: string;
  reconnect: { minMs: number; maxMs: number };
  connect: Connect;
  logger: Logger;
  timers?: Timers;
  random?: () => number;
}

/** The packet carries the flags as received (`retain`). */
export type MessageHandler = (topic: string, payload: Buffer, packet: IPublishPacket) => Promise<unknown> | void;

/**
 * Decides when a message is acknowledged to the broker: its PUBACK waits until the promise
 * resolves. Keep it short (record the message, do not run it): MQTT.js reads no other packet of
 * the connection meanwhile. A rejection leaves the message unacknowledged; the broker sends it
 * again after the next connect.
 */
export type DeliveryHandler = (topic: string, payload: Buffer, packet: IPublishPacket) => Promise<void>;

/** Called on every (re)connect, after bridge/state says online; errors are logged, not fatal. */
export type ConnectHook = (client: MqttClient) => Promise<void> | void;

/**
 * One MQTT connection with the conventions users know from zigbee2mqtt: `bridge/state` retained
 * online on every connect (the broker published our offline last-will when we dropped), offline on
 * a clean stop; reconnects with exponential backoff and jitter; refusals turned into one clear line.
 */
export class MqttBridge {
  private client: MqttClient | undefined;
  private attempt = 0;
  private retryTimer: unknown;
  private stopping = false;
  private readonly hooks: ConnectHook[] = [];
  private readonly messageHandlers: MessageHandler[] = [];
  private readonly deliveryHandlers: DeliveryHandler[] = [];
  private readonly timers: Timers;
  private readonly random: () => number;
  private readonly log: Logger;
  /** The last connection problem, for `status` and stats; cleared on connect. */
  lastError: FacegateError | undefined;
  reconnects = 0;
  /** Messages published here rather than from the outbox (state, presence, discovery, stats): acknowledged at QoS 1, handed to the socket at QoS 0. */
  published = 0;
  connectedSinceMs: number | undefined;
  /** Packets over the maximum packet size that the broker sent all the same: each closed the connection before it was read. */
  oversized = 0;

  constructor(private readonly o: BridgeOptions) {
    this.timers = o.timers ?? realTimers;
    this.random = o.random ?? Math.random;
    this.log = o.logger.child({ stage: 'events', broker: o.url.replace(/\/\/[^@/]*@/, '//***@') });
  }

  get connected(): boolean {
    return this.client?.connected === true;
  }

  /** The client, for publishers; publish only while `connected`. */
  get mqtt(): MqttClient | undefined {
    return this.client;
  }

  onConnect(hook: ConnectHook): void {
    this.hooks.push(hook);
  }

  /** Incoming messages (command requests, homeassistant/status); a throwing handler is logged. */
  onMessage(handler: MessageHandler): void {
    this.messageHandlers.push(handler);
  }

  /** Messages that must be recorded before the broker may forget them (remote command requests). */
  onDelivery(handler: DeliveryHandler): void {
    this.deliveryHandlers.push(handler);
  }

  start(): void {
    this.stopping = false;
    const maxBytes = this.o.options.properties?.maximumPacketSize;
    const client = this.o.connect(this.o.url, { ...this.o.options, manualConnect: maxBytes !== undefined });
    this.client = client;
    if (maxBytes !== undefined) {
      guardPacketSize(client, maxBytes, (p) => this.tooLarge(p, maxBytes));
      client.connect();
    }
    client.on('connect', () => void this.handleConnect());
    client.on('error', (e) => this.failed(e));
    client.on('close', () => this.closed());
    // MQTT.js sends a QoS 1 message's PUBACK when this calls back (by default at once, as the
    // message is emitted): held until every delivery handler has recorded the message, so that a
    // crash in between leaves it with the broker, which sends it again.
    client.handleMessage = (packet, callback) => {
      const topic = packet.topic.toString();
      const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
      Promise.all(this.deliveryHandlers.map((h) => h(topic, payload, packet))).then(
        () => callback(),
        (e: unknown) => {
          this.log.error({ topic, err: e instanceof Error ? e.message : String(e) }, 'message not recorded, so not acknowledged: the broker sends it again after the next connect');
          callback(e instanceof Error ? e : new Error(String(e)));
        },
      );
    };
    client.on('message', (topic, payload, packet) => {
      for (const h of this.messageHandlers) {
        Promise.resolve()
          .then(() => h(topic, payload, packet))
          .catch((e: unknown) => this.log.error({ topic, err: e instanceof Error ? e.message : String(e) }, 'message handler failed'));
      }
    });
  }

  private async handleConnect(): Promise<void> {
    const client = this.client!;
    this.attempt = 0;
    this.lastError = undefined;
    this.connectedSinceMs = Date.now();
    this.log.info('connected to MQTT broker');
    try {
      await client.publishAsync(`${this.o.baseTopic}/bridge/state`, ONLINE, { qos: 1, retain: true });
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'could not publish bridge/state');
    }
    for (const hook of this.hooks) {
      try {
        await hook(client);
      } catch (e) {
        this.log.error({ err: e instanceof Error ? e.message : String(e) }, 'on-connect step failed');
      }
    }
  }

  private failed(e: Error): void {
    const err = describeMqttError(e, this.o.url);
    this.lastError = err;
    this.log.error({ code: err.code, hint: err.hint }, err.message);
  }

  private tooLarge(p: OversizedPacket, maxBytes: number): void {
    this.oversized++;
    const err = new FacegateError(
      'FG_ERR_MQTT_PACKET_TOO_LARGE',
      `broker sent a ${p.type} packet of ${p.bytes} bytes, over the ${maxBytes} this device declares (mqtt.max_packet_mb): the connection was closed before it was read`,
      "the broker ignores MQTT 5's maximum packet size: limit message sizes on the broker (Mosquitto: max_packet_size), find who publishes such messages, or raise mqtt.max_packet_mb if they are legitimate",
    );
    this.lastError = err;
    this.log.error({ code: err.code, hint: err.hint, packet: p.type, bytes: p.bytes }, err.message);
  }

  private closed(): void {
    this.connectedSinceMs = undefined;
    // mqtt.js would resend its unacknowledged QoS 1 publishes after reconnecting, one at a time,
    // and (mqtt.js 5.16 against Mosquitto 2.0) stalls after the first. The outbox still holds
    // every one of them, so they are handed back (their callbacks fail) and the publisher resends
    // them in order with fresh packet ids.
    const client = this.client;
    if (client) for (const id of Object.keys(client.outgoing)) client.removeOutgoingMessage(Number(id));
    if (this.stopping || this.retryTimer !== undefined) return;
    const base = Math.min(this.o.reconnect.maxMs, this.o.reconnect.minMs * 2 ** this.attempt);
    const delay = Math.round(base * (0.5 + this.random() / 2));
    this.attempt = Math.min(this.attempt + 1, 30);
    this.log.debug({ delay_ms: delay }, 'reconnecting after backoff');
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = undefined;
      if (this.stopping || !this.client) return;
      this.reconnects++;
      this.client.reconnect();
    }, delay);
  }

  /** Delay the next retry would use (for status and tests). */
  get backoffAttempt(): number {
    return this.attempt;
  }

  async publish(topic: string, payload: string | Buffer, opts: IClientPublishOptions): Promise<void> {
    if (!this.client) throw new Error('MQTT bridge not started');
    await this.client.publishAsync(topic, payload, opts);
    this.published++;
  }

  /**
   * Says offline (retained) when connected, then disconnects cleanly; in-flight events stay in the
   * outbox. The DISCONNECT packet tells the broker to drop our last-will: closing the socket
   * without it made the broker publish a second `offline` after ours.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.retryTimer !== undefined) this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const client = this.client;
    if (!client) return;
    if (client.connected) {
      // Not sent in time, or refused: the broker publishes our last will instead.
      await settlesWithin(client.publishAsync(`${this.o.baseTopic}/bridge/state`, OFFLINE, { qos: 1, retain: true }), 2000);
    }
    if (client.connected) {
      // A graceful end waits until every unacknowledged publish is answered; those events are
      // still in the outbox and are sent again after the next start, so none is waited for.
      for (const id of Object.keys(client.outgoing)) client.removeOutgoingMessage(Number(id));
      const ended = client.endAsync(false);
      if (!(await settlesWithin(ended, 1000))) {
        // A broker that does not answer (frozen, gone without a FIN) never closes its side.
        client.stream.destroy();
        await ended;
      }
    } else {
      await client.endAsync(true);
    }
    this.client = undefined;
  }
}

/** mqtt.js and TLS errors → what the person at the box should do. No secrets in the text. */
export function describeMqttError(e: Error, url: string): FacegateError {
  const where = url.replace(/\/\/[^@/]*@/, '//***@');
  const code = (e as { code?: unknown }).code;
  // Mosquitto answers a wrong password with 135 (not authorized) rather than 134, so both read alike.
  if (code === 134 || code === 135 || code === 4 || code === 5) {
    return new FacegateError(
      'FG_ERR_MQTT_AUTH',
      `broker ${where} refused the connection: bad user name or password, or this client is not allowed (reason ${code})`,
      'check mqtt.username, the password in the variable named by mqtt.password_env, and the broker ACL; facegate keeps retrying with backoff',
    );
  }
  if (typeof code === 'number') {
    return new FacegateError('FG_ERR_MQTT_REFUSED', `broker ${where} refused the connection: ${e.message} (reason ${code})`, 'see the broker log; facegate keeps retrying with backoff');
  }
  if (code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENOTFOUND' || code === 'ETIMEDOUT' || code === 'ECONNRESET') {
    return new FacegateError('FG_ERR_MQTT_UNREACHABLE', `broker ${where} unreachable (${code})`, 'check that the broker runs and mqtt.url; events wait in the outbox meanwhile');
  }
  if (typeof code === 'string' && (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO/.test(code))) {
    return new FacegateError('FG_ERR_MQTT_TLS', `TLS with broker ${where} failed: ${e.message} (${code})`, 'check mqtt.tls.ca (the CA that signed the broker certificate), the host name in the URL, and the client certificate');
  }
  return new FacegateError('FG_ERR_MQTT', `MQTT connection to ${where} failed: ${e.message}`, 'facegate keeps retrying with backoff');
}
