import type { Database } from 'better-sqlite3';
import { Value } from '@sinclair/typebox/value';
import type { TSchema } from '@sinclair/typebox';
import type { Logger } from '../base/log.js';
import type { EventWriter } from '../events/writer.js';
import type { MqttBridge } from '../events/bridge.js';
import { RequestPayload, type Payload } from '../../contract/topics.js';
import { calendarDateProblem } from '../base/calendar-date.js';
import { isFacegateError } from '../base/errors.js';
import { COMMAND_HANDLERS, type AnswerCommit, type CommandActor, type CommandDeps } from './handlers.js';
import { PendingCommands, type CommandAudit, type CommandCounts, type ReplayCache } from '../service/command-records.js';
import { CommandRefused, verifyCommandToken, type CommandClaims, type TokenPolicy } from '../service/command-token.js';
import { DEFAULT_FLOOD_WINDOW, FloodGate, type FloodSummary, type FloodWindow } from './flood.js';

export interface RouterOptions {
  baseTopic: string;
  /**
   * The central key and token rules; undefined while remote commands are off in the config. Then
   * every request is refused FG_ERR_COMMANDS_OFF, within the same limits as other refusals, so that
   * a central server learns why nothing runs instead of waiting for an answer.
   */
  policy: TokenPolicy | undefined;
  replay: ReplayCache;
  audit: CommandAudit;
  deps: CommandDeps;
  /** Answers and refusal events go through the outbox: at least once, signed. */
  writer: EventWriter;
  /** The state file of the replay cache, audit and outbox: one transaction holds a command's records. */
  db: Database;
  now: () => number;
  logger: Logger;
  /** How refusals are summarized under a flood; DEFAULT_FLOOD_WINDOW unless a test needs it shorter. */
  flood?: FloodWindow;
}

type Answer = Omit<Payload<'response'>, 'id' | 'device' | 'time' | 'jws'>;

/** A request whose token passed: what its audit row and answer name. */
interface Request {
  atMs: number;
  command: string;
  jti: string;
  subject?: string;
  transaction?: string | undefined;
}

type Code = `FG_ERR_${string}`;

/** A copy of a request whose analysis is still running is refused, not run twice. */
const REPLAY = 'token already used (replay)';

type FloodKind = 'refused' | 'unauthenticated' | 'retained' | 'duplicate';

/** What the broker's acknowledgement waits for: the request is recorded (or refused); `done` once it is answered. */
export interface Taken {
  done: Promise<void>;
}

const NOTHING_LEFT: Taken = { done: Promise.resolve() };

/** How a request came: `retain` and `dup` are the flags of its PUBLISH packet. */
export interface DeliveryFlags {
  retain?: boolean;
  dup?: boolean;
}

/** The longest reason kept in the audit and the answer: a junk command name must not be stored whole. */
const MAX_REASON = 300;

/**
 * zigbee2mqtt-style request/response: `<base>/bridge/request/<command>` is answered on
 * `<base>/bridge/response/<command>`. Nothing runs before the token checks pass; a retained request
 * never runs (a stale one would otherwise run again at every reconnect). Answers go through the
 * outbox, and every command's effect is a write to the state file, where the outbox, the replay
 * cache and the audit live too. The broker's acknowledgement of a request waits until it is
 * recorded: a command whose effect is a synchronous write (`status`, `attendance/shifts`) has its
 * token claim, effect, audit row and answer in one transaction before it; a gallery command, which
 * analyses its photos first, has its token claimed and itself written to command_pending before it,
 * and its effect, audit row and answer in one later transaction that takes it off the list. What a
 * crash leaves on the list is answered FG_ERR_COMMAND_INTERRUPTED at the next start, and a copy the
 * broker sends again is not run twice. Every error answer carries an FG_ERR_ code. Refusals are
 * audited and answered one by one up to a limit per minute, then summarized.
 */
export class CommandRouter {
  private readonly prefix: string;
  private readonly log: Logger;
  private readonly flood: FloodGate<FloodKind>;
  private readonly pending: PendingCommands;
  readonly counts: CommandCounts = { ok: 0, failed: 0, refused: 0, unauthenticated: 0, retained: 0, duplicate: 0 };

  constructor(private readonly o: RouterOptions) {
    this.prefix = `${o.baseTopic}/bridge/request/`;
    this.log = o.logger.child({ stage: 'events', part: 'commands' });
    this.flood = new FloodGate(o.flood ?? DEFAULT_FLOOD_WINDOW, o.now, (s) => this.summarize(s));
    this.pending = new PendingCommands(o.db);
  }

