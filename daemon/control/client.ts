import { connect, type Socket } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { FacegateError } from '../base/errors.js';
import { METHODS, ROLES, type ControlResponse, type MethodName, type Role } from './protocol.js';

export interface ControlTarget {
  /** The folder of the role sockets (control.socket_dir). */
  dir: string;
  /** A signed token to send (remote use). */
  token?: string;
}

function who(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid ${process.getuid?.() ?? '?'}`;
  }
}

/** Opens the least privileged role socket that allows `need` and that this user may open. */
async function open(target: ControlTarget, need: Role): Promise<Socket> {
  const candidates = ROLES.slice(ROLES.indexOf(need));
  let last: NodeJS.ErrnoException | undefined;
  for (const role of candidates) {
    const path = join(target.dir, `${role}.sock`);
    try {
      return await new Promise<Socket>((resolve, reject) => {
        const socket = connect(path, () => resolve(socket));
        socket.once('error', reject);
      });
    } catch (e) {
      last = e as NodeJS.ErrnoException;
    }
  }
  if (last?.code === 'EACCES') {
    throw new FacegateError('FG_ERR_CONTROL_DENIED', `not allowed to open the ${need} socket in ${target.dir}`, `this needs the ${need} role: run it as a member of the facegate${need === 'viewer' ? '' : `-${need}`} group`);
  }
  throw new FacegateError('FG_ERR_DAEMON_NOT_RUNNING', `no facegate daemon answers on ${target.dir} (${last?.code ?? last?.message})`, 'start it (systemctl start facegate), or give --config with the right control.socket_dir');
}

/**
 * How long a call waits for the daemon's answer before it gives up with FG_ERR_DAEMON_TIMEOUT, so
 * that a daemon that is stuck never holds a command (or `facegate doctor`, run because it is stuck)
 * for ever. A person change waits behind the one before it (an enrolment runs photos or a video
 * through the models, ~2-20 s on a busy 2-core box) and a purge deletes a retention period's rows;
 * the rest answer from memory at once. A stream (events.tail) runs until the client stops it.
 */
const ANSWER_WITHIN_MS: Record<MethodName, number | 'stream'> = {
  status: 30_000,
  cameras: 30_000,
  'events.tail': 'stream',
  reload: 60_000,
  'person.enrol': 600_000,
  'person.promote': 600_000,
  'person.photos': 600_000,
  'person.add_photos': 600_000,
  'person.remove_photo': 600_000,
  'person.teach': 600_000,
  'person.rename': 600_000,
  'person.erase': 600_000,
  'retention.purge': 600_000,
  'attendance.review.list': 60_000,
  'attendance.review.confirm': 60_000,
  'attendance.review.reject': 60_000,
};

/**
 * One call to the running daemon. `onEvent` receives stream items (events.tail) until `signal`
 * aborts; the promise resolves with the call's data.
 */
export async function callDaemon(
  target: ControlTarget,
  method: MethodName,
  need: Role,
  params: Record<string, unknown> = {},
  options: { onEvent?: (event: unknown) => void; signal?: AbortSignal; answerWithinMs?: number } = {},
): Promise<unknown> {
  const socket = await open(target, need);
  return new Promise((resolve, reject) => {
    let buffer = '';
    let settled = false;
    const limitMs = options.answerWithinMs ?? ANSWER_WITHIN_MS[method];
    const timer = limitMs === 'stream' ? undefined : setTimeout(() => finish(() => reject(noAnswer(method, limitMs))), limitMs);
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.end();
      fn();
    };
    options.signal?.addEventListener('abort', () => finish(() => resolve(null)), { once: true });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const response = JSON.parse(buffer.slice(0, nl)) as ControlResponse;
        buffer = buffer.slice(nl + 1);
        if ('event' in response) options.onEvent?.(response.event);
        else if (response.ok) finish(() => resolve(response.data));
        else finish(() => reject(new FacegateError(response.error.code as `FG_ERR_${string}`, response.error.message, response.error.hint)));
      }
    });
    socket.on('error', (e) => finish(() => reject(e)));
    socket.on('close', () => finish(() => reject(new FacegateError('FG_ERR_DAEMON_GONE', 'the daemon closed the connection', 'see journalctl -u facegate'))));
    socket.write(JSON.stringify({ id: 1, method, params, client: who(), ...(target.token ? { token: target.token } : {}) }) + '\n');
  });
}

function noAnswer(method: MethodName, limitMs: number): FacegateError {
  const stuck = 'if it stays so, journalctl -u facegate says why, and systemctl restart facegate starts it again';
  return new FacegateError(
    'FG_ERR_DAEMON_TIMEOUT',
    `the daemon did not answer ${method} within ${limitMs / 1000} s`,
    METHODS[method].mutating ? `it may still make the change: check before sending it again (facegate audit list); ${stuck}` : `it is overloaded or stuck: ${stuck}`,
  );
}
