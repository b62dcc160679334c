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
  feedEntryFilter,
  feedReportTopic,
  verifyFeedEntry,
  type FeedEntry,
  type FeedRefusal,
} from '../../contract/feed.js';
import { openForBox } from '../../contract/feed-seal.js';

/** Entries that arrived before the one they follow, held until it is applied; past these bounds an entry is refused as out of order (the broker keeps it, and sends it again at the next connect). */
export const FEED_HELD_MAX = 4096;
export const FEED_HELD_MAX_BYTES = 64 * 1024 * 1024;
/** Messages taken off the broker and not yet looked at; past these a message is refused unread (a retained entry comes again at the next connect). */
export const FEED_QUEUE_MAX = 10_000;
export const FEED_QUEUE_MAX_BYTES = 64 * 1024 * 1024;
/** How soon an entry the person service could not take (busy, the state file locked) is tried again. */
export const FEED_RETRY_MS = 1000;

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
  persons: Pick<PersonService, 'applyFeed' | 'feedState'>;
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

  /** Hands the entry to the person service; false when it could not take it now, and the entry waits to be tried again. */
  private async apply(h: Held): Promise<boolean> {
    const { entry, digest } = h;
    let result: FeedOutcome;
    try {
      result = await this.o.persons.applyFeed(this.changeOf(entry), this.o.now());
    } catch (e) {
      // Not a verdict on the entry: the service was busy with other changes, stopping, or the state
      // file was. The entry waits among the held ones (so the ones after it too) and is tried again.
      this.put(h);
      this.retryLater(e);
      return false;
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
    if (r.outcome === 'refused') return this.refuse(r.reason, { seq: entry.seq, kind: entry.kind, person: entry.person, code: r.code });
    this.counts.outcomes[r.outcome]++;
    if (r.outcome === 'applied') this.log.info({ seq: entry.seq, kind: entry.kind, person: entry.person }, 'feed entry applied');
  }

  /** The entry as the person service takes it: its sealed person opened for this box, or why not. */
  private changeOf(entry: FeedEntry): FeedChange {
    const at = { site: entry.site, seq: entry.seq };
    if (entry.kind === 'erase' || !entry.sealed) return { ...at, kind: 'erase', person: entry.person };
    const opened = openForBox(this.o.sodium, entry.sealed, feedAssociatedData(entry), this.o.deviceId, this.o.openingKeys);
    if (!opened.ok) return opened.why === 'not_addressed' ? { ...at, kind: 'pass' } : { ...at, kind: 'refuse', reason: 'unreadable' };
    let person: unknown;
    try {
      person = JSON.parse(Buffer.from(opened.plain).toString('utf8'));
    } catch {
      return { ...at, kind: 'refuse', reason: 'malformed' };
    } finally {
      opened.plain.fill(0);
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
