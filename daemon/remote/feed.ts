import { createHash, type KeyObject } from 'node:crypto';
import { Value } from '@sinclair/typebox/value';
import type { IPublishPacket } from 'mqtt';
import type { Logger } from '../base/log.js';
import type { MqttBridge } from '../events/bridge.js';
import type { Signer } from '../events/signing.js';
import type { Sodium } from '../gallery/sodium.js';
import { bytesToEmbedding } from '../gallery/seal.js';
import type { PersonService } from '../service/persons.js';
import type { FeedChange, FeedCounts, FeedOutcome } from '../service/person-feed.js';
import { formatLocalIso } from '../base/zoned-time.js';
import {
  FEED_REFUSALS,
  FEED_REFUSAL_CODES,
  FeedPerson,
  feedAssociatedData,
  feedAssociatedDataV1,
  feedEntryFilter,
  feedReportTopic,
  verifyFeedEntry,
  type FeedEntry,
  type FeedKeyEntry,
  type FeedRefusal,
} from '../../contract/feed.js';
import { decryptContent, openForBoxV1, unwrapKey } from '../../contract/feed-seal.js';

/** Entries that arrived before the one they follow, held until it is applied; past these bounds an entry is refused as out of order (the broker keeps it, and sends it again at the next connect). */
export const FEED_HELD_MAX = 4096;
export const FEED_HELD_MAX_BYTES = 64 * 1024 * 1024;
/** Messages taken off the broker and not yet looked at; past these a message is refused unread (a retained entry comes again at the next connect). */
export const FEED_QUEUE_MAX = 10_000;
export const FEED_QUEUE_MAX_BYTES = 64 * 1024 * 1024;
/** How soon an entry the person service could not take (busy, the state file locked) is tried again. */
export const FEED_RETRY_MS = 1000;
/**
 * How long the next entry waits for the key entry of the key it names, when none came: a key
 * wrapped again for this box just now may still be on its way. Past it, the entry is refused
 * (`key_missing`) and the feed goes on; later entries of that key are refused at once.
 */
export const FEED_KEY_WAIT_MS = 30_000;

export interface FeedOptions {
  site: string;
  /** The topic the central publishes the site's feeds under (mqtt.feed.topic). */
  root: string;
  deviceId: string;
  baseTopic: string;
  timeZone: string;
  /** The central's Ed25519 public key (mqtt.commands.central_public_key). */
  centralKey: KeyObject;
  /** This box's X25519 pair, from its device key: what the entries' content keys are sealed to. */
  openingKeys: { publicKey: Uint8Array; privateKey: Uint8Array };
  sodium: Sodium;
  persons: Pick<PersonService, 'applyFeed' | 'feedState' | 'feedKey'>;
  /** Signs the box's report, as its events are signed. */
  signer: Signer;
  logger: Logger;
  now: () => number;
  /** How long after an entry the report waits for more before it is published. */
  reportDelayMs?: number;
  /** How many entries may wait for the one before them; FEED_HELD_MAX unless a test needs fewer. */
  heldMax?: number;
  /** How many messages may wait to be looked at; FEED_QUEUE_MAX unless a test needs fewer. */
  queueMax?: number;
  /** How long an entry waits for its key's entry; FEED_KEY_WAIT_MS unless a test needs less. */
  keyWaitMs?: number;
}

interface Held {
  entry: FeedEntry;
  bytes: number;
  digest: string;
}

/** How many of the messages applied last are remembered, to tell a copy of one sent again from the central's new signature of it. */
const REMEMBERED = 4096;

/**
 * The box's side of a site's gallery feed: subscribes to the site's entries, checks each (its size,
 * the central's signature, its shape, its site, its place in the order), holds those that came
 * before the entry they follow, and hands the next one to the person service, which applies it
 * through the rules of every enrolment. Whatever an entry is, it is counted and never stops the
 * ones after it. After entries it publishes its report, retained and signed: the number applied,
 * the persons it holds from the feed and the entries it refused, which the central reads.
 */
export class FeedSubscriber {
  readonly counts: FeedCounts;
  private readonly held = new Map<number, Held>();
  /** sha256 of the messages handed to the person service, oldest first, at most REMEMBERED. */
  private readonly applied = new Set<string>();
  private heldBytes = 0;
  /** Messages taken and not yet looked at, and their bytes. */
  private queued = 0;
  private queuedBytes = 0;
  private chain: Promise<void> = Promise.resolve();
  private reportTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private keyTimer: NodeJS.Timeout | undefined;
  /** Keys named by an entry with no key entry of them yet: since when the feed waits for each. */
  private readonly keyWaits = new Map<string, number>();
  /** Keys waited for in vain: their entries are refused at once, until a key entry of them comes. */
  private readonly keysMissing = new Set<string>();
  private bridge: MqttBridge | undefined;
  private readonly log: Logger;
  private readonly topicPrefix: string;
  private closed = false;

