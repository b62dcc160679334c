import type { Role } from '../audit.js';

export type { Role };

/** Roles from least to most privileged; a role may call every method of the roles before it. */
export const ROLES: readonly Role[] = ['viewer', 'operator', 'admin'];

export function roleAllows(have: Role, need: Role): boolean {
  return ROLES.indexOf(have) >= ROLES.indexOf(need);
}

/** One NDJSON line from the client. */
export interface ControlRequest {
  id: number;
  method: string;
  params?: Record<string, unknown>;
  /** EdDSA JWT whose `role` claim is used instead of the socket's (remote use through a forwarded socket). */
  token?: string;
  /** Who the client says it is (the OS user), for the audit trail; the role never depends on it. */
  client?: string;
}

export type ControlResponse =
  | { id: number; ok: true; data: unknown }
  | { id: number; ok: false; error: { code: string; message: string; hint?: string } }
  /** One item of a stream (events.tail), until the client hangs up. */
  | { id: number; event: unknown };

/** Every method, the least role it needs, and whether it changes anything (then it is audited). */
export const METHODS = {
  status: { role: 'viewer', mutating: false },
  cameras: { role: 'viewer', mutating: false },
  'events.tail': { role: 'viewer', mutating: false },
  reload: { role: 'operator', mutating: true },
  'person.enrol': { role: 'operator', mutating: true },
  'person.promote': { role: 'operator', mutating: true },
  'person.erase': { role: 'admin', mutating: true },
  'retention.purge': { role: 'admin', mutating: true },
} as const satisfies Record<string, { role: Role; mutating: boolean }>;

export type MethodName = keyof typeof METHODS;

export function isMethod(name: string): name is MethodName {
  return Object.hasOwn(METHODS, name);
}

/** Longest request line accepted (enrolment photos travel inside it, base64). */
export const MAX_LINE_BYTES = 32 * 1024 * 1024;
