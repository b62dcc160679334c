import { chmodSync, chownSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { FacegateError, isFacegateError } from '../base/errors.js';
import type { AuditLog } from '../service/audit.js';
import type { Logger } from '../base/log.js';
import { ControlConnection } from './connection.js';
import { checkParams, parseRequest, type ParamsOf } from './request.js';
import { DEFAULT_CONTROL_LIMITS, METHODS, ROLES, roleAllows, type ControlLimits, type ControlResponse, type MethodName, type Role } from './protocol.js';

/** What a handler gets besides its params. */
export interface CallContext {
  role: Role;
  actor: string;
  /** Sends one stream item (events.tail); false once the client has gone. */
  emit(event: unknown): boolean;
  /** Aborted when the client hangs up. */
  signal: AbortSignal;
}

/** The handler of method M: its params arrive checked, of the type M's schema states (ParamsOf). */
export type Handler<M extends MethodName> = (params: ParamsOf<M>, ctx: CallContext) => Promise<unknown> | unknown;
export type Handlers = { [M in MethodName]: Handler<M> };

export interface ControlServerOptions {
  dir: string;
  /** Unix group per role socket ('' keeps the daemon's group). */
  groups: Record<Role, string>;
  handlers: Handlers;
  audit: AuditLog;
  logger: Logger;
  /** Returns the role a token grants, or throws; undefined when tokens are not configured. */
  verifyToken?: (token: string) => Promise<{ role: Role; subject: string }>;
  /** For tests: where group names are looked up. */
  groupFile?: string;
  /** Bounds per connection and socket; DEFAULT_CONTROL_LIMITS for what is left out. */
  limits?: Partial<ControlLimits>;
}

/**
 * One unix socket per role (viewer.sock, operator.sock, admin.sock), mode 0660, each owned by its
 * role's group: the kernel checks group membership at connect(), so a role is what the caller can
 * open. Node has no SO_PEERCRED; file permissions give the same guarantee without a native addon.
 * Requests are NDJSON; the services a call reaches audit it in the hash-chained audit log, and the
 * server audits refusals of mutating calls and calls that failed unexpectedly.
 *
 * Every line is hostile until checked: its shape is validated (protocol.ts) before any field is
 * used, each connection is bounded (connection.ts), connections per socket are capped, and an
 * error no one expected is logged, audited and answered FG_ERR_CONTROL_FAILED: one request never
 * ends the daemon.
 */
export class ControlServer {
  private readonly servers: Server[] = [];
  private readonly connections = new Map<Role, Set<ControlConnection>>(ROLES.map((r) => [r, new Set()]));
  private readonly log: Logger;
  private readonly limits: ControlLimits;

  constructor(private readonly o: ControlServerOptions) {
    this.log = o.logger.child({ stage: 'control' });
    this.limits = { ...DEFAULT_CONTROL_LIMITS, ...o.limits };
  }

  async start(): Promise<void> {
    mkdirSync(this.o.dir, { recursive: true, mode: 0o750 });
    for (const role of ROLES) {
      const path = join(this.o.dir, `${role}.sock`);
      rmSync(path, { force: true }); // a socket file left by a killed daemon
      const server = createServer((socket) => this.accept(socket, role));
      // A backstop past the cap that accept() answers: Node closes these without a word.
      server.maxConnections = this.limits.maxConnections * 2;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(path, () => resolve());
      });
      server.on('error', (e) => this.log.error({ socket: path, err: e.message }, 'control socket error'));
      chmodSync(path, 0o660);
      const gid = groupId(this.o.groups[role], this.o.groupFile);
      if (gid !== undefined) {
        try {
          chownSync(path, -1, gid);
        } catch (e) {
          this.log.warn({ socket: path, group: this.o.groups[role], err: (e as Error).message }, "cannot give the socket to its group (the daemon's user must be a member): only the daemon's group can use it");
        }
      } else if (this.o.groups[role]) {
        this.log.warn({ socket: path, group: this.o.groups[role] }, "group not found: the socket keeps the daemon's group");
      }
      this.servers.push(server);
    }
    this.log.info({ dir: this.o.dir }, 'control sockets listening');
  }

  async stop(): Promise<void> {
    for (const set of this.connections.values()) for (const c of set) c.socket.destroy();
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    this.servers.length = 0;
  }

  /** Open connections, whether any is held (not read) for unread answers, and the bytes kept for them all. */
  stats(): { connections: number; paused: boolean; queuedBytes: number } {
    const all = [...this.connections.values()].flatMap((set) => [...set]);
    return { connections: all.length, paused: all.some((c) => c.held), queuedBytes: all.reduce((n, c) => n + c.queuedBytes, 0) };
  }

  private accept(socket: Socket, role: Role): void {
    const set = this.connections.get(role)!;
    if (set.size >= this.limits.maxConnections) {
      socket.on('error', () => undefined);
      const busy: ControlResponse = { id: 0, ok: false, error: { code: 'FG_ERR_CONTROL_BUSY', message: `${this.limits.maxConnections} connections are open on ${role}.sock already`, hint: 'close idle clients (events tail) and try again' } };
      socket.end(JSON.stringify(busy) + '\n', () => socket.destroy());
      this.log.warn({ role, connections: set.size }, 'control connection refused: too many open');
      return;
    }
    const connection = new ControlConnection(socket, role, this.limits, {
      dispatch: (line, c) => this.handle(c, line),
      tooLarge: () => ({ id: 0, ok: false, error: { code: 'FG_ERR_CONTROL_TOO_LARGE', message: `request longer than ${this.limits.maxLineBytes} bytes: connection closed`, hint: 'send fewer or smaller photos per call' } }),
      fault: (e) => this.log.error({ role, err: describeThrown(e), stack: e instanceof Error ? e.stack : undefined }, 'control connection failed'),
    });
    set.add(connection);
    socket.on('close', () => set.delete(connection));
  }

  /** The last resort: whatever escapes a call is logged, audited and answered; the daemon goes on. */
  private async handle(c: ControlConnection, line: string): Promise<void> {
    try {
      await this.call(c, line);
    } catch (e) {
      this.log.error({ role: c.role, err: describeThrown(e), stack: e instanceof Error ? e.stack : undefined }, 'control request failed unexpectedly');
      this.audit({ actor: `socket:${c.role}`, role: c.role, action: 'control', target: null, detail: { error: describeThrown(e) }, outcome: 'failed' });
      c.send({ id: 0, ok: false, error: { code: 'FG_ERR_CONTROL_FAILED', message: `the request failed unexpectedly: ${describeThrown(e)}`, hint: 'the daemon logged it with details: journalctl -u facegate' } });
    }
  }

  private async call(c: ControlConnection, line: string): Promise<void> {
    const parsed = parseRequest(line);
    if (!('request' in parsed)) {
      const { id, error } = parsed;
      c.send({ id, ok: false, error: { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) } });
      return;
    }
    const req = parsed.request;
    const id = req.id ?? 0;
    const method = req.method;
    const spec = METHODS[method];
    let role = c.role;
    let actor = `socket:${c.role}${req.client ? ` (${req.client.slice(0, 64)})` : ''}`;
    // Once its params are checked a call reaches its service, which audits what it changes (or shows
    // of a person) with the caller as actor, ok or failed; the server audits only what never got
    // there (a refusal of the role or token, params of the wrong shape) and what failed unexpectedly.
    let params: ParamsOf<MethodName> | undefined;
    try {
      if (req.token !== undefined) {
        if (!this.o.verifyToken) throw refusal('tokens are not accepted here', 'set control.token_public_key to use signed tokens');
        const granted = await this.o.verifyToken(req.token);
        role = granted.role;
        actor = `token:${granted.subject}`;
      }
      if (!roleAllows(role, spec.role)) {
        throw refusal(`${method} needs the ${spec.role} role; this connection has ${role}`, `use a member of the ${this.o.groups[spec.role] || spec.role} group, e.g. sudo -g ${this.o.groups[spec.role] || 'facegate-admin'} facegate ...`);
      }
      params = checkParams(method, req.params ?? {});
      const data = await callHandler(this.o.handlers, method, params, { role, actor, signal: c.abort.signal, emit: (event) => c.send({ id, event }, true) });
      c.send({ id, ok: true, data: data ?? null });
    } catch (e) {
      const refused = e instanceof Refusal;
      const expected = isFacegateError(e);
      // A checked request's params summarise safely; unchecked ones may be anything, so only the error goes.
      if ((spec.mutating && params === undefined) || !expected) {
        // The target names what the call was about even when it was refused before its params were checked.
        const raw = params ?? (typeof req.params === 'object' && req.params !== null && !Array.isArray(req.params) ? (req.params as Record<string, unknown>) : {});
        this.audit({ actor, role, action: method, target: target(raw), detail: { ...(params ? summary(params) : {}), error: describeThrown(e) }, outcome: refused ? 'refused' : 'failed' });
      }
      if (!expected) this.log.error({ method, err: describeThrown(e), stack: e instanceof Error ? e.stack : undefined }, 'control call failed unexpectedly');
      const error = expected ? { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) } : { code: 'FG_ERR_CONTROL_FAILED', message: `${method} failed unexpectedly: ${describeThrown(e)}`, hint: 'the daemon logged it with details: journalctl -u facegate' };
      c.send({ id, ok: false, error });
    }
  }

  /** Audits without letting a failing audit write turn into an unanswered call. */
  private audit(entry: Parameters<AuditLog['append']>[0]): void {
    try {
      this.o.audit.append(entry);
    } catch (e) {
      this.log.error({ action: entry.action, err: describeThrown(e) }, 'cannot write the audit entry');
    }
  }
}

