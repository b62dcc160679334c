import type { Static, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { FacegateError } from '../base/errors.js';
import { isMethod, METHODS, RequestSchema, type ControlRequest, type MethodName } from './protocol.js';

const FORMAT_HINT = 'one JSON object per line: {"id":1,"method":"status","params":{}} (docs/daemon.md#control)';

/** A line the daemon will not run, with the id to answer it under (0 when the line has none). */
export interface RequestRefusal {
  id: number;
  error: FacegateError;
}

/**
 * One request line to a checked request: JSON, then the envelope's exact shape, then a method the
 * daemon has. Nothing of the line is used before it passed RequestSchema; refusals name the key
 * and what was wrong, never echo the value (it may be megabytes).
 */
export function parseRequest(line: string): { request: CheckedRequest } | RequestRefusal {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { id: 0, error: bad('not a JSON line') };
  }
  if (!Value.Check(RequestSchema, value)) return { id: ownId(value), error: bad(firstProblem(RequestSchema, value, 'request')) };
  if (!isMethod(value.method)) {
    return { id: value.id ?? 0, error: new FacegateError('FG_ERR_CONTROL_UNKNOWN_METHOD', `unknown method ${JSON.stringify(value.method)}`, `one of ${Object.keys(METHODS).join(', ')}`) };
  }
  return { request: { ...value, method: value.method } };
}

/** A request whose method the daemon has. */
export type CheckedRequest = ControlRequest & { method: MethodName };

/** The params of method M as its schema in METHODS (protocol.ts) states them. */
export type ParamsOf<M extends MethodName> = Static<(typeof METHODS)[M]['params']>;

/** The params of `method`, checked against its schema (protocol.ts), typed by it. */
export function checkParams<M extends MethodName>(method: M, params: Record<string, unknown>): ParamsOf<M> {
  const schema = METHODS[method].params;
  if (!Value.Check(schema, params)) throw bad(firstProblem(schema, params, 'params'));
  return params;
}

/**
 * The id of a refused line, so a client can tell which of its calls failed: the value's own `id`
 * when it is an object whose `id` is a safe non-negative integer, else 0.
 */
function ownId(v: unknown): number {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || !Object.hasOwn(v, 'id')) return 0;
  const id = (v as { id: unknown }).id;
  return typeof id === 'number' && Number.isSafeInteger(id) && id >= 0 ? id : 0;
}

function bad(message: string): FacegateError {
  return new FacegateError('FG_ERR_CONTROL_BAD_REQUEST', message, FORMAT_HINT);
}

function firstProblem(schema: TSchema, value: unknown, what: string): string {
  const first = Value.Errors(schema, value).First();
  if (!first) return `${what} has the wrong shape`;
  const path = first.path.length > 80 ? `${first.path.slice(0, 80)}…` : first.path;
  return `${what}${path ? ` ${path}` : ''}: ${first.message.toLowerCase()}`;
}
