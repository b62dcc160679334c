import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { AssuranceSchema } from './assurance.js';
import { AttendanceRetractedPayload, AttendanceUpgradedPayload, AttendanceUpgradedPayloadAccepted, QuarantineAlertPayload, SpoofAlertPayload, UnknownAlertPayload, UnknownWithdrawnPayload } from './alerts.js';
import { DisplayPayload } from './display.js';
import { Count, DeviceId, Door, envelope, Iso } from './fields.js';
import { FeedReport } from './feed.js';
import { LivenessSharesSchema } from './liveness-shares.js';

/**
 * The whole public MQTT API of facegate: every topic under the base topic, its payload schema,
 * whether it is retained, and how it is delivered. docs/mqtt.md documents each entry with an example
 * payload, and test/events/topics.test.ts checks the two against each other.
 */

const State = Type.Object({ state: Type.Union([Type.Literal('online'), Type.Literal('offline')]) }, { additionalProperties: false });

const attendanceFields = {
  ...envelope,
  type: Type.Union([Type.Literal('check_in'), Type.Literal('check_out'), Type.Literal('summary')]),
  record_id: Type.String({ description: "One person's day; a later check_out with the same record_id replaces an earlier one" }),
  person_id: Type.String(),
  external_id: Type.Union([Type.String(), Type.Null()], {
    description: "The person's id in the site's own systems, given at enrolment (person add --id, a remote enrolment's person_id); null if none",
  }),
  group: Type.Union([Type.String(), Type.Null()]),
  camera: Type.Union([Type.String(), Type.Null()]),
  door: Door("The door (doors:) the check-in's or check-out's camera belongs to; absent for a camera in no door, and on a summary"),
  date: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'Local date the shift starts on' }),
  shift: Type.Union([
    Type.Object({ name: Type.String(), start: Iso, end: Iso }, { additionalProperties: false }),
    Type.Null(),
  ]),
  status: Type.Union(['on_time', 'late', 'early', 'unscheduled', 'present', 'half_day', 'absent'].map((s) => Type.Literal(s))),
  source: Type.Union([Type.Literal('entry'), Type.Literal('exit'), Type.Literal('last_seen'), Type.Literal('end_of_day')]),
  late_minutes: Count(),
  early_minutes: Count(),
  overtime_minutes: Count(),
  check_in: Type.Union([Iso, Type.Null()]),
  check_out: Type.Union([Iso, Type.Null()]),
  worked_minutes: Type.Union([Count(), Type.Null()]),
};

const attendanceAssurance = Type.Union([AssuranceSchema, Type.Null()], {
  description: 'What proved the person there, on a check_in or check_out (see contract/assurance.ts); null on a summary',
});

const attendanceLiveness = Type.Union([LivenessSharesSchema, Type.Null()], {
  description:
    "The fused liveness and each cue's share of it when the track behind the check_in or check_out decided (for a reviewed one, the shares its track had when a person confirmed it); null on a summary, and where the track never decided",
});

export const AttendancePayload = Type.Object({ ...attendanceFields, assurance: attendanceAssurance, liveness: attendanceLiveness }, { additionalProperties: false });

/**
 * `<base>/attendance` as a receiver takes it, from boxes of every version: boxes from before
 * assurance send none, and each of their check-ins and check-outs was proven live
 * (contract/assurance.ts, attendanceAssurance); boxes from before the cues' shares send none.
 */
const AttendancePayloadAccepted = Type.Object({ ...attendanceFields, assurance: Type.Optional(attendanceAssurance), liveness: Type.Optional(attendanceLiveness) }, { additionalProperties: false });

/** What a track is at now: tracked and undecided, a decision, or why it cannot be decided. */
const TrackState = Type.Union(
  ['tracking', 'recognized', 'unknown', 'spoof_suspected', 'too_small', 'low_quality'].map((s) => Type.Literal(s)),
);

