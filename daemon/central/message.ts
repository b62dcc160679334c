import { Value } from '@sinclair/typebox/value';
import { nestedDeeperThan } from '../base/nesting.js';
import { TOPICS, type OutboxTopic } from '../events/topics.js';
import type { TSchema } from '@sinclair/typebox';
import { classifyPath, splitTopic, type PathKind } from './topics.js';

/** Why a message is not even looked at for a signature; each is a counter label. */
export type MalformedReason = 'too_large' | 'not_json' | 'too_deep' | 'bad_shape';

/** One MQTT message as the consumer reads it, before any key is consulted. */
export type Inbound =
  | { readonly kind: 'info'; readonly base: string; readonly device: string; readonly publicKey: unknown }
  | { readonly kind: 'event'; readonly base: string; readonly topic: OutboxTopic; readonly body: Readonly<Record<string, unknown>> }
  | { readonly kind: 'sequence' | 'replayAnswer'; readonly base: string; readonly body: Readonly<Record<string, unknown>> }
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
      return TOPICS[path.topic].schema;
  }
}

/** Every payload of docs/mqtt.md is a few levels deep; the schema check after this recurses. */
const MAX_DEPTH = 8;

/**
 * Reads a message from anyone allowed to publish on the broker: bounded in size, JSON, shallow, and
 * of the shape its topic's schema (daemon/events/topics.ts) says, or refused with the reason. Never
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
  const schema = schemaOf(path);
  if (!Value.Check(schema, value)) {
    const first = Value.Errors(schema, value).First();
    return refuse('bad_shape', first ? `${first.path || '(root)'}: ${first.message}` : 'does not match its schema');
  }
  const body = value as Record<string, unknown>;
  if (path.kind === 'info') return { kind: 'info', base: split.base, device: body.device as string, publicKey: body.public_key };
  if (path.kind === 'sequence' || path.kind === 'replayAnswer') return { kind: path.kind, base: split.base, body };
  return { kind: 'event', base: split.base, topic: path.topic, body };
}