  get subscription(): string {
    return `${this.prefix}#`;
  }

  /** Subscribes on every connect and routes incoming requests. */
  attach(bridge: MqttBridge): void {
    bridge.onConnect(async (client) => {
      // Retain-as-published: a request published with the retain flag keeps it on the way to us,
      // so it is recognised and ignored the first time too, not only when replayed at a reconnect.
      await client.subscribeAsync(this.subscription, { qos: 1, rap: true });
    });
    bridge.onDelivery(async (topic, payload, packet) => {
      const taken = await this.receive(topic, payload, { retain: packet.retain, dup: packet.dup });
      taken.done.catch((e: unknown) => this.log.error({ topic, err: reasonOf(e) }, 'remote command could not be answered; it is answered at the next start'));
    });
  }

  /**
   * At start, before the first connect: commands taken before a crash and never answered are
   * answered FG_ERR_COMMAND_INTERRUPTED. Nothing of them was kept (an effect commits with its
   * answer), and their tokens stay used: the central server sends them again with new ones.
   */
  answerInterrupted(): number {
    const cut = this.pending.all();
    for (const p of cut) {
      this.o.db.transaction(() => {
        this.finish(p, 'failed', {}, { reason: 'interrupted: the device stopped before the command finished, and nothing of it was kept; send it again with a new token', code: 'FG_ERR_COMMAND_INTERRUPTED' });
        this.pending.done(p.jti);
      })();
    }
    return cut.length;
  }

  /** Reports the refusals still waiting for their summary (on stop). */
  close(): void {
    this.flood.close();
  }

  /** Handles one message; resolves once its answer (if any) is in the outbox. */
  async handle(topic: string, payload: Buffer, flags: DeliveryFlags = {}): Promise<void> {
    await (await this.receive(topic, payload, flags)).done;
  }

  /**
   * Takes one message: resolves once it is recorded in the state file (refused, answered, or on the
   * pending list), which is when the broker may have its acknowledgement; `done` once answered.
   */
  async receive(topic: string, payload: Buffer, flags: DeliveryFlags = {}): Promise<Taken> {
    if (!topic.startsWith(this.prefix)) return NOTHING_LEFT;
    const command = topic.slice(this.prefix.length);
    if (flags.retain) {
      this.counts.retained++;
      if (this.flood.admit('retained', 'retained request')) {
        this.log.warn({ command: clip(command) }, 'retained command request ignored: clear it on the broker (publish an empty retained message to its topic)');
      }
      return NOTHING_LEFT;
    }
    const atMs = this.o.now();
    let transaction = peekTransaction(payload);
    let claims: CommandClaims;
    try {
      const request = parseRequest(payload);
      transaction = request.transaction?.slice(0, 200);
      if (!this.o.policy) throw new CommandRefused('remote commands are turned off on this device (mqtt.commands.enabled: false)', false, 'FG_ERR_COMMANDS_OFF');
      claims = await verifyCommandToken(request.token, command, this.o.policy, atMs);
    } catch (e) {
      if (!(e instanceof CommandRefused)) throw e;
      this.refuse({ atMs, command, reason: e.reason, code: e.code, transaction, authenticated: e.authenticated });
      return NOTHING_LEFT;
    }
    const base: Request = { atMs, command, jti: claims.jti, transaction, ...(claims.sub !== undefined ? { subject: claims.sub } : {}) };
    const handler = Object.hasOwn(COMMAND_HANDLERS, command) ? (COMMAND_HANDLERS as unknown as Record<string, RoutedHandler>)[command] : undefined;
    let data: unknown;
    try {
      if (!handler) throw new CommandRefused(`unknown command ${JSON.stringify(command)}`, true, 'FG_ERR_COMMAND_UNKNOWN');
      data = Value.Default(handler.schema, structuredClone(claims.data));
      const bad = Value.Errors(handler.schema, data).First();
      if (bad) throw new CommandRefused(`invalid data: ${bad.path || '(root)'} ${calendarDateProblem(bad) ?? bad.message.toLowerCase()}`, true, 'FG_ERR_COMMAND_INVALID');
    } catch (e) {
      if (!(e instanceof CommandRefused)) throw e;
      this.refuse({ ...base, reason: e.reason, code: e.code, authenticated: true });
      return NOTHING_LEFT;
    }
    const expMs = claims.exp * 1000;
    const skewMs = this.o.policy!.clockSkewS * 1000;
    const claim = () => this.o.replay.claim(claims.jti, expMs, atMs, skewMs);
    if (handler.kind === 'atomic') {
      this.runAtomic(handler, data, base, claim, flags);
      return NOTHING_LEFT;
    }
    // The token is claimed as the command is taken: a copy arriving while it runs, or after a
    // crash cut it off, finds it used and is not run again.
    const taken = this.o.db
      .transaction(() => {
        if (!claim()) return false;
        this.pending.add(base);
        return true;
      })
      .immediate();
    if (!taken) {
      this.takenAlready(base, flags);
      return NOTHING_LEFT;
    }
    return { done: this.runStaged(handler, data, base) };
  }