/** The fields a track's event and the retained `last` share; ids only, a name only where the site asked for names. */
const trackFields = {
  camera: Type.String(),
  door: Door(),
  track: Count('Track id, unique per camera while the daemon runs'),
  state: TrackState,
  person_id: Type.Union([Type.String(), Type.Null()]),
  anonymous_id: Type.Union([Type.String(), Type.Null()], { description: 'Stable for one tracked unknown face; not a person id' }),
  name: Type.Optional(Type.String({ description: 'Only with mqtt.track_events.person_names: names are personal data' })),
  score: Type.Union([Type.Number(), Type.Null()], { description: 'Fused match score of the best person' }),
  margin: Type.Union([Type.Number(), Type.Null()], { description: 'Score lead over the next person' }),
  live: Type.Boolean(),
  antispoof: Type.Union([Type.Number(), Type.Null()], { description: 'Mean passive anti-spoof p(live), null before any' }),
  liveness: Type.Union([LivenessSharesSchema, Type.Null()], { description: 'Null before the track was decided' }),
  reasons: Type.Array(Type.String({ maxLength: 200 }), { maxItems: 8, description: 'Why it is not decided or not live (not_live_yet, too_small, no_blink ...)' }),
  face_px: Type.Union([Count(), Type.Null()], { description: 'Face height in pixels' }),
};

const trackAssurance = Type.Union([AssuranceSchema, Type.Null()], {
  description: "What proved the recognised person (state recognized): 'stereo', 'live' or 'recognised' (named, not proven yet); null while no one is named, and for unknown and refused faces",
});

const trackEventFields = {
  ...envelope,
  type: Type.Union([Type.Literal('new'), Type.Literal('update'), Type.Literal('end')]),
  ...trackFields,
  image_sha256: Type.Union([Type.String({ pattern: '^[0-9a-f]{64}$' }), Type.Null()]),
  image: Type.Optional(Type.String({ description: 'Base64 JPEG thumbnail, only with mqtt.track_events.snapshot_max_kb; its sha256 is signed' })),
};

export const TrackEventPayload = Type.Object({ ...trackEventFields, assurance: trackAssurance }, { additionalProperties: false });

/** `<base>/<camera>/events` as a receiver takes it, from boxes of every version: boxes from before assurance send none. */
const TrackEventPayloadAccepted = Type.Object({ ...trackEventFields, assurance: Type.Optional(trackAssurance) }, { additionalProperties: false });

export const TrackLastPayload = Type.Object(
  { ...trackFields, assurance: trackAssurance, time: Iso },
  { additionalProperties: false, description: "A camera's latest decision; no image" },
);

export const BridgeEventPayload = Type.Object(
  {
    ...envelope,
    type: Type.String({ description: "'started', 'stopping', 'outbox_overflow', 'command_refused', ..." }),
    data: Type.Record(Type.String(), Type.Unknown()),
  },
  { additionalProperties: false },
);

export const BridgeInfoPayload = Type.Object(
  {
    version: Type.String(),
    device: DeviceId,
    cameras: Type.Array(Type.String()),
    public_key: Type.Record(Type.String(), Type.Unknown(), { description: 'Device public JWK that verifies every jws' }),
    gallery_generation: Type.Optional(
      Count("The gallery's generation: raised by every change of persons; lower than before means an older state file was put back"),
    ),
    config: Type.Record(Type.String(), Type.Unknown(), { description: 'Effective config, secrets removed' }),
  },
  { additionalProperties: false },
);

export const SequencePayload = Type.Object(
  {
    device: DeviceId,
    time: Iso,
    seq: Count('The highest event sequence number a broker acknowledged: a receiver that holds less missed the rest'),
    jws: Type.String({ description: 'Compact JWS (EdDSA) by the device key over this object without jws' }),
  },
  { additionalProperties: false, description: "The box's high-water mark, so that a lost tail (no later event to show the gap) is seen" },
);

export const StatsPayload = Type.Object(
  {
    device: DeviceId,
    time: Iso,
    uptime_s: Count(),
    outbox: Type.Object(
      { pending: Count(), oldest_age_s: Count(), dropped: Type.Record(Type.String(), Count()) },
      { additionalProperties: false },
    ),
    mqtt: Type.Object({ published: Count(), reconnects: Count() }, { additionalProperties: false }),
  },
  { additionalProperties: false },
);

export const CameraStatePayload = Type.Object(
  {
    recognized_today: Count(),
    unknown_today: Count(),
    spoof_today: Count(),
    last_event: Type.Union([Iso, Type.Null()]),
  },
  { additionalProperties: false, description: 'Counts only: no names or faces in retained state' },
);

export const PresencePayload = Type.Object(
  { state: Type.Union([Type.Literal('ON'), Type.Literal('OFF')]), camera: Type.String(), door: Door('The door (doors:) of the camera that saw the person; absent for a camera in no door'), time: Iso },
  { additionalProperties: false },
);

