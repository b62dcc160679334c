import { Sqlite, type Database } from '../../daemon/store/sqlite.js';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { createLogger, type Logger } from '../../daemon/base/log.js';
import { createEventTables } from '../../daemon/store/schema/outbox.js';
import { createCommandPendingTable } from '../../daemon/store/schema/command-pending.js';
import { createEventReplayTables } from '../../daemon/store/schema/event-replay.js';
import { Outbox, type KeptLimits, type OutboxRow } from '../../daemon/events/outbox.js';
import { ensureDeviceKey, type DeviceKey } from '../../daemon/events/device-key.js';
import { createSigner } from '../../daemon/events/signing.js';
import { EventWriter } from '../../daemon/events/writer.js';
import { MqttBridge } from '../../daemon/events/bridge.js';
import { OutboxPublisher } from '../../daemon/events/publisher.js';
import { EventReplay } from '../../daemon/events/replay.js';
import { SequenceAnnouncer } from '../../daemon/events/sequence-announcer.js';
import { realTimers } from '../../daemon/events/bridge.js';
import { uuidv7Generator } from '../../daemon/base/uuidv7.js';
import type { IClientOptions as Opts } from 'mqtt';
import { Sealer } from '../../daemon/gallery/seal.js';
import { loadSodium } from '../../daemon/gallery/sodium.js';
import { defaultConfig } from '../../daemon/config/load.js';

const sodium = await loadSodium();

/** Seals outbox payloads under one fixed key, so that a state file reopened by another test process opens too. */
export function testSealer(): Sealer {
  return new Sealer(sodium, new Uint8Array(32).fill(7));
}

export const quietLogger = (): Logger => createLogger({ level: 'silent' });