  /** Claim, effect, audit row and answer in one transaction; a failed effect is answered with nothing of it kept. */
  private runAtomic(handler: Extract<RoutedHandler, { kind: 'atomic' }>, data: unknown, base: Request, claim: () => boolean, flags: DeliveryFlags): void {
    try {
      this.o.db
        .transaction(() => {
          if (!claim()) throw new Replayed();
          this.finish(base, 'ok', handler.run(data, this.o.deps, { actor: `mqtt:${base.jti}`, role: 'admin' }));
        })
        .immediate();
    } catch (e) {
      if (e instanceof Replayed) return this.takenAlready(base, flags);
      this.o.db.transaction(() => {
        if (claim()) this.finish(base, 'failed', {}, { reason: reasonOf(e), code: isFacegateError(e) ? e.code : 'FG_ERR_COMMAND_FAILED' });
        else this.takenAlready(base, flags);
      })();
    }
  }

  /** After the acknowledgement: the analysis, then effect, audit row and answer in one transaction that takes the command off the pending list. */
  private async runStaged(handler: Extract<RoutedHandler, { kind: 'staged' }>, data: unknown, base: Request): Promise<void> {
    let committed = false;
    const commit: AnswerCommit = (write, answer) => {
      if (committed) throw new Error(`${base.command} committed twice`);
      const result = this.o.db
        .transaction(() => {
          const result = write();
          this.finish(base, 'ok', answer(result));
          this.pending.done(base.jti);
          return result;
        })
        .immediate();
      committed = true;
      return result;
    };
    try {
      await handler.run(data, this.o.deps, commit, { actor: `mqtt:${base.jti}`, role: 'admin' });
      if (!committed) throw new Error(`${base.command} ended without an answer`);
    } catch (e) {
      // Memory following a committed write failed: the answer is out already; the log says what.
      if (committed) return this.log.error({ command: base.command, jti: base.jti, err: reasonOf(e) }, 'remote command ran, but what followed it failed');
      this.o.db.transaction(() => {
        this.finish(base, 'failed', {}, { reason: reasonOf(e), code: isFacegateError(e) ? e.code : 'FG_ERR_COMMAND_FAILED' });
        this.pending.done(base.jti);
      })();
    }
  }

  /**
   * The token was claimed already. A copy the broker marks as sent again (DUP) is one this device
   * took before its acknowledgement got through, a crash or a lost connection between: it ran, or
   * runs, or was answered as interrupted; it is neither run nor answered again. Any other copy is a
   * replay, refused.
   */
  private takenAlready(base: Request, flags: DeliveryFlags): void {
    if (!flags.dup) return this.refuse({ ...base, reason: REPLAY, code: 'FG_ERR_COMMAND_REPLAYED', authenticated: true });
    this.counts.duplicate++;
    if (this.flood.admit('duplicate', 'sent again')) this.log.info({ command: clip(base.command), jti: base.jti }, 'remote command request sent again by the broker after it was taken: not run or answered again');
  }

  /** Audit row, log line and answer of a command that ran; inside the caller's transaction. */
  private finish(r: Request, outcome: 'ok' | 'failed', data: Record<string, unknown>, error?: { reason: string; code: Code }): void {
    this.o.audit.record({ ...r, outcome, ...(error !== undefined ? { reason: clip(error.reason) } : {}) });
    this.answer(r.command, r.atMs, answerOf(outcome === 'ok' ? 'ok' : 'error', data, r.transaction, r.jti, error && { reason: clip(error.reason), code: error.code }));
    this.counts[outcome]++;
    const fields = { command: r.command, outcome, reason: error?.reason, code: error?.code, jti: r.jti, subject: r.subject };
    if (outcome === 'ok') this.log.info(fields, 'remote command');
    else this.log.warn(fields, 'remote command failed');
  }