export const LastSeenPayload = Type.Object(
  { camera: Type.String(), door: Door('The door (doors:) of the camera that saw the person; absent for a camera in no door'), time: Iso },
  { additionalProperties: false, description: "Where and when a person was last seen: the Home Assistant last-seen sensor's state and attributes" },
);

export const DecisionPayload = Type.Object(
  {
    type: Type.Union([Type.Literal('recognized'), Type.Literal('unknown'), Type.Literal('spoof')]),
    camera: Type.String(),
    door: Door("The door (doors:) the camera belongs to; absent for a camera in no door. Each camera of a door sends its own decisions"),
    time: Iso,
    person_id: Type.Union([Type.String(), Type.Null()], { description: 'Who was recognised (or whom a spoof looked like); null otherwise' }),
    name: Type.Optional(Type.String({ description: 'Only with mqtt.homeassistant.person_names' })),
  },
  { additionalProperties: false, description: "A camera's decisions as they happen, for Home Assistant's device triggers" },
);

export const ResponsePayload = Type.Object(
  {
    id: envelope.id,
    status: Type.Union([Type.Literal('ok'), Type.Literal('error')]),
    data: Type.Record(Type.String(), Type.Unknown()),
    code: Type.Optional(Type.String({ pattern: '^FG_ERR_[A-Z0-9_]+$', description: 'Why an error answer is an error, for programs: FG_ERR_COMMAND_REFUSED, FG_ERR_ENROL_NO_FACE ...' })),
    error: Type.Optional(Type.String()),
    transaction: Type.Optional(Type.String()),
    jti: Type.Optional(Type.String({ description: "The request token's jti, once the token was read: binds the answer to its request" })),
    device: DeviceId,
    time: Iso,
    jws: Type.String({ description: 'Compact JWS (EdDSA) by the device key over this object without jws' }),
  },
  { additionalProperties: false },
);

export const RequestPayload = Type.Object(
  {
    token: Type.String({ description: 'Compact JWT (EdDSA) by the central key: aud, exp, iat, jti, cmd, data' }),
    transaction: Type.Optional(Type.String({ description: 'Echoed to the answer, cut at 200 characters' })),
  },
  { additionalProperties: false },
);

/**
 * How a class of events is treated when the outbox is full (docs/mqtt.md#outbox):
 * 'info' goes first, oldest first; 'alert' next, never silently; 'attendance' is never dropped.
 */
export type EventClass = 'attendance' | 'alert' | 'info';

interface TopicSpec<S extends TSchema> {
  /** Path under the base topic; `{camera}` and `{command}` are filled in. */
  readonly path: string;
  readonly schema: S;
  readonly retain: boolean;
  readonly qos: 0 | 1;
  /** Sent through the outbox (at least once, signed) or directly by the bridge. */
  readonly via: 'outbox' | 'direct';
  readonly eventClass?: EventClass;
  /**
   * What a receiver accepts on the topic, where it differs from `schema` (what a box of this
   * version sends): the fields boxes added since left optional, since older boxes in the field
   * still send without them. See acceptedSchema.
   */
  readonly accepts?: TSchema;
}

const spec = <const S extends TopicSpec<TSchema>>(s: S) => s;