export function openTestDb(path: string, fsync = true): Database {
  const db = new Sqlite(path);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${fsync ? 'FULL' : 'NORMAL'}`);
  createEventTables(db);
  createCommandPendingTable(db);
  createEventReplayTables(db);
  return db;
}

export interface StackOptions {
  dbPath: string;
  keyPath: string;
  url: string;
  baseTopic?: string;
  /** The box's id (events' `device`, the audience of its commands); the base topic's last level unless given, as the daemon's default base topic `facegate/<device_id>` makes it. */
  deviceId?: string;
  clientId?: string;
  mqttOptions?: Partial<Opts>;
  maxEvents?: number;
  inflight?: number;
  fsync?: boolean;
  logger?: Logger;
  onAcknowledged?: (row: OutboxRow) => void;
  refusedRetryMs?: number;
  /** Reconnect backoff; fast by default so that tests of many restarts stay short. */
  reconnect?: { minMs: number; maxMs: number };
  /** Period of the signed bridge/sequence; 0 (default): on connect only. */
  announceMs?: number;
  /** Bounds on the delivered events kept for replay; the daemon's defaults unless given. */
  kept?: KeptLimits;
}

/** The real outbox → publisher → broker path on a real SQLite file, as the daemon builds it. */
export class EventsStack {
  readonly db: Database;
  readonly outbox: Outbox;
  readonly key: DeviceKey;
  readonly writer: EventWriter;
  readonly bridge: MqttBridge;
  readonly publisher: OutboxPublisher;
  readonly replay: EventReplay;
  readonly sequence: SequenceAnnouncer;
  readonly baseTopic: string;
  readonly deviceId: string;

  constructor(o: StackOptions) {
    const logger = o.logger ?? quietLogger();
    this.baseTopic = o.baseTopic ?? 'facegate/test-device';
    this.deviceId = o.deviceId ?? this.baseTopic.slice(this.baseTopic.lastIndexOf('/') + 1);
    this.db = openTestDb(o.dbPath, o.fsync ?? true);
    this.outbox = new Outbox(this.db, { maxEvents: o.maxEvents ?? 1_000_000, maxBytes: 1 << 30, ...(o.kept ? { kept: o.kept } : {}) }, testSealer(), logger);
    this.key = ensureDeviceKey(o.keyPath).key;
    const options: IClientOptions = {
      protocolVersion: 5,
      clientId: o.clientId ?? 'facegate-test-device',
      clean: false,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      // As a box connects (mqttClientOptions): as many messages ahead of its acknowledgements as it declares.
      properties: { sessionExpiryInterval: 3600, receiveMaximum: defaultConfig().mqtt.receive_maximum },
      will: { topic: `${this.baseTopic}/bridge/state`, payload: Buffer.from('{"state":"offline"}'), qos: 1, retain: true },
      ...o.mqttOptions,
    };
    this.bridge = new MqttBridge({ url: o.url, options, baseTopic: this.baseTopic, reconnect: o.reconnect ?? { minMs: 20, maxMs: 200 }, connect: mqtt.connect, logger });
    this.publisher = new OutboxPublisher({ outbox: this.outbox, bridge: this.bridge, logger, inflight: o.inflight ?? 64, ...(o.refusedRetryMs ? { refusedRetryMs: o.refusedRetryMs } : {}), ...(o.onAcknowledged ? { onAcknowledged: o.onAcknowledged } : {}) });
    const signer = createSigner(this.key);
    this.writer = new EventWriter({
      outbox: this.outbox,
      signer,
      deviceId: this.deviceId,
      baseTopic: this.baseTopic,
      timeZone: 'Europe/Berlin',
      newId: uuidv7Generator(),
      now: Date.now,
      logger,
      onWritten: () => this.publisher.wake(),
    });
    this.replay = new EventReplay({ outbox: this.outbox, now: Date.now, wake: () => this.publisher.wake(), logger });
    this.sequence = new SequenceAnnouncer({ bridge: this.bridge, outbox: this.outbox, signer, deviceId: this.deviceId, baseTopic: this.baseTopic, timeZone: 'Europe/Berlin', intervalMs: o.announceMs ?? 0, now: Date.now, timers: realTimers, logger });
  }

  start(): void {
    this.publisher.start();
    this.sequence.start();
    this.bridge.start();
  }

  async stop(): Promise<void> {
    this.sequence.stop();
    this.publisher.stop();
    await this.bridge.stop();
    this.db.close();
  }
}

/** A central server's persistent subscriber: QoS 1, clean=false, so it misses nothing while away. */
export class Subscriber {
  readonly messages: { topic: string; payload: Buffer; retain: boolean }[] = [];
  /** Event ids in arrival order, duplicates included (JSON payloads with an `id`). */
  readonly arrivals: string[] = [];
  readonly unique = new Set<string>();
  private readonly waiters: (() => void)[] = [];
  private constructor(
    readonly client: MqttClient,
    private readonly keepPayloads: boolean,
  ) {
    client.on('message', (topic, payload, packet) => {
      if (this.keepPayloads) this.messages.push({ topic, payload, retain: packet.retain });
      const id = payload.length > 0 && payload[0] === 0x7b ? (JSON.parse(payload.toString()) as { id?: unknown }).id : undefined;
      if (typeof id === 'string') {
        this.arrivals.push(id);
        this.unique.add(id);
      }
      for (const w of this.waiters.splice(0)) w();
    });
    client.on('error', () => {});
  }

  static async connect(url: string, filter: string, clientId = 'central-test', extra: Partial<IClientOptions> = {}, keepPayloads = true): Promise<Subscriber> {
    const client = mqtt.connect(url, { protocolVersion: 5, clientId, clean: false, reconnectPeriod: 50, properties: { sessionExpiryInterval: 3600 }, ...extra });
    const s = new Subscriber(client, keepPayloads);
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    await client.subscribeAsync(filter, { qos: 1 });
    return s;
  }

  async waitFor(predicate: () => boolean, timeoutMs: number, what = 'messages'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what} (have ${this.arrivals.length} event messages, ${this.unique.size} distinct)`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => (clearTimeout(t), resolve()));
      });
    }
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}
