import { Value } from '@sinclair/typebox/value';
import { nestedDeeperThan } from '../daemon/base/nesting.js';
import { ReplayAnswerData } from '../contract/replay.js';
import { holdsUnsafeNumber } from '../contract/numbers.js';
import { acceptedSchema, TOPICS, type OutboxTopic } from '../contract/topics.js';
import { attendanceAssuranceProblem } from '../contract/assurance.js';
import type { TSchema } from '@sinclair/typebox';
import { classifyPath, splitTopic, type PathKind } from './topics.js';

/** Why a message is not even looked at for a signature; each is a counter label. */
export type MalformedReason = 'too_large' | 'not_json' | 'too_deep' | 'bad_number' | 'bad_shape';

/**
 * One MQTT message as the consumer reads it, before any key is consulted. `device` is the name the
 * payload claims, to be checked against its topic: never an identity by itself.
 */
export type Inbound =
  | { readonly kind: 'info'; readonly base: string; readonly device: string; readonly publicKey: unknown }
  | { readonly kind: 'event'; readonly base: string; readonly device: string; readonly topic: OutboxTopic; readonly body: Readonly<Record<string, unknown>> }
  | { readonly kind: 'sequence' | 'replayAnswer'; readonly base: string; readonly device: string; readonly body: Readonly<Record<string, unknown>> }
  | { readonly kind: 'ignored' }
  | { readonly kind: 'malformed'; readonly base: string; readonly reason: MalformedReason; readonly detail: string };

function schemaOf(path: Exclude<PathKind, { kind: 'other' }>): TSchema {
  switch (path.kind) {
    case 'info':
      return TOPICS.bridgeInfo.schema;
    case 'sequence':
      return TOPICS.sequence.schema;
    case 'replayAnswer':
      return TOPICS.response.schema;
    case 'event':
      // Older boxes still in the field send fewer fields than this version (an attendance event without its assurance).
      return acceptedSchema(path.topic);
  }
}

/** Every payload of docs/mqtt.md is a few levels deep; the schema check after this recurses. */
const MAX_DEPTH = 8;

/**
 * Reads a message from anyone allowed to publish on the broker: bounded in size, JSON, shallow, and
 * of the shape its topic's schema (contract/topics.ts) says, or refused with the reason. Never
 * throws, whatever the bytes.
 */
export function readMessage(topic: string, payload: Uint8Array, filters: readonly string[], maxBytes: number): Inbound {
  const split = splitTopic(topic, filters);
  if (!split) return { kind: 'ignored' };
  const path = classifyPath(split.path);
  if (path.kind === 'other') return { kind: 'ignored' };
  const refuse = (reason: MalformedReason, detail: string): Inbound => ({ kind: 'malformed', base: split.base, reason, detail });
  if (payload.length > maxBytes) return refuse('too_large', `${payload.length} bytes, over ${maxBytes}`);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.length).toString('utf8'));
  } catch {
    return refuse('not_json', 'not JSON');
  }
  if (nestedDeeperThan(value, MAX_DEPTH)) return refuse('too_deep', `nested deeper than ${MAX_DEPTH} levels`);
  if (holdsUnsafeNumber(value)) return refuse('bad_number', `a number beyond ±${Number.MAX_SAFE_INTEGER} or not finite`);
  if (holdsNul(value)) return refuse('bad_shape', 'a NUL character in a name or a value: no box sends one');
  const problem = shapeProblem(schemaOf(path), value) ?? contentProblem(path, value as Record<string, unknown>);
  if (problem) return refuse('bad_shape', problem);
  const body = value as Record<string, unknown>;
  const device = body.device as string;
  if (path.kind === 'info') return { kind: 'info', base: split.base, device, publicKey: body.public_key };
  if (path.kind === 'sequence' || path.kind === 'replayAnswer') return { kind: path.kind, base: split.base, device, body };
  return { kind: 'event', base: split.base, device, topic: path.topic, body };
}

/**
 * Whether a NUL character is anywhere in the payload, in a key or a string. No box sends one, and
 * PostgreSQL can keep none in text (a JSON body holding `\u0000` cannot be read as jsonb): such an
 * event was stored by an SQLite store and failed by a PostgreSQL one. Refused alike by both.
 */
function holdsNul(value: unknown): boolean {
  const todo: unknown[] = [value];
  while (todo.length > 0) {
    const v = todo.pop();
    if (typeof v === 'string' && v.includes('\u0000')) return true;
    if (typeof v === 'object' && v !== null) {
      for (const [k, inner] of Object.entries(v)) {
        if (k.includes('\u0000')) return true;
        todo.push(inner);
      }
    }
  }
  return false;
}

/** The first way `value` (at `at` in the payload) differs from `schema`, or undefined. */
function shapeProblem(schema: TSchema, value: unknown, at = ''): string | undefined {
  if (Value.Check(schema, value)) return undefined;
  const first = Value.Errors(schema, value).First();
  return first ? `${at + first.path || '(root)'}: ${first.message}` : `${at || '(root)'}: does not match its schema`;
}

/** What a schema of one field at a time cannot say: a replay answer's ranges, an attendance event's assurance. */
function contentProblem(path: Exclude<PathKind, { kind: 'other' }>, body: Record<string, unknown>): string | undefined {
  if (path.kind === 'replayAnswer') return replayAnswerProblem(body);
  if (path.kind === 'event' && path.topic === 'attendance') return attendanceAssuranceProblem(body);
  return undefined;
}

/** An `ok` answer to a replay request carries numbers the consumer stores: each range ascending, each number bounded. */
function replayAnswerProblem(body: Record<string, unknown>): string | undefined {
  if (body.status !== 'ok') return undefined;
  const problem = shapeProblem(ReplayAnswerData, body.data, '/data');
  if (problem) return problem;
  const gone = (body.data as ReplayAnswerData).gone ?? [];
  return gone.some(([from, to]) => from > to) ? '/data/gone: a range runs backwards' : undefined;
}
