import { createPrivateKey, randomUUID, type JsonWebKey, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { FacegateError } from '../daemon/base/errors.js';
import { readInputFile } from '../daemon/base/input-file.js';
import type { Logger } from '../daemon/base/log.js';
import { REPLAY_COMMAND, type ReplayAnswerData } from '../contract/replay.js';
import { sizeOf, type SeqRange } from '../contract/seq-ranges.js';
import { GapTracker, requestSpans, type GapPolicy } from './gap-tracker.js';
import type { CentralStorage } from './storage.js';
import { boxIdOf } from './topics.js';

/** The central key that signs command tokens (PEM or JWK): the private half of the boxes' mqtt.commands.central_public_key. */
export function loadCommandKey(path: string, label = 'replay.command_key'): KeyObject {
  let text: string;
  try {
    text = readInputFile(path, 'key', label).toString('utf8');
  } catch (e) {
    if (e instanceof FacegateError) throw e;
    throw new FacegateError('FG_ERR_CENTRAL_KEY', `cannot read ${label} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, "give the file with the central Ed25519 private key, readable by the central's user");
  }
  let key: KeyObject;
  try {
    key = text.trimStart().startsWith('{') ? createPrivateKey({ key: JSON.parse(text) as JsonWebKey, format: 'jwk' }) : createPrivateKey(text);
  } catch {
    throw new FacegateError('FG_ERR_CENTRAL_KEY', `${label} ${path} is not a private key`, 'give the Ed25519 private key whose public half the boxes have as mqtt.commands.central_public_key');
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new FacegateError('FG_ERR_CENTRAL_KEY', `${label} ${path} is ${key.asymmetricKeyType ?? 'unknown'}, not Ed25519`, 'command tokens and the feed are signed with EdDSA');
  return key;
}

export interface ReplayRequesterOptions {
  store: CentralStorage;
  key: KeyObject;
  policy: GapPolicy;
  /** Lifetime of a request's token: within the boxes' mqtt.commands.max_token_age_s. */
  tokenTtlS: number;
  publish: (topic: string, payload: string) => Promise<void>;
  now: () => number;
  logger: Logger;
}

/**
 * Asks boxes for the events this consumer's store misses (docs/mqtt.md#replay): at each `check`,
 * the gaps come from the database, each box has at most one request out at a time, and a range is
 * asked for again only after its backoff. A box's answer names the numbers it no longer holds,
 * and the lowest one it still does (`first`); those are kept as gone and said in the log, never
 * asked for again. What was asked for is counted in the store, for `facegate central status`.
 *
 * Consumers that share one store (PostgreSQL) and one subscription group each run this check on
 * the same gaps, and a box's answer reaches only one of them: so the request a box has out is a
 * lease in the store (`claimAsk`), taken by one consumer in one atomic statement and ended by
 * whichever consumer reads the answer (`releaseAsk`) or by its running out after the backoff.
 * Two consumers never both ask a box for the same numbers within a backoff.
 */
export class ReplayRequester {
  private readonly trackers = new Map<string, GapTracker>();
  /** Per box, the request out: its token's jti and when it was sent. */
  private readonly out = new Map<string, { jti: string; atMs: number; range: SeqRange }>();
  private readonly log: Logger;
  /** Numbers asked for and numbers reported gone, for status and tests. */
  requested = 0;
  gone = 0;

  constructor(private readonly o: ReplayRequesterOptions) {
    this.log = o.logger.child({ stage: 'central', part: 'replay' });
  }

  async check(): Promise<void> {
    const nowMs = this.o.now();
    for (const box of await this.o.store.gaps()) {
      const pending = this.out.get(box.base);
      // An unanswered request is given up after the backoff: its answer, or the events, were lost.
      if (pending && nowMs - pending.atMs < this.o.policy.backoffMs) continue;
      let tracker = this.trackers.get(box.base);
      if (!tracker) this.trackers.set(box.base, (tracker = new GapTracker(this.o.policy)));
      const range = tracker.next(requestSpans(box.missing, this.o.policy.maxRange), nowMs);
      if (!range) continue;
      const jti = randomUUID();
      const token = await new SignJWT({ cmd: REPLAY_COMMAND, data: { from: range[0], to: range[1] } })
        .setProtectedHeader({ alg: 'EdDSA' })
        // The box of the base whose pinned key signed the numbers, by its topic: never a name
        // from a payload, which the request could then be carried to.
        .setAudience(boxIdOf(box.base))
        .setIssuedAt(Math.floor(nowMs / 1000))
        .setExpirationTime(Math.floor(nowMs / 1000) + this.o.tokenTtlS)
        .setJti(jti)
        .sign(this.o.key);
      // Another consumer sharing the store holds this box's request: it asks, this one does not.
      if (!(await this.o.store.claimAsk(box.base, range, jti, new Date(nowMs).toISOString(), new Date(nowMs + this.o.policy.backoffMs).toISOString()))) continue;
      this.out.set(box.base, { jti, atMs: nowMs, range });
      this.requested += sizeOf(range);
      this.log.info({ base: box.base, from: range[0], to: range[1], high: box.high }, 'asking a box to replay events this consumer misses');
      try {
        await this.o.publish(`${box.base}/bridge/request/${REPLAY_COMMAND}`, JSON.stringify({ token }));
      } catch (e) {
        this.log.warn({ base: box.base, err: (e as Error).message }, 'replay request not published; asked again after the backoff');
      }
    }
  }

  /** A verified answer of a box to a replay request (its signed payload). */
  async answer(base: string, signed: Readonly<Record<string, unknown>>): Promise<void> {
    const pending = this.out.get(base);
    if (pending && signed.jti === pending.jti) this.out.delete(base);
    // The request may be another consumer's: its lease ends wherever the answer is read.
    if (typeof signed.jti === 'string') await this.o.store.releaseAsk(base, signed.jti);
    if (signed.status !== 'ok') {
      this.log.warn({ base, jti: signed.jti, code: signed.code, error: signed.error }, 'a box refused a replay request; asked again after the backoff');
      return;
    }
    // Checked where the message was read (message.ts): bounded numbers, ascending ranges.
    const data = signed.data as ReplayAnswerData;
    const gone = data.gone ?? [];
    // The lowest number the box still holds: everything below it is gone for good, however far
    // behind this consumer is, so it is marked in one step rather than asked for range by range.
    // Boxes whose answers have no `first` are asked range by range as before.
    const first = data.first !== undefined && data.first > 1 ? data.first : undefined;
    const fresh = await this.o.store.markGone(base, first ? [[1, first - 1], ...gone] : gone, new Date(this.o.now()).toISOString());
    if (fresh.length === 0) return;
    const lost = fresh.reduce((n, r) => n + sizeOf(r), 0);
    this.gone += lost;
    // One line per answer, whatever the number of ranges: the ranges are in central_gone and in
    // `facegate central status`.
    this.log.error(
      { base, lost, ranges: fresh.length, from: fresh[0]![0], to: fresh.at(-1)![1], ...(first ? { first } : {}) },
      'events lost: the box no longer holds them (evicted from its outbox before delivery, or kept past mqtt.replay limits)',
    );
  }
}
