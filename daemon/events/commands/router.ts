import { Value } from '@sinclair/typebox/value';
import type { TSchema } from '@sinclair/typebox';
import type { Logger } from '../../ops/log.js';
import type { EventWriter } from '../writer.js';
import type { MqttBridge } from '../bridge.js';
import { RequestPayload, topicFor, type Payload } from '../topics.js';
import { COMMAND_HANDLERS, type CommandDeps } from './handlers.js';
import type { CommandAudit, ReplayCache } from './replay.js';
import { CommandRefused, verifyCommandToken, type TokenPolicy } from './token.js';

export interface RouterOptions {
  baseTopic: string;
  policy: TokenPolicy;
  replay: ReplayCache;
  audit: CommandAudit;
  deps: CommandDeps;
  /** Refusals also become a signed `bridge/event` so the central side sees them. */
  writer: EventWriter;
  publish: (topic: string, payload: string) => Promise<void>;
  now: () => number;
  logger: Logger;
}

type Response = Payload<'response'>;
type UnsignedResponse = Omit<Response, 'device' | 'time' | 'jws'>;

/**
 * zigbee2mqtt-style request/response: `<base>/bridge/request/<command>` is answered on
 * `<base>/bridge/response/<command>`. Nothing runs before the token checks pass; every request,
 * run or refused, is audited; any throw becomes an `error` response.
 */
export class CommandRouter {
  private readonly prefix: string;
  private readonly log: Logger;

  constructor(private readonly o: RouterOptions) {
    this.prefix = `${o.baseTopic}/bridge/request/`;
    this.log = o.logger.child({ stage: 'events', part: 'commands' });
  }

  get subscription(): string {
    return `${this.prefix}#`;
  }

  /** Subscribes on every connect and routes incoming requests. */
  attach(bridge: MqttBridge): void {
    bridge.onConnect(async (client) => {
      await client.subscribeAsync(this.subscription, { qos: 1 });
    });
    bridge.onMessage((topic, payload) => this.handle(topic, payload));
  }

  /** Handles one message; resolves once the response is published. */
  async handle(topic: string, payload: Buffer): Promise<Response | undefined> {
    if (!topic.startsWith(this.prefix)) return undefined;
    const command = topic.slice(this.prefix.length);
    const response = this.o.writer.signDirect(await this.run(command, payload), this.o.now());
    try {
      await this.o.publish(topicFor(this.o.baseTopic, 'response', { command: command.replace(/[+#]/g, '_') || '_' }), JSON.stringify(response));
    } catch (e) {
      this.log.warn({ command, err: (e as Error).message }, 'could not publish command response');
    }
    return response;
  }

  private async run(command: string, payload: Buffer): Promise<UnsignedResponse> {
    const atMs = this.o.now();
    let transaction = peekTransaction(payload);
    let jti: string | undefined;
    let subject: string | undefined;
    try {
      const request = parseRequest(payload);
      transaction = request.transaction;
      const claims = await verifyCommandToken(request.token, command, this.o.policy, atMs);
      jti = claims.jti;
      subject = claims.sub;
      if (!this.o.replay.claim(claims.jti, claims.exp * 1000, atMs, this.o.policy.clockSkewS * 1000)) throw new CommandRefused('token already used (replay)');
      const handler = (COMMAND_HANDLERS as Record<string, { schema: TSchema; run(d: unknown, deps: CommandDeps): unknown }>)[command];
      if (!handler) throw new CommandRefused(`unknown command ${JSON.stringify(command)}`);
      const data = Value.Default(handler.schema, structuredClone(claims.data));
      const bad = Value.Errors(handler.schema, data).First();
      if (bad) throw new CommandRefused(`invalid data: ${bad.path || '(root)'} ${bad.message.toLowerCase()}`);
      let result: Record<string, unknown>;
      try {
        result = (await handler.run(data, this.o.deps)) as Record<string, unknown>;
      } catch (e) {
        const reason = e instanceof Error ? e.message : String(e);
        this.audit({ atMs, command, outcome: 'failed', reason, jti, subject, transaction });
        return respond('error', {}, transaction, jti, reason);
      }
      this.audit({ atMs, command, outcome: 'ok', jti, subject, transaction });
      return respond('ok', result, transaction, jti);
    } catch (e) {
      if (!(e instanceof CommandRefused)) throw e;
      this.audit({ atMs, command, outcome: 'refused', reason: e.reason, jti, subject, transaction });
      try {
        this.o.writer.write('bridgeEvent', { type: 'command_refused', data: { command, reason: e.reason, ...(jti ? { jti } : {}) } });
      } catch (err) {
        this.log.error({ err: (err as Error).message }, 'could not record the refusal as an event');
      }
      return respond('error', {}, transaction, jti, e.reason);
    }
  }

  private audit(e: Parameters<CommandAudit['record']>[0]): void {
    this.o.audit.record(e);
    const fields = { command: e.command, outcome: e.outcome, reason: e.reason, jti: e.jti, subject: e.subject };
    if (e.outcome === 'ok') this.log.info(fields, 'remote command');
    else this.log.warn(fields, 'remote command not run');
  }
}

function respond(status: 'ok' | 'error', data: Record<string, unknown>, transaction: string | undefined, jti: string | undefined, error?: string): UnsignedResponse {
  return { status, data, ...(error !== undefined ? { error } : {}), ...(transaction !== undefined ? { transaction } : {}), ...(jti !== undefined ? { jti } : {}) };
}

/** The transaction to echo, even from a request refused as malformed. */
function peekTransaction(payload: Buffer): string | undefined {
  try {
    const t = (JSON.parse(payload.toString('utf8')) as { transaction?: unknown }).transaction;
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
    throw new CommandRefused('malformed request: not JSON');
  }
  if (!Value.Check(RequestPayload, body)) {
    const first = Value.Errors(RequestPayload, body).First();
    throw new CommandRefused(`malformed request: ${first ? `${first.path || '(root)'} ${first.message.toLowerCase()}` : 'expected {"token", "transaction"?}'}`);
  }
  return body;
}