export const TOPICS = {
  bridgeState: spec({ path: 'bridge/state', schema: State, retain: true, qos: 1, via: 'direct' }),
  bridgeInfo: spec({ path: 'bridge/info', schema: BridgeInfoPayload, retain: true, qos: 1, via: 'direct' }),
  sequence: spec({ path: 'bridge/sequence', schema: SequencePayload, retain: false, qos: 1, via: 'direct' }),
  bridgeEvent: spec({ path: 'bridge/event', schema: BridgeEventPayload, retain: false, qos: 1, via: 'outbox', eventClass: 'info' }),
  availability: spec({ path: '{camera}/availability', schema: State, retain: true, qos: 1, via: 'direct' }),
  attendance: spec({ path: 'attendance', schema: AttendancePayload, accepts: AttendancePayloadAccepted, retain: false, qos: 1, via: 'outbox', eventClass: 'attendance' }),
  attendanceRetracted: spec({ path: 'attendance/retracted', schema: AttendanceRetractedPayload, retain: false, qos: 1, via: 'outbox', eventClass: 'attendance' }),
  attendanceUpgraded: spec({ path: 'attendance/upgraded', schema: AttendanceUpgradedPayload, accepts: AttendanceUpgradedPayloadAccepted, retain: false, qos: 1, via: 'outbox', eventClass: 'attendance' }),
  unknown: spec({ path: 'alerts/unknown', schema: UnknownAlertPayload, retain: false, qos: 1, via: 'outbox', eventClass: 'alert' }),
  unknownWithdrawn: spec({ path: 'alerts/unknown/withdrawn', schema: UnknownWithdrawnPayload, retain: false, qos: 1, via: 'outbox', eventClass: 'alert' }),
  spoof: spec({ path: 'alerts/spoof', schema: SpoofAlertPayload, retain: false, qos: 1, via: 'outbox', eventClass: 'alert' }),
  quarantine: spec({ path: 'alerts/quarantine', schema: QuarantineAlertPayload, retain: false, qos: 1, via: 'outbox', eventClass: 'alert' }),
  trackEvent: spec({ path: '{camera}/events', schema: TrackEventPayload, accepts: TrackEventPayloadAccepted, retain: false, qos: 1, via: 'outbox', eventClass: 'info' }),
  trackLast: spec({ path: '{camera}/last', schema: TrackLastPayload, retain: true, qos: 1, via: 'direct' }),
  cameraState: spec({ path: '{camera}', schema: CameraStatePayload, retain: true, qos: 1, via: 'direct' }),
  presence: spec({ path: 'presence/{person}', schema: PresencePayload, retain: false, qos: 1, via: 'direct' }),
  lastSeen: spec({ path: 'presence/{person}/last_seen', schema: LastSeenPayload, retain: true, qos: 1, via: 'direct' }),
  decision: spec({ path: '{camera}/decision', schema: DecisionPayload, retain: false, qos: 1, via: 'direct' }),
  // Straight to the broker, never through the outbox: a greeting sent after the person left helps no one.
  display: spec({ path: '{target}/display', schema: DisplayPayload, retain: false, qos: 1, via: 'direct' }),
  stats: spec({ path: 'stats', schema: StatsPayload, retain: false, qos: 0, via: 'direct' }),
  // The box's standing in its site's gallery feed (contract/feed.ts), retained for the central's `feed status`.
  feedReport: spec({ path: 'bridge/feed', schema: FeedReport, retain: true, qos: 1, via: 'direct' }),
  request: spec({ path: 'bridge/request/{command}', schema: RequestPayload, retain: false, qos: 1, via: 'direct' }),
  // Answers are kept like attendance (never evicted): the central server acts on them, and junk
  // requests cannot fill the outbox with answers because the box limits refusals (daemon/remote/flood.ts).
  response: spec({ path: 'bridge/response/{command}', schema: ResponsePayload, retain: false, qos: 1, via: 'outbox', eventClass: 'attendance' }),
} as const;

export type TopicName = keyof typeof TOPICS;

/**
 * First topic segments the daemon publishes beside the per-camera ones (`<base>/<camera>/...`): a
 * camera named after one would mix its state into that topic (a camera `attendance` would publish
 * its counters on the attendance topic), so config validation refuses these names.
 */
export const RESERVED_CAMERA_NAMES: readonly string[] = [
  ...new Set(Object.values(TOPICS).map((t) => t.path.split('/')[0]!).filter((segment) => !segment.startsWith('{'))),
].sort();
export type Payload<T extends TopicName> = Static<(typeof TOPICS)[T]['schema']>;
export type OutboxTopic = { [K in TopicName]: (typeof TOPICS)[K] extends { via: 'outbox' } ? K : never }[TopicName];

/** The schema a receiver checks a topic's payloads against: what boxes of every version send on it. */
export function acceptedSchema(name: TopicName): TSchema {
  const topic: TopicSpec<TSchema> = TOPICS[name];
  return topic.accepts ?? topic.schema;
}

export function eventClassOf(name: OutboxTopic): EventClass {
  return (TOPICS[name] as { eventClass: EventClass }).eventClass;
}

export type TopicParams = { camera?: string; command?: string; person?: string; target?: string };

/** `<base>/<path>` with placeholders filled; wildcards are refused so a name cannot widen a topic. */
export function topicFor(base: string, name: TopicName, params: TopicParams = {}): string {
  const path = TOPICS[name].path.replace(/\{(camera|command|person|target)\}/g, (_, k: 'camera' | 'command' | 'person' | 'target') => {
    const v = params[k];
    if (v === undefined || v === '' || /[+#]/.test(v)) throw new Error(`topic ${name} needs a valid ${k}, got ${JSON.stringify(v)}`);
    return v;
  });
  return `${base}/${path}`;
}
