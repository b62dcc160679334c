// The logged-in account and its access token, and every call to the console API through it: the
// token in the Authorization header, one refresh and retry when it has expired.
import { say, $ } from './dom.js';
import type { ErrorBody, Role, SessionAnswer, User } from './types.js';

export const RANK: Readonly<Record<Role, number>> = { viewer: 0, operator: 1, admin: 2 };

export const session: { token: string | null; user: User | null; refreshTimer: ReturnType<typeof setTimeout> | undefined; zone: string | null } = { token: null, user: null, refreshTimer: undefined, zone: null };

/** Whether the account logged in has at least `role`. */
export const hasRole = (role: Role): boolean => session.user !== null && RANK[session.user.role] >= RANK[role];

export class ApiError extends Error {
  readonly status: number;
  readonly code: string | undefined;
  constructor(status: number, body: ErrorBody | null) {
    super(body?.error ? `${body.error.message} (${body.error.code}). ${body.error.hint ?? ''}` : `request failed: ${status}`);
    this.status = status;
    this.code = body?.error?.code;
  }
}

interface Call {
  method?: string;
  body?: unknown;
  retry?: boolean;
}

async function call(path: string, { method = 'GET', body, retry = true }: Call): Promise<Response> {
  const headers: Record<string, string> = {};
  if (session.token) headers.authorization = `Bearer ${session.token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  if (res.status === 401 && retry && session.token && (await refresh())) return call(path, { method, body, retry: false });
  if (!res.ok) throw new ApiError(res.status, (await res.json().catch(() => null)) as ErrorBody | null);
  return res;
}

/** A JSON answer of the API, typed as the caller expects it (ui/types.ts). */
export async function api<T>(path: string, o: Call = {}): Promise<T> {
  return (await (await call(path, o)).json()) as T;
}

/** A binary answer (a frame, a face, a proof, the CSV) as an object URL the caller revokes. */
export async function blobUrl(path: string): Promise<string> {
  return URL.createObjectURL(await (await call(path, {})).blob());
}

export function startSession(answer: SessionAnswer): void {
  session.token = answer.access_token;
  session.user = answer.user;
  clearTimeout(session.refreshTimer);
  session.refreshTimer = setTimeout(() => void refresh(), Math.max(10, answer.expires_in - 30) * 1000);
}

export function endSession(): void {
  clearTimeout(session.refreshTimer);
  session.token = null;
  session.user = null;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const postJson = (path: string, body: unknown) => fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), credentials: 'same-origin' });

/**
 * A new access token from the refresh cookie. Only a refused cookie (401) ends the session: a rate
 * limit (429) or a daemon that cannot answer now (5xx, no network) is waited out, for the time its
 * Retry-After says (or a few seconds), and the refresh tried again.
 */
export async function refresh(): Promise<boolean> {
  for (let attempt = 0; ; attempt++) {
    const res = await postJson('/api/session/refresh', {}).catch(() => null);
    if (res?.ok) {
      startSession((await res.json()) as SessionAnswer);
      return true;
    }
    if (res && res.status !== 429 && res.status < 500) {
      session.token = null;
      return false;
    }
    const retryAfterS = Number(res?.headers.get('retry-after'));
    const waitS = Number.isFinite(retryAfterS) && retryAfterS > 0 ? Math.min(retryAfterS, 300) : Math.min(2 ** attempt, 30);
    const busy = `The console is busy; trying again in ${Math.ceil(waitS)} s.`;
    say(busy);
    await sleep(waitS * 1000);
    if ($('status').textContent === busy) say('');
  }
}

/** Logs in with a name and password; the session starts, or the daemon's refusal is thrown. */
export async function logIn(name: string, password: string): Promise<void> {
  const res = await postJson('/api/session', { name, password });
  const body = (await res.json().catch(() => null)) as (SessionAnswer & ErrorBody) | null;
  if (!res.ok || !body) throw new ApiError(res.status, body);
  startSession(body);
}

/** Ends the session on the daemon (its refresh cookie) and here. */
export async function logOut(): Promise<void> {
  await postJson('/api/session/logout', {}).catch(() => undefined);
  endSession();
}
