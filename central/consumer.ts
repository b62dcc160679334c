import { mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { IClientOptions, IPublishPacket, ISubscriptionMap, MqttClient } from 'mqtt';
import type { Logger } from '../daemon/base/log.js';
import type { MetricsRegistry } from '../daemon/base/metrics.js';
import { writePrivateFile } from '../daemon/base/private-files.js';
import { settlesWithin } from '../daemon/base/settles-within.js';
import { verifySignedEvent, pinnedKeyFromJwk, type PinnedKey } from '../contract/signature.js';
import type { CentralConfig } from './config.js';
import { readMessage } from './message.js';
import { sharesFrom, type CentralStorage } from './storage.js';
import { attendanceMark, timesheetCsv } from './timesheet.js';
import { boxIdOf, classifyPath, EVENT_SUBTOPICS, INFO_SUBTOPIC, REPLAY_ANSWER_SUBTOPIC, SEQUENCE_SUBTOPIC, splitTopic } from './topics.js';
import { loadCommandKey, ReplayRequester } from './replay-requester.js';
import { isAssurance } from '../contract/assurance.js';

/**
 * What became of one message; `outcome` and `reason` are the counter's labels. Refusals: `forged`
 * (the signature does not verify under the box's pinned key), `stale` (signed outside the replay
 * window), `unknown_box` (no key pinned for its base), `malformed` (too large, not JSON, a number
 * out of range, wrong shape), `key_changed` (a bridge/info with another key than the pinned one),
 * `wrong_device` (a payload naming another box than its topic's, or a new base whose box id another
 * base holds). `failed`: it could not be handled (the database refused it), by kind of message.
 */
export type Outcome = 'accepted' | 'duplicate' | 'pinned' | 'ignored' | 'forged' | 'stale' | 'unknown_box' | 'malformed' | 'key_changed' | 'wrong_device' | 'failed' | 'sequence' | 'replay_answer';

export interface Verdict {
  readonly outcome: Outcome;
  readonly reason?: string;
}

export type Connect = (url: string, options: IClientOptions) => MqttClient;

export interface CentralConsumerOptions {
  config: CentralConfig;
  store: CentralStorage;
  logger: Logger;
  connect: Connect;
  /** The broker password, from the environment variable the config names; never from the config itself. */
  password?: string;
  now?: () => number;
  /** Called with each accepted event's signed payload, after it is stored (a bench's clock, a forwarder to an HR system). */
  onAccepted?: (base: string, signed: Readonly<Record<string, unknown>>) => void;
}

/** Refusals logged per outcome and minute; the rest are only counted, so a flood cannot fill the log. */
const LOG_PER_MINUTE = 10;
/** How long a stop waits for the messages being handled, and for the broker to end the session before it drops the connection. */
const STOP_GRACE_MS = 2000;
/** The longest error message a failure's log line carries. */
const MAX_ERROR_CHARS = 200;
/** How long a message whose store is away waits before it is tried again. */
const STORE_RETRY_MS = 1000;
/** The longest a day's timesheet CSV stays behind the store after a check-in, check-out, withdrawal or upgrade. */
const TIMESHEET_DELAY_MS = 2000;

/**
 * The reference central consumer (docs/mqtt.md#central-consumer): reads the signed events of any
 * number of boxes, verifies each with its box's pinned key (contract/signature.ts, the one check),
 * drops duplicates by id, keeps events and attendance in its store (an SQLite file, or PostgreSQL
 * shared with other consumers) and writes the day's timesheet.
 * A message is acknowledged to the broker once it is handled (stored, refused, or failed), so a
 * crash in between leaves it with the broker, which sends it again to the persistent session.
 * A box is known by its base topic and the key pinned for it: the name a payload gives must be
 * that base's box id (boxIdOf), and is never taken as an identity of its own.
 */
export class CentralConsumer {
  private client: MqttClient | undefined;
  private readonly counts = new Map<string, { outcome: Outcome; reason: string; n: number }>();
  /** Log lines written this minute, per rate-limit key; emptied when the minute turns, so it holds at most a minute's keys. */
  private readonly logged = new Map<string, number>();
  private loggedMinute = -1;
  private readonly pins = new Map<string, PinnedKey>();
  private readonly log: Logger;
  private readonly now: () => number;
  /** Asks boxes for what the store misses; undefined without replay.command_key. */
  readonly replay: ReplayRequester | undefined;
  private replayTimer: NodeJS.Timeout | undefined;
  /** Set by `stop`: a message waiting for its store to come back gives up, unacknowledged. */
  private stopping = false;
  /** Messages being handled: a stop waits for them, so none is stored or counted after it, under a closed store. */
  private readonly inFlight = new Set<Promise<Verdict>>();
  /** Days whose CSV is behind the store, and the write under way (see `timesheetBehind`). */
  private readonly daysBehind = new Set<string>();
  private timesheetTimer: NodeJS.Timeout | undefined;
  private timesheetWrites: Promise<void> = Promise.resolve();

  constructor(private readonly o: CentralConsumerOptions) {
    this.log = o.logger.child({ stage: 'central' });
    this.now = o.now ?? Date.now;
    const r = o.config.replay;
    this.replay = r.command_key
      ? new ReplayRequester({
          store: o.store,
          key: loadCommandKey(r.command_key),
          policy: { graceMs: r.grace_s * 1000, backoffMs: r.backoff_s * 1000, maxRange: r.max_range },
          tokenTtlS: r.token_ttl_s,
          publish: async (topic, payload) => {
            if (!this.client?.connected) throw new Error('not connected to the central broker');
            await this.client.publishAsync(topic, payload, { qos: 1 });
          },
          now: this.now,
          logger: o.logger,
        })
      : undefined;
  }

  /** Counts by outcome and reason, as the metric `facegate_central_messages_total` shows them. */
  countOf(outcome: Outcome, reason?: string): number {
    let n = 0;
    for (const c of this.counts.values()) if (c.outcome === outcome && (reason === undefined || c.reason === reason)) n += c.n;
    return n;
  }

  /** Every count, for the metric and the status summary on `/healthz`. */
  counted(): { outcome: Outcome; reason: string; n: number }[] {
    return [...this.counts.values()].map((c) => ({ ...c }));
  }

  registerMetrics(registry: MetricsRegistry): void {
    registry.collect('facegate_central_messages_total', 'counter', 'Messages read by the central consumer, by outcome (accepted, duplicate, forged, stale, unknown_box, malformed, wrong_device, failed ...) and reason', () =>
      this.counted().map((c) => ({ labels: { outcome: c.outcome, reason: c.reason }, value: c.n })),
    );
  }

  /** Connects and subscribes, retrying with MQTT.js's period while the broker is away; see `ready`. */
  start(): void {
    const { broker, subscribe } = this.o.config;
    const client = this.o.connect(broker.url, {
      protocolVersion: 5,
      clientId: broker.client_id,
      clean: false,
      properties: { sessionExpiryInterval: broker.session_expiry_s, maximumPacketSize: this.o.config.limits.max_payload_kb * 1024 + 4096 },
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      ...(broker.username !== undefined ? { username: broker.username } : {}),
      ...(this.o.password !== undefined ? { password: this.o.password } : {}),
    });
    this.client = client;
    // Only PUBLISH packets reach handleMessage (MQTT.js calls it from its publish handler).
    client.handleMessage = (packet, callback) => {
      const handled = this.handleMessage(packet as IPublishPacket, () => callback());
      this.inFlight.add(handled);
      const done = () => this.inFlight.delete(handled);
      handled.then(done, done);
    };
    client.on('error', (e) => this.log.error({ err: e.message }, 'MQTT connection failed; retrying'));
    if (this.replay) {
      const replay = this.replay;
      this.replayTimer = setInterval(() => {
        if (client.connected) replay.check().catch((e: unknown) => this.log.error({ err: (e as Error).message }, 'replay check failed; tried again at the next'));
      }, this.o.config.replay.check_s * 1000);
    }
    client.on('connect', (connack) => {
      this.log.info({ broker: broker.url.replace(/\/\/[^@/]*@/, '//***@'), session_present: connack.sessionPresent }, 'connected to the central broker');
      // Every connect subscribes to every topic this consumer reads, even when the broker kept the
      // session: a session made by an older consumer, or under another `subscribe` list, lacks
      // the topics added since (bridge/sequence and the replay answers came with replay), and the
      // broker would keep it that way until the session expired. Subscribing again to a plain
      // topic replaces the subscription without losing what is queued for the session (MQTT 5
      // 3.8.4); bridge/info asks for its retained message only where the subscription is new.
      // Shared ones are unsubscribed first: Mosquitto 2.0.11 restores a session after its own
      // restart without them, and subscribing again on top brought nothing (0 of 180 events);
      // what was lost meanwhile, replay asks for.
      const topics = this.subscriptions();
      const sharedTopics = Object.keys(topics).filter((t) => t.startsWith('$share/'));
      const again = connack.sessionPresent && sharedTopics.length > 0 ? client.unsubscribeAsync(sharedTopics) : Promise.resolve();
      again.then(() => client.subscribeAsync(topics)).then(
        () => {
          this.log.info({ subscribe, pinning: this.o.config.pinning, shared_group: broker.shared_group ?? null }, 'central consumer subscribed');
          this.markReady();
        },
        (e: unknown) => this.log.error({ err: (e as Error).message }, 'subscribing failed; retried at the next connect'),
      );
    });
  }

  // Declared before `ready`, whose initializer sets it: fields are defined in this order.
  private markReady!: () => void;
  /** Resolves once the consumer first holds its subscriptions. */
  readonly ready: Promise<void> = new Promise((resolve) => (this.markReady = resolve));

  private subscriptions(): ISubscriptionMap {
    const { broker, subscribe } = this.o.config;
    const shared = (topic: string) => (broker.shared_group ? `$share/${broker.shared_group}/${topic}` : topic);
    const topics: ISubscriptionMap = {};
    for (const base of subscribe) {
      // bridge/info is retained, and brokers send no retained message to a shared subscription.
      // rh 1: its retained message only when the subscription is new, not at every reconnect.
      topics[`${base}/${INFO_SUBTOPIC}`] = { qos: 1, rh: 1 };
      for (const sub of [...EVENT_SUBTOPICS, SEQUENCE_SUBTOPIC, REPLAY_ANSWER_SUBTOPIC]) topics[shared(`${base}/${sub}`)] = { qos: 1 };
    }
    return topics;
  }

  /**
   * Ends the session gracefully within STOP_GRACE_MS, else drops the connection. The messages being
   * handled end first, so their acknowledgements go out before the DISCONNECT and nothing is stored
   * or counted after the stop (the caller closes the store next); a message waiting for its store
   * gives up at its next try, unacknowledged, and the broker sends it again. MQTT.js's graceful end
   * waits for the broker to acknowledge what is in flight and to close its side, and a broker that
   * stopped answering, or a subscription in flight as the connection dropped, made that wait
   * endless, and SIGTERM with it. What is dropped is only this consumer's own requests, asked again
   * by the next one. The timesheets are written last, with what those messages brought.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.replayTimer) clearInterval(this.replayTimer);
    this.replayTimer = undefined;
    const deadline = Date.now() + STOP_GRACE_MS;
    await this.handled(deadline);
    const client = this.client;
    this.client = undefined;
    if (client) {
      const ended = await settlesWithin(client.endAsync(false), STOP_GRACE_MS);
      if (!ended) {
        this.log.warn({ in_flight: Object.keys(client.outgoing).length }, `the broker did not close the session within ${STOP_GRACE_MS} ms: the connection is dropped`);
        client.stream.destroy();
      }
      // A message that came while the session ended gets a try of its own.
      await this.handled(Math.max(deadline, Date.now() + STORE_RETRY_MS));
    }
    if (this.inFlight.size > 0) this.log.warn({ in_flight: this.inFlight.size }, 'messages still being handled at stop: left unacknowledged, the broker sends them again');
    await this.flushTimesheets().catch((e: unknown) => this.log.error({ code: 'FG_ERR_CENTRAL_TIMESHEET', err: (e as Error).message }, 'a timesheet could not be written at stop; `facegate central timesheet` writes it from the store'));
  }

  /** Waits until no message is being handled, or until the deadline. */
  private async handled(deadline: number): Promise<void> {
    while (this.inFlight.size > 0 && (await settlesWithin(Promise.all(this.inFlight), deadline - Date.now()))) {
      // Messages that came meanwhile are waited for too.
    }
  }

  /**
   * MQTT.js's handler of each message it receives: it sends the PUBACK of a QoS 1 message when this
   * calls back, and withholds it when called back with an error. The broker lets only so many
   * messages be unacknowledged to one client at a time (Mosquitto: 20), across all topics: that
   * many messages the consumer could not store, from one sender, would stop every box's messages,
   * and come again after every restart. So every message is acknowledged once handled, whatever
   * became of it: stored, refused, or failed (counted, logged). A numbered event that failed is
   * seen missing and asked for again by replay (docs/mqtt.md#replay) once the store takes it.
   * One exception: while the store itself is away (a PostgreSQL server restarting, its network),
   * no message could be stored, whoever sent it: the message is tried again every STORE_RETRY_MS
   * and acknowledged only once stored, so nothing is acknowledged that is not kept. A consumer
   * stopped meanwhile leaves it unacknowledged, and the broker sends it again.
   */
  async handleMessage(packet: Pick<IPublishPacket, 'topic' | 'payload'>, acknowledge: () => void): Promise<Verdict> {
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    const topic = packet.topic.toString();
    for (let waited = 0; ; waited++) {
      try {
        const verdict = await this.handle(topic, payload);
        if (waited > 0) this.log.info({ topic, waited_s: (waited * STORE_RETRY_MS) / 1000 }, 'the store is back: the message kept waiting is stored');
        acknowledge();
        return verdict;
      } catch (e) {
        if (!this.o.store.unavailable(e)) {
          const verdict = this.failed(topic, e);
          acknowledge();
          return verdict;
        }
        if (this.stopping) return this.count({ outcome: 'failed', reason: 'store_unavailable' });
        if (waited === 0 && this.logCount('store_unavailable') === 1) {
          this.log.error({ code: 'FG_ERR_CENTRAL_STORE_UNAVAILABLE', err: String((e as Error).message).slice(0, MAX_ERROR_CHARS) }, 'the store is away: messages wait, unacknowledged, and are tried again each second');
        }
        await new Promise((r) => setTimeout(r, STORE_RETRY_MS));
      }
    }
  }

  /** One message, start to end, never throwing: its verdict, or `failed` where handling it threw (the database refused it). */
  async receive(topic: string, payload: Uint8Array): Promise<Verdict> {
    try {
      return await this.handle(topic, payload);
    } catch (e) {
      return this.failed(topic, e);
    }
  }

  /** One message, start to end: never throws for anything in it; throws only when the database cannot be written. */
  async handle(topic: string, payload: Uint8Array): Promise<Verdict> {
    const inbound = readMessage(topic, payload, this.o.config.subscribe, this.o.config.limits.max_payload_kb * 1024);
    if (inbound.kind === 'ignored') return { outcome: 'ignored' };
    if (inbound.kind === 'malformed') return this.refuse({ outcome: 'malformed', reason: inbound.reason }, { base: inbound.base, topic, detail: inbound.detail });
    // Whose key signs is known only from the topic: a name in the payload is a claim. The box a
    // replay request addresses (its token's audience) is the topic's, so a payload naming another
    // box is refused here, before it could make the consumer sign a request for that box.
    if (inbound.device !== boxIdOf(inbound.base)) {
      return this.refuse(
        { outcome: 'wrong_device', reason: 'claimed' },
        { base: inbound.base, topic, device: inbound.device, detail: `the payload names device ${JSON.stringify(inbound.device)}, its topic is box ${JSON.stringify(boxIdOf(inbound.base))}'s: an impostor, or a box whose base topic does not end in its mqtt.device_id` },
      );
    }
    switch (inbound.kind) {
      case 'info':
        return this.takeInfo(inbound.base, inbound.device, inbound.publicKey, topic);
      case 'event':
        return this.takeEvent(inbound.base, inbound.topic, inbound.body, topic);
      case 'sequence':
      case 'replayAnswer':
        return this.takeReplayMessage(inbound.kind, inbound.base, inbound.body, topic);
    }
  }

  private async pinOf(base: string): Promise<PinnedKey | undefined> {
    const provisioned = this.o.config.keys.get(base);
    if (provisioned || this.o.config.pinning === 'provisioned') return provisioned;
    let pin = this.pins.get(base);
    if (!pin) {
      pin = await this.o.store.pinOf(base);
      if (pin) this.pins.set(base, pin);
    }
    return pin;
  }

  private async takeInfo(base: string, device: string, publicKey: unknown, topic: string): Promise<Verdict> {
    const offered = pinnedKeyFromJwk(publicKey);
    if (!offered) return this.refuse({ outcome: 'malformed', reason: 'bad_key' }, { base, topic, detail: 'public_key is not an Ed25519 JWK with its thumbprint as kid' });
    const pinned = await this.pinOf(base);
    if (pinned) {
      if (pinned.kid === offered.kid) return this.count({ outcome: 'ignored', reason: 'same_key' });
      return this.refuse({ outcome: 'key_changed' }, { base, topic, device, pinned_kid: pinned.kid, offered_kid: offered.kid, detail: 'the box offers another key than the one pinned: a new key (keys init on a rebuilt box) or an impostor; pin the new key by hand once it is known to be the box' });
    }
    if (this.o.config.pinning === 'provisioned') return this.refuse({ outcome: 'unknown_box', reason: 'bridge_info' }, { base, topic, device, detail: 'no key is provisioned for this base topic' });
    // Boxes check a request's audience against their device id alone: two bases of one box id
    // (site-a/x/gate-1, site-a/y/gate-1) would each run the requests signed for the other.
    const holder = await this.holderOf(device, base);
    if (holder !== undefined) {
      return this.refuse({ outcome: 'wrong_device', reason: 'taken' }, { base, topic, device, held_by: holder, detail: `box id ${JSON.stringify(device)} is already ${JSON.stringify(holder)}'s: device ids must be unique across the bases a consumer reads; list this one under keys by hand if it is a box` });
    }
    // Whoever may publish a bridge/info under a subscribed base could otherwise pin boxes without end.
    const boxes = await this.o.store.pinCount();
    if (boxes >= this.o.config.max_pinned) {
      return this.refuse({ outcome: 'unknown_box', reason: 'pin_limit' }, { base, topic, device, pinned: boxes, detail: `${boxes} boxes are pinned on first use, max_pinned: list this box under keys if it is one, or raise max_pinned` });
    }
    await this.o.store.pin(base, offered, device, new Date(this.now()).toISOString());
    this.pins.set(base, offered);
    this.log.info({ base, device, kid: offered.kid }, 'pinned the key of a new box from its bridge/info (trust on first use)');
    return this.count({ outcome: 'pinned' });
  }

  /** Another base whose box id is `device` (provisioned or pinned), if any. */
  private async holderOf(device: string, base: string): Promise<string | undefined> {
    for (const other of this.o.config.keys.keys()) if (other !== base && boxIdOf(other) === device) return other;
    return this.o.store.baseOfBox(device, base);
  }

  /**
   * The box's high-water mark, or its answer to a replay request: signed like its events and
   * checked the same way (pinned key, then the replay window), and not stored as events.
   */
  private async takeReplayMessage(kind: 'sequence' | 'replayAnswer', base: string, body: Readonly<Record<string, unknown>>, topic: string): Promise<Verdict> {
    const checked = await this.verified(base, body, topic);
    if ('outcome' in checked) return checked;
    const { signed, nowMs } = checked;
    if (kind === 'sequence') {
      await this.o.store.raiseHigh(base, boxIdOf(base), signed.seq as number, new Date(nowMs).toISOString());
      return this.count({ outcome: 'sequence' });
    }
    await this.replay?.answer(base, signed);
    return this.count({ outcome: 'replay_answer' });
  }

  /** The one check of anything a box signs: its pinned key, then its time within the replay window and the clock skew. */
  private async verified(base: string, body: Readonly<Record<string, unknown>>, topic: string): Promise<{ signed: Record<string, unknown>; nowMs: number } | Verdict> {
    const pin = await this.pinOf(base);
    if (!pin) return this.refuse({ outcome: 'unknown_box', reason: 'event' }, { base, topic, id: body.id, detail: this.o.config.pinning === 'provisioned' ? 'no key is provisioned for this base topic' : 'no key pinned yet: the box has published no bridge/info' });
    const verdict = verifySignedEvent(body, pin);
    if (!verdict.ok) return this.refuse({ outcome: 'forged', reason: verdict.problem }, { base, topic, id: body.id, detail: 'not as the box signed it: the signature, its key or the fields around it do not match its pinned key' });
    const signed = verdict.signed;
    const nowMs = this.now();
    const atMs = Date.parse(String(signed.time));
    const { replay_window_s, clock_skew_s } = this.o.config.limits;
    if (!Number.isFinite(atMs)) return this.refuse({ outcome: 'malformed', reason: 'bad_time' }, { base, topic, id: signed.id, detail: 'time is not a date' });
    if (atMs < nowMs - replay_window_s * 1000) return this.refuse({ outcome: 'stale', reason: 'too_old' }, { base, topic, id: signed.id, time: signed.time, detail: `signed more than ${replay_window_s} s ago: a replay, or a box whose outbox waited longer than the window` });
    if (atMs > nowMs + clock_skew_s * 1000) return this.refuse({ outcome: 'stale', reason: 'in_future' }, { base, topic, id: signed.id, time: signed.time, detail: `dated more than ${clock_skew_s} s ahead: check the box's clock` });
    return { signed, nowMs };
  }

  private async takeEvent(base: string, topicName: Parameters<CentralStorage['record']>[1], body: Readonly<Record<string, unknown>>, topic: string): Promise<Verdict> {
    const checked = await this.verified(base, body, topic);
    if ('outcome' in checked) return checked;
    const { signed, nowMs } = checked;
    const mark = topicName === 'attendance' ? attendanceMark(signed) : undefined;
    const stored = await this.o.store.record(base, topicName, signed, mark, new Date(nowMs).toISOString());
    if (stored === 'duplicate') {
      this.log.debug({ base, id: signed.id }, 'dropped a duplicate (same id: a redelivery or a replay)');
      return this.count({ outcome: 'duplicate' });
    }
    if (mark) this.timesheetBehind(mark.day);
    if (topicName === 'attendanceRetracted' && typeof signed.retracts === 'string') {
      const day = await this.o.store.retract(base, String(signed.id), signed.retracts);
      if (day !== undefined) this.timesheetBehind(day);
    }
    if (topicName === 'attendanceUpgraded' && typeof signed.upgrades === 'string' && isAssurance(signed.assurance)) {
      const day = await this.o.store.upgrade(base, signed.upgrades, signed.assurance, sharesFrom(signed.liveness));
      if (day !== undefined) this.timesheetBehind(day);
    }
    this.o.onAccepted?.(base, signed);
    return this.count({ outcome: 'accepted' });
  }

  /**
   * The day's CSV is behind the store: it is written within TIMESHEET_DELAY_MS, with every other
   * day that fell behind meanwhile. Written at each check-in, it cost a query of the whole day and a
   * file of it per event, which grows with the day: 200 boxes at a busy morning's rate left the
   * consumer minutes behind.
   */
  private timesheetBehind(day: string): void {
    this.daysBehind.add(day);
    this.timesheetTimer ??= setTimeout(() => {
      this.timesheetTimer = undefined;
      void this.flushTimesheets().catch((e: unknown) => this.log.error({ code: 'FG_ERR_CENTRAL_TIMESHEET', err: (e as Error).message }, 'a timesheet could not be written; it is written again after the next event of its day'));
    }, TIMESHEET_DELAY_MS);
    this.timesheetTimer.unref();
  }

  /** Writes now each day's CSV that is behind the store (at stop, and for a reader that cannot wait). */
  async flushTimesheets(): Promise<void> {
    clearTimeout(this.timesheetTimer);
    this.timesheetTimer = undefined;
    const days = [...this.daysBehind];
    this.daysBehind.clear();
    // One write at a time: two would share the day's .tmp file.
    const written = this.timesheetWrites.then(async () => {
      for (const [i, day] of days.entries()) {
        try {
          await this.writeTimesheet(day);
        } catch (e) {
          for (const left of days.slice(i)) this.daysBehind.add(left);
          throw e;
        }
      }
    });
    this.timesheetWrites = written.catch(() => undefined);
    await written;
  }

  /**
   * Rewrites the day's CSV whole (written aside, then renamed): a reader never sees half a file.
   * Never through a link planted at the file written aside (writePrivateFile): the rename would
   * then leave the day's sheet a link to whatever file the CSV overwrote.
   */
  private async writeTimesheet(day: string): Promise<void> {
    const { timesheet_dir, timesheet_assurance, employees, time_zone } = this.o.config;
    mkdirSync(timesheet_dir, { recursive: true, mode: 0o700 });
    const path = join(timesheet_dir, `timesheet-${day}.csv`);
    writePrivateFile(`${path}.tmp`, timesheetCsv(await this.o.store.timesheet(day, { assurances: timesheet_assurance }), employees, time_zone));
    renameSync(`${path}.tmp`, path);
  }

  private count(v: Verdict): Verdict {
    const key = `${v.outcome}\u0000${v.reason ?? ''}`;
    const c = this.counts.get(key);
    if (c) c.n++;
    else this.counts.set(key, { outcome: v.outcome, reason: v.reason ?? '', n: 1 });
    return v;
  }

  private refuse(v: Verdict, fields: Record<string, unknown>): Verdict {
    this.count(v);
    const n = this.logCount(v.outcome);
    if (n <= LOG_PER_MINUTE) {
      const level = v.outcome === 'malformed' ? 'warn' : 'error';
      this.log[level]({ ...fields, outcome: v.outcome, reason: v.reason, ...(n === LOG_PER_MINUTE ? { more: 'further refusals of this kind this minute are only counted' } : {}) }, `refused a message: ${v.outcome}${v.reason ? ` (${v.reason})` : ''}`);
    }
    return v;
  }

  /**
   * A message whose handling threw: counted by its kind, logged once a minute per box and kind
   * (and at most LOG_PER_MINUTE lines a minute in all, however many bases fail), with the error's
   * words but nothing of the payload.
   */
  private failed(topic: string, e: unknown): Verdict {
    const split = splitTopic(topic, this.o.config.subscribe);
    const path = split ? classifyPath(split.path) : undefined;
    const kind = path === undefined ? 'other' : path.kind === 'event' ? path.topic : path.kind;
    const v = this.count({ outcome: 'failed', reason: kind });
    const base = split?.base ?? '';
    if (this.logCount(`failed\u0000${base}\u0000${kind}`) === 1 && this.logCount('failed') <= LOG_PER_MINUTE) {
      const err: Error & { code?: unknown } = e instanceof Error ? e : new Error(String(e));
      this.log.error(
        { code: 'FG_ERR_CENTRAL_NOT_STORED', base, topic, kind, err: err.message.slice(0, MAX_ERROR_CHARS), ...(typeof err.code === 'string' ? { err_code: err.code } : {}) },
        'message not stored: acknowledged all the same, so that it cannot hold back the session; further ones of this box and kind this minute are only counted. Check the database (disk, permissions); a numbered event is asked for again by replay',
      );
    }
    return v;
  }

  /** How many lines were asked to be logged under `key` this minute, this one included. */
  private logCount(key: string): number {
    const minute = Math.floor(this.now() / 60_000);
    if (minute !== this.loggedMinute) {
      this.logged.clear();
      this.loggedMinute = minute;
    }
    const n = (this.logged.get(key) ?? 0) + 1;
    this.logged.set(key, n);
    return n;
  }
}