  /** Counted always; audited, logged, reported and answered only while the flood gate admits it. */
  private refuse(r: { atMs: number; command: string; reason: string; code: Code; transaction?: string | undefined; authenticated: boolean; jti?: string; subject?: string }): void {
    const kind = r.authenticated ? 'refused' : 'unauthenticated';
    this.counts[kind]++;
    const reason = clip(r.reason);
    if (!this.flood.admit(kind, reason.split(':')[0]!)) return;
    const command = clip(r.command);
    this.o.db.transaction(() => {
      this.o.audit.record({ atMs: r.atMs, command, outcome: 'refused', reason, ...(r.jti !== undefined ? { jti: r.jti } : {}), ...(r.subject !== undefined ? { subject: r.subject } : {}), ...(r.transaction !== undefined ? { transaction: r.transaction } : {}) });
      this.o.writer.write('bridgeEvent', { type: 'command_refused', data: { command, code: r.code, reason, ...(r.jti ? { jti: r.jti } : {}) } }, r.atMs);
      this.answer(r.command, r.atMs, answerOf('error', {}, r.transaction, r.jti, { reason, code: r.code }));
    })();
    this.log.warn({ command, outcome: 'refused', code: r.code, reason, jti: r.jti, subject: r.subject, signed: r.authenticated }, 'remote command not run');
  }

  private answer(command: string, atMs: number, body: Answer): void {
    // A command name is a topic level: '+' and '#' cannot be published to, an empty one is '_'.
    this.o.writer.write('response', body, atMs, { command: command.replace(/[+#]/g, '_') || '_' });
  }

  /** One audit row, log line and event for the refusals the flood gate only counted. */
  private summarize(s: FloodSummary<FloodKind>): void {
    const windowS = Math.round(s.windowMs / 1000);
    const byReason = Object.entries(s.reasons).map(([r, n]) => `${r} ×${n}`).join(', ');
    const fields = { kind: s.kind, suppressed: s.suppressed, window_s: windowS, reasons: s.reasons };
    this.log.warn(fields, `${s.suppressed} more command requests not run (${s.kind}) in ${windowS} s, not logged one by one: ${byReason}`);
    if (s.kind === 'retained' || s.kind === 'duplicate') return;
    try {
      this.o.db.transaction(() => {
        this.o.audit.record({ atMs: this.o.now(), command: '*', outcome: 'refused', reason: clip(`${s.suppressed} more ${s.kind} requests refused in ${windowS} s: ${byReason}`) });
        this.o.writer.write('bridgeEvent', { type: 'command_refused', data: { suppressed: s.suppressed, kind: s.kind, window_s: windowS, reasons: s.reasons } });
      })();
    } catch (e) {
      this.log.error({ err: reasonOf(e) }, 'could not record the summary of refused command requests');
    }
  }
}

/** The token was claimed already when the command's transaction came: another copy of the request was taken first. */
class Replayed extends Error {}

/** A command of the table, seen by the router without its own data type. */
type RoutedHandler =
  | { schema: TSchema; kind: 'atomic'; run(data: unknown, deps: CommandDeps, by: CommandActor): Record<string, unknown> }
  | { schema: TSchema; kind: 'staged'; run(data: unknown, deps: CommandDeps, commit: AnswerCommit, by: CommandActor): Promise<void> };

function reasonOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function clip(text: string): string {
  return text.length > MAX_REASON ? `${text.slice(0, MAX_REASON)}…` : text;
}

function answerOf(status: 'ok' | 'error', data: Record<string, unknown>, transaction: string | undefined, jti: string | undefined, error?: { reason: string; code: Code }): Answer {
  return { status, data, ...(error !== undefined ? { code: error.code, error: error.reason } : {}), ...(transaction !== undefined ? { transaction } : {}), ...(jti !== undefined ? { jti } : {}) };
}

/** The transaction to echo, even from a request refused as malformed. */
function peekTransaction(payload: Buffer): string | undefined {
  try {
    const t = (JSON.parse(payload.toString('utf8')) as { transaction?: unknown } | null)?.transaction;
    return typeof t === 'string' ? t.slice(0, 200) : undefined;
  } catch {
    return undefined;
  }
}

function parseRequest(payload: Buffer): { token: string; transaction?: string } {
  let body: unknown;
  try {
    body = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new CommandRefused('malformed request: not JSON', false);
  }
  if (!Value.Check(RequestPayload, body)) {
    const first = Value.Errors(RequestPayload, body).First();
    throw new CommandRefused(`malformed request: ${first ? `${first.path || '(root)'} ${first.message.toLowerCase()}` : 'expected {"token", "transaction"?}'}`, false);
  }
  return body;
}
