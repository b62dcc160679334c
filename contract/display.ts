import { Type } from '@sinclair/typebox';
import { DeviceId, Iso } from './fields.js';

/**
 * The movements a display may ask for where one camera must tell a person from a replayed video:
 * the head turned to the person's own left or right and back, or a nod.
 */
export const CHALLENGE_MOVES = ['turn_left', 'turn_right', 'nod'] as const;
/** What a door display asks of the person in front of it while their face is not yet decided: a hint, or a movement it checks. */
export const DISPLAY_PROMPTS = ['step_closer', 'look_at_camera', 'hold_still', 'one_moment', ...CHALLENGE_MOVES] as const;
/** What a display's greeting says happened: a check-in, a check-out, or a recognition that recorded nothing new. */
export const DISPLAY_GREETINGS = ['check_in', 'check_out', 'seen'] as const;

export const DisplayPayload = Type.Object(
  {
    device: DeviceId,
    target: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,31}$', description: 'The door, or the camera in no door, the display stands at' }),
    time: Iso,
    type: Type.Union([Type.Literal('greeting'), Type.Literal('prompt'), Type.Literal('idle')], {
      description: "greeting: a person was recognised (and checked in or out); prompt: a face is seen and not yet decided; idle: nothing to show",
    }),
    greeting: Type.Optional(Type.Union(DISPLAY_GREETINGS.map((g) => Type.Literal(g)), { description: 'With a greeting: what happened' })),
    name: Type.Optional(
      Type.Union([Type.String({ maxLength: 64 }), Type.Null()], { description: "With a greeting: the person's first name, whole name or null, as display.mqtt.show (or the display token) says; never anything of an unknown person" }),
    ),
    at: Type.Optional(Iso),
    clock: Type.Optional(Type.String({ pattern: '^\\d{2}:\\d{2}$', description: "With a greeting: `at` as the site's wall clock shows it, HH:MM" })),
    prompt: Type.Optional(
      Type.Union(DISPLAY_PROMPTS.map((p) => Type.Literal(p)), {
        description: "With a prompt: what would help; turn_left, turn_right and nod ask for that movement of the head (the person's own left or right), which the daemon checks",
      }),
    ),
  },
  { additionalProperties: false, description: 'What a door display shows now; unsigned and never retained: a greeting is only worth showing as it happens' },
);

