import { Type, type Static } from '@sinclair/typebox';
import { Count, Door, envelope, Iso, UUID_V7_PATTERN } from './fields.js';
import { SafeInteger } from './numbers.js';
import { AssuranceSchema } from './assurance.js';
import { LivenessSharesSchema } from './liveness-shares.js';

/** The payloads of `<base>/alerts/*` and of a withdrawn or better-proven check-in: what a box tells a site's people to look at. */

export const UnknownAlertPayload = Type.Object(
  {
    ...envelope,
    type: Type.Literal('unknown'),
    camera: Type.String(),
    door: Door(),
    anonymous_id: Type.String({ description: 'Stable for one tracked unknown face; not a person id' }),
    face_px: Count(),
    image_sha256: Type.Union([Type.String({ pattern: '^[0-9a-f]{64}$' }), Type.Null()]),
    image: Type.Optional(Type.String({ description: 'Base64 JPEG face crop, size-capped; not signed itself, its sha256 is' })),
  },
  { additionalProperties: false },
);

export const UnknownWithdrawnPayload = Type.Object(
  {
    ...envelope,
    type: Type.Literal('unknown_withdrawn'),
    camera: Type.String(),
    door: Door(),
    track: Count('The track that was alerted as unknown, as in <camera>/events'),
    anonymous_id: Type.String({ description: 'The anonymous_id of the alert withdrawn' }),
    alert_id: Type.Union([Type.String({ pattern: UUID_V7_PATTERN }), Type.Null()], {
      description: 'The id of the alerts/unknown event withdrawn; null only when the daemon no longer holds it',
    }),
    person_id: Type.String({ description: 'The enrolled person the face turned out to be' }),
    score: Type.Number({ description: "The track's fused match score when it was recognised" }),
  },
  { additionalProperties: false },
);

export const SpoofAlertReason = Type.Union([Type.Literal('held_picture'), Type.Literal('frozen'), Type.Literal('no_blink'), Type.Literal('passive')]);
export type SpoofAlertReason = Static<typeof SpoofAlertReason>;

export const SpoofAlertPayload = Type.Object(
  {
    ...envelope,
    type: Type.Literal('spoof'),
    camera: Type.String(),
    door: Door(),
    anonymous_id: Type.String(),
    person_id: Type.Union([Type.String(), Type.Null()], { description: 'Who the face looked like, if anyone' }),
    reason: SpoofAlertReason,
    score: Type.Number(),
  },
  { additionalProperties: false },
);

/**
 * A check-in or check-out withdrawn: the track that made it was refused afterwards. Receivers drop
 * the decision named by `retracts` from attendance and timesheets; the record's check_in/check_out
 * say what stands now.
 */
export const AttendanceRetractedPayload = Type.Object(
  {
    ...envelope,
    type: Type.Literal('retracted'),
    kind: Type.Union([Type.Literal('check_in'), Type.Literal('check_out')]),
    retracts: Type.String({ pattern: UUID_V7_PATTERN, description: 'The id of the attendance event withdrawn' }),
    record_id: Type.String(),
    person_id: Type.String(),
    external_id: Type.Union([Type.String(), Type.Null()]),
    group: Type.Union([Type.String(), Type.Null()]),
    camera: Type.String({ description: 'The camera whose track made the decision' }),
    door: Door("The door (doors:) of the camera whose track made the decision; absent for a camera in no door"),
    reason: SpoofAlertReason,
    check_in: Type.Union([Iso, Type.Null()], { description: 'The check-in the record holds now' }),
    check_out: Type.Union([Iso, Type.Null()], { description: 'The check-out the record holds now' }),
  },
  { additionalProperties: false },
);

/**
 * A check-in or check-out proven better after it was made: its track, named first, proved the
 * person live or stereo before it ended. Receivers raise the assurance of the decision named by
 * `upgrades` to `assurance` where theirs is lower, never lowering it: the event may come twice, or
 * before the decision it names, or after a higher one.
 */
const attendanceUpgradedFields = {
  ...envelope,
  type: Type.Literal('upgraded'),
  kind: Type.Union([Type.Literal('check_in'), Type.Literal('check_out')]),
  upgrades: Type.String({ pattern: UUID_V7_PATTERN, description: 'The id of the attendance event whose assurance rises' }),
  record_id: Type.String(),
  person_id: Type.String(),
  external_id: Type.Union([Type.String(), Type.Null()]),
  group: Type.Union([Type.String(), Type.Null()]),
  camera: Type.String({ description: 'The camera whose track made the decision and proved it better' }),
  assurance: AssuranceSchema,
  previous_assurance: AssuranceSchema,
  check_in: Type.Union([Iso, Type.Null()], { description: 'The check-in the record holds now' }),
  check_out: Type.Union([Iso, Type.Null()], { description: 'The check-out the record holds now' }),
};

const upgradedLiveness = Type.Union([LivenessSharesSchema, Type.Null()], {
  description: "The fused liveness and each cue's share of it when the track proved the decision better, what its new assurance rests on; null where the track's decision carried none",
});

export const AttendanceUpgradedPayload = Type.Object({ ...attendanceUpgradedFields, liveness: upgradedLiveness }, { additionalProperties: false });

/** `attendance/upgraded` as a receiver takes it, from boxes of every version: boxes from before the cues' shares send none. */
export const AttendanceUpgradedPayloadAccepted = Type.Object({ ...attendanceUpgradedFields, liveness: Type.Optional(upgradedLiveness) }, { additionalProperties: false });

/** At most this many damaged cells are listed in one quarantine event; `cells_total` counts them all. */
export const QUARANTINE_CELLS_MAX = 32;

export const QuarantineAlertPayload = Type.Object(
  {
    ...envelope,
    type: Type.Literal('quarantine'),
    person_id: Type.String({ description: 'The gallery uuid of the person left out; remove them by it' }),
    cells: Type.Array(
      Type.Object(
        {
          table: Type.String(),
          column: Type.String(),
          row: Type.Union([Type.String(), SafeInteger({ minimum: -Number.MAX_SAFE_INTEGER })]),
          kind: Type.Union([Type.Literal('damaged'), Type.Literal('null'), Type.Literal('lookup')], { description: "As 'facegate gallery verify' names them: DAMAGED, NULL, LOOKUP" }),
        },
        { additionalProperties: false },
      ),
      { maxItems: QUARANTINE_CELLS_MAX, description: 'The cells that failed authentication, first ones only' },
    ),
    cells_total: SafeInteger({ minimum: 1 }),
  },
  { additionalProperties: false, description: 'Ids only: no name, external id or face' },
);