  constructor(private readonly o: FeedOptions) {
    this.log = o.logger.child({ stage: 'events', part: 'feed', site: o.site });
    this.counts = { applied: o.persons.feedState(o.site).applied, outcomes: { applied: 0, passed: 0, already: 0, held: 0 }, refused: Object.fromEntries(FEED_REFUSALS.map((r) => [r, 0])) as Record<FeedRefusal, number> };
    this.topicPrefix = `${o.root}/${o.site}/entry/`;
  }

  get subscription(): string {
    return feedEntryFilter(this.o.root, this.o.site);
  }

  attach(bridge: MqttBridge): void {
    this.bridge = bridge;
    bridge.onConnect(async (client) => {
      await client.subscribeAsync(this.subscription, { qos: 1 });
      this.scheduleReport(0);
    });
    bridge.onMessage((topic, payload, packet) => {
      if (!topic.startsWith(this.topicPrefix)) return;
      this.receive(topic, payload, packet);
    });
  }

  /** Takes one message off the broker; what it leads to runs in order, after the messages before it. */
  receive(topic: string, payload: Buffer, packet: Pick<IPublishPacket, 'retain'>): Promise<void> {
    if (this.queued >= (this.o.queueMax ?? FEED_QUEUE_MAX) || this.queuedBytes + payload.length > FEED_QUEUE_MAX_BYTES) {
      this.refuse('overloaded', { topic: topic.slice(0, 200), queued: this.queued });
      return this.chain;
    }
    this.queued++;
    this.queuedBytes += payload.length;
    const next = this.chain.then(() => {
      this.queued--;
      this.queuedBytes -= payload.length;
      return this.take(topic, payload, packet.retain === true);
    });
    this.chain = next.catch((e: unknown) => this.log.error({ err: e instanceof Error ? e.message : String(e) }, 'feed entry could not be applied; it is taken again at the next connect'));
    return this.chain;
  }