/**
 * The handler of `method` with its checked params. Generic in the method, so that the handler and
 * the params are of the same method: indexing Handlers with the union of all methods would ask for
 * params that fit every handler at once.
 */
function callHandler<M extends MethodName>(handlers: Handlers, method: M, params: ParamsOf<M>, ctx: CallContext): Promise<unknown> | unknown {
  return handlers[method](params, ctx);
}

/** Words for anything thrown, without calling into it (a thrown object may have a hostile toString). */
function describeThrown(e: unknown): string {
  return e instanceof Error && typeof e.message === 'string' ? e.message.slice(0, 500) : `a thrown ${e === null ? 'null' : typeof e}`;
}

/** A promotion's subject is the anonymous id it turns into a person; names and external ids are
 * personal data that the gallery keeps sealed, so they never become an audit target in clear. */
function target(params: Record<string, unknown>): string | null {
  return typeof params.anon_id === 'string' ? params.anon_id.slice(0, 64) : isGalleryId(params.id) ? params.id : null;
}

/** A call this connection may not make; audited as 'refused'. */
class Refusal extends FacegateError {
  constructor(message: string, hint: string) {
    super('FG_ERR_CONTROL_FORBIDDEN', message, hint);
  }
}

function refusal(message: string, hint: string): Refusal {
  return new Refusal(message, hint);
}

/** Params that hold personal data the gallery seals (names, external ids, groups). */
const PERSONAL_PARAMS = new Set(['name', 'group', 'external_id']);

/** A gallery person id (a random UUID) says nothing about the person; an external id may. */
function isGalleryId(v: unknown): v is string {
  return typeof v === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v);
}

/**
 * Params for the audit detail, which is stored in clear (it must stay verifiable without the
 * gallery key): personal fields redacted, big values (photos) reduced to their size.
 */
function summary(params: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(params).map(([k, v]) => [
      k,
      PERSONAL_PARAMS.has(k) || (k === 'id' && !isGalleryId(v))
        ? '(redacted)'
        : typeof v === 'string' && v.length > 200
          ? `(${v.length} chars)`
          : Array.isArray(v)
            ? `(${v.length} items)`
            : v,
    ]),
  );
}

/** Looks a group name up in /etc/group (Node has no getgrnam). */
export function groupId(name: string, file = '/etc/group'): number | undefined {
  if (!name) return undefined;
  try {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const [group, , gid] = line.split(':');
      if (group === name && gid) return Number(gid);
    }
  } catch {
    return undefined;
  }
  return undefined;
}
