import { chmodSync, chownSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { FacegateError, isFacegateError } from '../../errors.js';
import type { AuditLog } from '../audit.js';
import { redactSecrets, type Logger } from '../log.js';
import { isMethod, MAX_LINE_BYTES, METHODS, ROLES, roleAllows, type ControlRequest, type ControlResponse, type MethodName, type Role } from './protocol.js';

/** What a handler gets besides its params. */
export interface CallContext {
  role: Role;
  actor: string;
  /** Sends one stream item (events.tail); false once the client has gone. */
  emit(event: unknown): boolean;
  /** Aborted when the client hangs up. */
  signal: AbortSignal;
}

export type Handler = (params: Record<string, unknown>, ctx: CallContext) => Promise<unknown> | unknown;
export type Handlers = Record<MethodName, Handler>;

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
}

/**
 * One unix socket per role (viewer.sock, operator.sock, admin.sock), mode 0660, each owned by its
 * role's group: the kernel checks group membership at connect(), so a role is what the caller can
 * open. Node has no SO_PEERCRED; file permissions give the same guarantee without a native addon.
 * Requests are NDJSON; mutating calls (and refusals of them) go to the hash-chained audit log.
 */
export class ControlServer {
  private readonly servers: Server[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly log: Logger;

  constructor(private readonly o: ControlServerOptions) {
    this.log = o.logger.child({ stage: 'control' });
  }

  async start(): Promise<void> {
    mkdirSync(this.o.dir, { recursive: true, mode: 0o750 });
    for (const role of ROLES) {
      const path = join(this.o.dir, `${role}.sock`);
      rmSync(path, { force: true }); // a socket file left by a killed daemon
      const server = createServer((socket) => this.serve(socket, role));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(path, () => resolve());
      });
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
    for (const s of this.sockets) s.destroy();
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    this.servers.length = 0;
  }

  private serve(socket: Socket, socketRole: Role): void {
    this.sockets.add(socket);
    const abort = new AbortController();
    socket.on('close', () => {
      this.sockets.delete(socket);
      abort.abort();
    });
    socket.on('error', () => undefined);
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      if (buffer.length > MAX_LINE_BYTES) {
        this.send(socket, { id: 0, ok: false, error: { code: 'FG_ERR_CONTROL_TOO_LARGE', message: `request longer than ${MAX_LINE_BYTES} bytes` } });
        socket.end();
        return;
      }
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.trim()) void this.handle(socket, socketRole, line, abort.signal);
      }
    });
  }

  private async handle(socket: Socket, socketRole: Role, line: string, signal: AbortSignal): Promise<void> {
    let req: ControlRequest;
    try {
      req = JSON.parse(line) as ControlRequest;
    } catch {
      this.send(socket, { id: 0, ok: false, error: { code: 'FG_ERR_CONTROL_BAD_REQUEST', message: 'not a JSON line' } });
      return;
    }
    const id = typeof req.id === 'number' ? req.id : 0;
    if (typeof req.method !== 'string' || !isMethod(req.method)) {
      this.send(socket, { id, ok: false, error: { code: 'FG_ERR_CONTROL_UNKNOWN_METHOD', message: `unknown method ${JSON.stringify(req.method)}`, hint: `one of ${Object.keys(METHODS).join(', ')}` } });
      return;
    }
    const method = req.method;
    const spec = METHODS[method];
    let role = socketRole;
    let actor = `socket:${socketRole}${req.client ? ` (${String(req.client).slice(0, 64)})` : ''}`;
    const params = req.params && typeof req.params === 'object' ? req.params : {};
    // A promotion's subject is the anonymous id it turns into a person; names and external ids are
    // personal data that the gallery keeps sealed, so they never become an audit target in clear.
    const target = typeof params.anon_id === 'string' ? params.anon_id : isGalleryId(params.id) ? params.id : null;
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
      const data = await this.o.handlers[method](params, { role, actor, signal, emit: (event) => this.send(socket, { id, event }) });
      if (spec.mutating) this.o.audit.append({ actor, role, action: method, target, detail: summary(params), outcome: 'ok' });
      this.send(socket, { id, ok: true, data: data ?? null });
    } catch (e) {
      const refused = e instanceof Refusal;
      if (spec.mutating) this.o.audit.append({ actor, role, action: method, target, detail: { ...summary(params), error: (e as Error).message }, outcome: refused ? 'refused' : 'failed' });
      if (!refused && !isFacegateError(e)) this.log.error({ method, err: (e as Error).message }, 'control call failed');
      const error = isFacegateError(e) ? { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) } : { code: 'FG_ERR_CONTROL_FAILED', message: (e as Error).message };
      this.send(socket, { id, ok: false, error });
    }
  }

  private send(socket: Socket, r: ControlResponse): boolean {
    if (socket.destroyed || !socket.writable) return false;
    socket.write(JSON.stringify(redactSecrets(r)) + '\n');
    return true;
  }
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