  /** Every message taken so far has been handled. */
  settled(): Promise<void> {
    return this.chain;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.reportTimer);
    clearTimeout(this.retryTimer);
    clearTimeout(this.keyTimer);
  }

  private refuse(reason: FeedRefusal, detail: Record<string, unknown>): void {
    this.counts.refused[reason]++;
    this.log.warn({ code: FEED_REFUSAL_CODES[reason], reason, ...detail }, 'feed entry refused, not applied');
  }

  private async take(topic: string, payload: Buffer, retained: boolean): Promise<void> {
    if (payload.length === 0) return; // a retained entry cleared by the central's compaction
    const verdict = verifyFeedEntry(payload, this.o.centralKey);
    if (!verdict.ok) return this.refuse(verdict.reason, { topic: topic.slice(0, 200), bytes: payload.length });
    const entry = verdict.entry;
    if (entry.site !== this.o.site) return this.refuse('other_site', { seq: entry.seq });
    if (topic !== this.topicPrefix + String(entry.seq)) return this.refuse('malformed', { seq: entry.seq, topic: topic.slice(0, 200) });
    const digest = createHash('sha256').update(payload).digest('base64url');
    if (entry.seq <= this.counts.applied && entry.kind === 'key' && !(!retained && this.applied.has(digest))) {
      // A key entry behind the number applied: the central wrapped a key again for this box (or the
      // broker sent it again). Its key is kept all the same, for the entries ahead that use it.
      await this.keepLateKey(entry);
      return;
    }
    if (entry.seq <= this.counts.applied) {
      // The broker sends every retained entry again at each subscription, and the central signs an
      // entry again when it compacts the log before it: no news. The very message applied, sent
      // live again, is someone publishing a copy of it.
      if (!retained && this.applied.has(digest)) this.refuse('replayed', { seq: entry.seq, applied: this.counts.applied });
      else this.counts.outcomes.already++;
      return;
    }
    const h: Held = { entry, bytes: payload.length, digest };
    if (entry.prev > this.counts.applied) return this.hold(h);
    // Among the held ones, so that one the service could not take yet still goes first.
    this.put(h);
    await this.applyHeld();
  }

  private hold(h: Held): void {
    const { entry, bytes } = h;
    const before = this.held.get(entry.seq);
    if (!before && (this.held.size >= (this.o.heldMax ?? FEED_HELD_MAX) || this.heldBytes + bytes > FEED_HELD_MAX_BYTES)) {
      return this.refuse('out_of_order', { seq: entry.seq, prev: entry.prev, applied: this.counts.applied, held: this.held.size });
    }
    this.put(h);
    this.counts.outcomes.held++;
  }

  /** Keeps an entry until it can be applied; a later copy of one number is the central's relinked one and replaces the earlier. */
  private put(h: Held): void {
    this.heldBytes += h.bytes - (this.held.get(h.entry.seq)?.bytes ?? 0);
    this.held.set(h.entry.seq, h);
  }

  /** The held entries that now follow the last applied, lowest first, until none does. */
  private async applyHeld(): Promise<void> {
    for (;;) {
      let next: Held | undefined;
      for (const [seq, h] of this.held) {
        if (seq <= this.counts.applied) this.drop(seq, h);
        else if (h.entry.prev <= this.counts.applied && (!next || seq < next.entry.seq)) next = h;
      }
      if (!next) return;
      this.drop(next.entry.seq, next);
      if (!(await this.apply(next))) return;
    }
  }

  private drop(seq: number, h: Held): void {
    this.held.delete(seq);
    this.heldBytes -= h.bytes;
  }

  /** A key entry behind the number applied, kept for its key; the entry waiting for it may go on. */
  private async keepLateKey(entry: FeedKeyEntry): Promise<void> {
    const change = this.keyChange(entry);
    if (change.kind === 'refuse') return this.refuse(change.reason, { seq: entry.seq, key: entry.key.id });
    try {
      this.counted(entry, await this.o.persons.applyFeed(change, this.o.now()));
    } catch (e) {
      // Sent again at the next connect, as every retained entry is.
      this.log.warn({ err: e instanceof Error ? e.message : String(e), seq: entry.seq }, 'feed key entry not kept now');
      return;
    } finally {
      if (change.kind === 'key') change.key?.fill(0);
    }
    this.keyWaits.delete(entry.key.id);
    this.keysMissing.delete(entry.key.id);
    await this.applyHeld();
  }

  /** Hands the entry to the person service; false when it could not take it now, and the entry waits to be tried again. */
  private async apply(h: Held): Promise<boolean> {
    const { entry, digest } = h;
    const change = this.changeOf(entry);
    if (change === 'wait') {
      this.put(h);
      return false;
    }
    let result: FeedOutcome;
    try {
      result = await this.o.persons.applyFeed(change, this.o.now());
    } catch (e) {
      // Not a verdict on the entry: the service was busy with other changes, stopping, or the state
      // file was. The entry waits among the held ones (so the ones after it too) and is tried again.
      this.put(h);
      this.retryLater(e);
      return false;
    } finally {
      if (change.kind === 'key') change.key?.fill(0);
    }
    if (entry.kind === 'key') {
      this.keyWaits.delete(entry.key.id);
      this.keysMissing.delete(entry.key.id);
    }
    this.applied.add(digest);
    if (this.applied.size > REMEMBERED) this.applied.delete(this.applied.values().next().value!);
    this.counted(entry, result);
    this.counts.applied = Math.max(this.counts.applied, entry.seq);
    this.scheduleReport(this.o.reportDelayMs ?? 500);
    return true;
  }

  private retryLater(e: unknown): void {
    this.log.warn({ err: e instanceof Error ? e.message : String(e), code: (e as { code?: string }).code, retryMs: FEED_RETRY_MS }, 'feed entry not applied now; tried again shortly');
    if (this.closed || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      const next = this.chain.then(() => this.applyHeld());
      this.chain = next.catch((err: unknown) => this.log.error({ err: err instanceof Error ? err.message : String(err) }, 'feed retry failed'));
    }, FEED_RETRY_MS);
    this.retryTimer.unref();
  }

  private counted(entry: FeedEntry, r: FeedOutcome): void {
    const what = entry.kind === 'key' ? { key: entry.key.id } : { person: entry.person };
    if (r.outcome === 'refused') return this.refuse(r.reason, { seq: entry.seq, kind: entry.kind, ...what, code: r.code });
    this.counts.outcomes[r.outcome]++;
    if (r.outcome === 'applied') this.log.info({ seq: entry.seq, kind: entry.kind, ...what }, 'feed entry applied');
  }

  /** A key entry as the person service keeps it: the key wrapped to this box, or null when none is. */
  private keyChange(entry: FeedKeyEntry): FeedChange {
    const at = { site: entry.site, seq: entry.seq };
    const key = unwrapKey(this.o.sodium, entry.key, this.o.deviceId, this.o.openingKeys);
    if (key === 'unreadable') return { ...at, kind: 'refuse', reason: 'unreadable' };
    return { ...at, kind: 'key', id: entry.key.id, key: key ?? null };
  }

  /**
   * The content key an entry names: its bytes, 'pass' when its key entry wraps nothing to this box,
   * 'wait' while the feed waits for its key entry, or a refusal once it waited long enough.
   */
  private contentKey(site: string, id: string): Uint8Array | 'pass' | 'wait' | FeedRefusal {
    let key: Uint8Array | null | undefined;
    try {
      key = this.o.persons.feedKey(site, id);
    } catch {
      return 'unreadable'; // the key kept here does not open: tampered at rest
    }
    if (key === null) return 'pass';
    if (key !== undefined) return key;
    if (this.keysMissing.has(id)) return 'key_missing';
    const now = this.o.now();
    const since = this.keyWaits.get(id);
    const waitMs = this.o.keyWaitMs ?? FEED_KEY_WAIT_MS;
    if (since === undefined) {
      this.keyWaits.set(id, now);
      this.counts.outcomes.held++;
      this.log.info({ key: id, waitMs }, 'feed entry waits for the entry of its key');
    } else if (now - since >= waitMs) {
      this.keyWaits.delete(id);
      this.keysMissing.add(id);
      return 'key_missing';
    }
    this.wakeAt((since ?? now) + waitMs - now);
    return 'wait';
  }

  /** The held entries looked at again after `ms`, when an entry's wait for its key ends. */
  private wakeAt(ms: number): void {
    if (this.closed || this.keyTimer) return;
    this.keyTimer = setTimeout(() => {
      this.keyTimer = undefined;
      const next = this.chain.then(() => this.applyHeld());
      this.chain = next.catch((err: unknown) => this.log.error({ err: err instanceof Error ? err.message : String(err) }, 'feed key wait failed'));
    }, Math.max(0, ms));
    this.keyTimer.unref();
  }

  /** The entry as the person service takes it: its person opened for this box, a key, or why not; 'wait' while its key's entry is awaited. */
  private changeOf(entry: FeedEntry): FeedChange | 'wait' {
    const at = { site: entry.site, seq: entry.seq };
    if (entry.kind === 'key') return this.keyChange(entry);
    if (entry.kind === 'erase' || !entry.sealed) return { ...at, kind: 'erase', person: entry.person };
    let plain: Uint8Array;
    if (entry.v === 1) {
      // The first format, each entry sealed to every box: read until the central wrote the site's persons again.
      const opened = openForBoxV1(this.o.sodium, entry.sealed, feedAssociatedDataV1(entry), this.o.deviceId, this.o.openingKeys);
      if (!opened.ok) return opened.why === 'not_addressed' ? { ...at, kind: 'pass' } : { ...at, kind: 'refuse', reason: 'unreadable' };
      plain = opened.plain;
    } else {
      const key = this.contentKey(entry.site, entry.sealed.key);
      if (key === 'wait') return 'wait';
      if (key === 'pass') return { ...at, kind: 'pass' };
      if (typeof key === 'string') return { ...at, kind: 'refuse', reason: key };
      const opened = decryptContent(this.o.sodium, entry.sealed, key, feedAssociatedData(entry, entry.sealed.key));
      key.fill(0);
      if (!opened) return { ...at, kind: 'refuse', reason: 'unreadable' };
      plain = opened;
    }
    let person: unknown;
    try {
      person = JSON.parse(Buffer.from(plain).toString('utf8'));
    } catch {
      return { ...at, kind: 'refuse', reason: 'malformed' };
    } finally {
      plain.fill(0);
    }
    if (!Value.Check(FeedPerson, person)) return { ...at, kind: 'refuse', reason: 'malformed' };
    const p = person as FeedPerson;
    return {
      ...at,
      kind: entry.kind,
      person: entry.person,
      fields: { name: p.name, ...(p.external_id !== undefined ? { externalId: p.external_id } : {}), ...(p.group !== undefined ? { group: p.group } : {}) },
      templates: p.templates.map((t, i) => ({ embedding: bytesToEmbedding(Buffer.from(t.embedding, 'base64')), quality: t.quality, model: t.model, source: `feed ${entry.site} entry ${entry.seq} template ${i + 1}` })),
    };
  }

  private scheduleReport(delayMs: number): void {
    if (this.closed || this.reportTimer) return;
    this.reportTimer = setTimeout(() => {
      this.reportTimer = undefined;
      this.report().catch((e: unknown) => this.log.warn({ err: e instanceof Error ? e.message : String(e) }, 'feed report not published; it is sent again at the next connect'));
    }, delayMs);
    this.reportTimer.unref();
  }

  /** The box's report, retained under its base topic and signed by its device key. */
  async report(): Promise<void> {
    const client = this.bridge?.mqtt;
    if (!client || !this.bridge?.connected) return;
    const state = this.o.persons.feedState(this.o.site);
    const body = { device: this.o.deviceId, site: this.o.site, applied: state.applied, persons: state.persons, refused: state.refused, time: formatLocalIso(this.o.now(), this.o.timeZone) };
    await client.publishAsync(feedReportTopic(this.o.baseTopic), JSON.stringify({ ...body, jws: this.o.signer.signJson(body) }), { qos: 1, retain: true });
  }
}
