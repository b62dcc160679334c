import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { Role } from '../service/audit.js';
import { PersonText } from '../service/person-input.js';
import { REJECT_REASONS } from '../attendance/arrivals.js';
import { NOTE_MAX } from '../service/arrival-reviews.js';

export type { Role };

/** Roles from least to most privileged; a role may call every method of the roles before it. */
export const ROLES: readonly Role[] = ['viewer', 'operator', 'admin'];

export function roleAllows(have: Role, need: Role): boolean {
  return ROLES.indexOf(have) >= ROLES.indexOf(need);
}

export type ControlResponse =
  | { id: number; ok: true; data: unknown }
  | { id: number; ok: false; error: { code: string; message: string; hint?: string } }
  /** One item of a stream (events.tail), until the client hangs up. */
  | { id: number; event: unknown };

/** An anonymous id: short text, never a blob. */
const Text = Type.String({ minLength: 1, maxLength: 256 });
const NoParams = Type.Object({}, { additionalProperties: false });
const ArrivalId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[0-9a-f-]+$' });
const ReviewNote = Type.String({ maxLength: NOTE_MAX });

/**
 * A photo or video sent inside the request line, base64, named for refusals. How many and how large
 * are the person service's rules (service/person-input.ts), the same as every other entry point's.
 */
const Blob = Type.Object({ name: PersonText, data: Type.String({ minLength: 1 }) }, { additionalProperties: false });

/** A photo's template id or a timeline entry's id: a row id. */
const PhotoId = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });

/**
 * Every method, the least role it needs, whether it changes anything, and the exact shape of its
 * params: a request is checked against it before a handler sees any field. What a method changes
 * (or shows of a person) is audited by the service it calls, with the caller as actor, in the
 * transaction of the change, ok or failed; the server audits a refusal of a mutating method that
 * never reached its service (the role or token, params of the wrong shape). Person fields are text
 * of any length here: their rules and codes are the service's.
 */
export const METHODS = {
  status: { role: 'viewer', mutating: false, params: NoParams },
  cameras: { role: 'viewer', mutating: false, params: NoParams },
  'events.tail': { role: 'viewer', mutating: false, params: NoParams },
  reload: { role: 'operator', mutating: true, params: NoParams },
  'person.enrol': {
    role: 'operator',
    mutating: true,
    params: Type.Object(
      {
        name: PersonText,
        id: Type.Optional(PersonText),
        group: Type.Optional(PersonText),
        force: Type.Optional(Type.Boolean()),
        images: Type.Optional(Type.Array(Blob)),
        video: Type.Optional(Blob),
      },
      { additionalProperties: false },
    ),
  },
  'person.promote': {
    role: 'operator',
    mutating: true,
    params: Type.Object({ anon_id: Text, name: PersonText, id: Type.Optional(PersonText), group: Type.Optional(PersonText) }, { additionalProperties: false }),
  },
  'person.photos': { role: 'operator', mutating: false, params: Type.Object({ id: PersonText }, { additionalProperties: false }) },
  'person.add_photos': {
    role: 'operator',
    mutating: true,
    params: Type.Object({ id: PersonText, images: Type.Optional(Type.Array(Blob)), video: Type.Optional(Blob), force: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
  },
  'person.remove_photo': { role: 'operator', mutating: true, params: Type.Object({ id: PersonText, photo: PhotoId }, { additionalProperties: false }) },
  'person.teach': {
    role: 'operator',
    mutating: true,
    // From a timeline entry's face, or from an unknown person's best frames.
    params: Type.Union([
      Type.Object({ id: PersonText, sighting: PhotoId, check: Type.Optional(Type.Boolean()), force: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
      Type.Object({ id: PersonText, unknown: Text, check: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
    ]),
  },
  'person.rename': { role: 'operator', mutating: true, params: Type.Object({ id: PersonText, name: PersonText }, { additionalProperties: false }) },
  'person.erase': { role: 'admin', mutating: true, params: Type.Object({ id: PersonText }, { additionalProperties: false }) },
  'retention.purge': { role: 'admin', mutating: true, params: NoParams },
  // The review of unverified arrivals: the service decides, audits, and refuses a viewer itself too.
  'attendance.review.list': {
    role: 'operator',
    mutating: false,
    params: Type.Object({ status: Type.Optional(Type.Union(['pending', 'confirmed', 'rejected', 'all'].map((s) => Type.Literal(s)))), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })) }, { additionalProperties: false }),
  },
  'attendance.review.confirm': { role: 'operator', mutating: true, params: Type.Object({ id: ArrivalId, note: Type.Optional(ReviewNote) }, { additionalProperties: false }) },
  'attendance.review.reject': {
    role: 'operator',
    mutating: true,
    params: Type.Object({ id: ArrivalId, reason: Type.Union(REJECT_REASONS.map((r) => Type.Literal(r))), note: Type.Optional(ReviewNote) }, { additionalProperties: false }),
  },
} as const satisfies Record<string, { role: Role; mutating: boolean; params: TSchema }>;

/**
 * The envelope of every request line. Params are checked per method (METHODS); here only that they
 * are an object. No other key is accepted, so a prototype key (`__proto__`, `constructor`) is refused.
 */
export const RequestSchema = Type.Object(
  {
    id: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
    method: Type.String({ minLength: 1, maxLength: 64 }),
    params: Type.Optional(Type.Object({})),
    token: Type.Optional(Type.String({ minLength: 1, maxLength: 8192 })),
    client: Type.Optional(Type.String({ maxLength: 256 })),
  },
  { additionalProperties: false },
);
/** One NDJSON line from the client, once checked against RequestSchema. */
export type ControlRequest = Static<typeof RequestSchema>;

export type MethodName = keyof typeof METHODS;

export function isMethod(name: string): name is MethodName {
  return Object.hasOwn(METHODS, name);
}

/** Longest request line accepted (enrolment photos travel inside it, base64). */
export const MAX_LINE_BYTES = 32 * 1024 * 1024;

/** Per-connection bounds of a control socket; see ControlServer. */
export interface ControlLimits {
  /** Longest request line; a longer one is answered FG_ERR_CONTROL_TOO_LARGE and the connection closed. */
  maxLineBytes: number;
  /** Open connections per role socket; one more is answered FG_ERR_CONTROL_BUSY and closed. */
  maxConnections: number;
  /** Calls of one connection running at once; past it the connection is not read until one ends. */
  maxCallsInFlight: number;
  /** Answer bytes a connection may leave unread before the daemon stops reading its requests. */
  maxUnreadBytes: number;
  /** A connection with no call running and no traffic for this long is closed. */
  idleTimeoutMs: number;
}

export const DEFAULT_CONTROL_LIMITS: ControlLimits = {
  maxLineBytes: MAX_LINE_BYTES,
  maxConnections: 32,
  maxCallsInFlight: 16,
  maxUnreadBytes: 1024 * 1024,
  idleTimeoutMs: 60_000,
};
