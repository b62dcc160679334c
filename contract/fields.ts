import { Type } from '@sinclair/typebox';
import { SafeInteger } from './numbers.js';

/** The fields and formats that the payloads of the MQTT API share (topics.ts lists the topics). */

export const Count = (description?: string) => SafeInteger({ minimum: 0, ...(description !== undefined ? { description } : {}) });
/** As the box writes it (2026-01-12T08:03:12+01:00, fractions of a second optional): a date a receiver parses to a finite instant, four-digit year. */
export const Iso = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?(Z|[+-]\\d{2}:\\d{2})$', maxLength: 35, description: 'Local time with offset, ISO 8601' });
/** An event's id: RFC 9562 UUIDv7 (lower-case hex), as the box's generator (daemon/base/uuidv7.ts) makes it. */
export const UUID_V7_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$';
/** A box's `mqtt.device_id`: the audience of the commands it runs, and the last level of its default base topic. */
export const DEVICE_ID_PATTERN = '^[A-Za-z0-9_-]{1,64}$';
export const DeviceId = Type.String({ pattern: DEVICE_ID_PATTERN, description: "The box's mqtt.device_id" });
/**
 * The door (doors:) of the camera an event is about. Optional: absent for a camera in no door, and
 * from a box of a release before doors, whose events still verify.
 */
/** A door's name as the box's config allows it (a camera's rule): a receiver that keeps it (the central) keeps a short name, never any string. */
export const DOOR_NAME_PATTERN = '^[a-z0-9][a-z0-9_-]{0,31}$';
export const Door = (description = 'The door (doors:) the camera belongs to; absent for a camera in no door') => Type.Optional(Type.String({ pattern: DOOR_NAME_PATTERN, description }));
/** The `door` field of a payload, where there is a door: absent (not null) otherwise, as older boxes send it. */
export function doorField(door: string | null | undefined): { door?: string } {
  return door != null ? { door } : {};
}
/** Fields every one-shot event carries; `jws` signs all the others (see docs/mqtt.md#signatures). */
export const envelope = {
  id: Type.String({ pattern: UUID_V7_PATTERN, description: 'UUIDv7; stable across re-deliveries, drop duplicates by it' }),
  device: DeviceId,
  time: Iso,
  seq: Type.Optional(
    SafeInteger({ minimum: 1, description: "The box's event sequence number: one more for each event, never going back; a receiver asks for the numbers it misses (see Replay). Absent from boxes older than replay" }),
  ),
  jws: Type.String({ description: 'Compact JWS (EdDSA) over this object without jws (and without image)' }),
};

