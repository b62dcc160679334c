import { REPLAY_COMMAND } from '../contract/replay.js';
import type { OutboxTopic } from '../contract/topics.js';

/**
 * Where a box's topic splits into its base and the path under it. The consumer subscribes to base
 * topics (`facegate/gate-1`) or filters with `+` over them (`facegate/+`): a filter's number of
 * levels says how many levels of a topic are its base.
 */
export function baseFilterProblem(filter: string): string | undefined {
  if (filter.length === 0) return 'empty';
  if (filter.startsWith('$')) return 'a base topic cannot start with $ (the broker keeps those for itself)';
  if (filter.includes('#')) return 'use + for one level; # would swallow the topics under the base';
  if (filter.split('/').some((level) => level === '' || (level.includes('+') && level !== '+'))) return 'levels are non-empty, and + stands alone in its level';
  return undefined;
}

/** The signed topics a consumer reads under each base (bridge/info comes apart: it is retained and never shared). */
export const EVENT_SUBTOPICS = ['attendance', 'attendance/retracted', 'attendance/upgraded', 'alerts/#', 'bridge/event', '+/events'] as const;
export const INFO_SUBTOPIC = 'bridge/info';
/** What replay reads (docs/mqtt.md#replay): the box's signed high-water mark and its answers to replay requests. */
export const SEQUENCE_SUBTOPIC = 'bridge/sequence';
export const REPLAY_ANSWER_SUBTOPIC = `bridge/response/${REPLAY_COMMAND}`;

/**
 * The box a base topic belongs to: its last level, the device id of a box on its default base
 * topic (`facegate/<device_id>`). What a box's payloads must name as `device`, and the audience of
 * the replay requests the consumer signs for it, so that a request reaches only that box.
 */
export function boxIdOf(base: string): string {
  return base.slice(base.lastIndexOf('/') + 1);
}

export interface SplitTopic {
  readonly base: string;
  readonly path: string;
}

/** The base and the rest of `topic` under the first filter that takes it; undefined if none does. */
export function splitTopic(topic: string, filters: readonly string[]): SplitTopic | undefined {
  const levels = topic.split('/');
  for (const filter of filters) {
    const want = filter.split('/');
    if (levels.length <= want.length) continue;
    if (want.every((w, i) => w === '+' || w === levels[i])) return { base: levels.slice(0, want.length).join('/'), path: levels.slice(want.length).join('/') };
  }
  return undefined;
}

/** What a path under a base carries: the box's info, a signed event of a topic of docs/mqtt.md, or nothing the consumer reads. */
export type PathKind = { readonly kind: 'info' } | { readonly kind: 'sequence' } | { readonly kind: 'replayAnswer' } | { readonly kind: 'event'; readonly topic: OutboxTopic } | { readonly kind: 'other' };

const EVENT_PATHS: ReadonlyMap<string, OutboxTopic> = new Map([
  ['attendance', 'attendance'],
  ['attendance/retracted', 'attendanceRetracted'],
  ['attendance/upgraded', 'attendanceUpgraded'],
  ['alerts/unknown', 'unknown'],
  ['alerts/unknown/withdrawn', 'unknownWithdrawn'],
  ['alerts/spoof', 'spoof'],
  ['alerts/quarantine', 'quarantine'],
  ['bridge/event', 'bridgeEvent'],
]);

export function classifyPath(path: string): PathKind {
  if (path === INFO_SUBTOPIC) return { kind: 'info' };
  if (path === SEQUENCE_SUBTOPIC) return { kind: 'sequence' };
  if (path === REPLAY_ANSWER_SUBTOPIC) return { kind: 'replayAnswer' };
  const known = EVENT_PATHS.get(path);
  if (known) return { kind: 'event', topic: known };
  const parts = path.split('/');
  if (parts.length === 2 && parts[1] === 'events' && parts[0] !== 'bridge' && parts[0] !== 'alerts') return { kind: 'event', topic: 'trackEvent' };
  return { kind: 'other' };
}
