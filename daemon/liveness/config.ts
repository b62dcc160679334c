import { Type, type Static } from '@sinclair/typebox';
import { OneOf, Section } from '../base/config-types.js';

export const LivenessConfigSchema = Section(
  {
    policy: OneOf(['fused', 'both', 'blink', 'passive'] as const, {
      default: 'fused',
      description:
        "What makes a track live: 'fused' (blinks, the 3D motion of the landmarks and the passive score weighed together; one blink or one turn or nod of the head is enough, and a low passive score on compressed video is no veto), 'blink' (a blink of both eyes, nothing else), 'passive' (the anti-spoof score alone, for faces as large as at an access terminal). 'both' is the older name of 'fused'.",
    }),
    blink_min_ms: Type.Integer({ minimum: 0, maximum: 2000, default: 60, description: 'Shortest closed phase of a blink, milliseconds (at 15 fps one closed sample counts as ~67 ms).' }),
    blink_max_ms: Type.Integer({
      minimum: 50,
      maximum: 5000,
      default: 800,
      description: 'Longest closed phase of a blink as the eye model reads it; eyes held closed longer are not a blink. Blinks last 100–400 ms, but at CCTV sizes H.264 smears the reopening over a few frames.',
    }),
    closed_ratio: Type.Number({
      minimum: 0.05,
      maximum: 0.9,
      default: 0.3,
      description: "An eye is closed when its p(open) falls below this fraction of the track's own open level (and below 0.35 absolute).",
    }),
    min_open_level: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.6,
      description: "Blinks are only looked for once the track's open level (a high percentile of its recent p(open)) reaches this: eyes the model never sees clearly open cannot show a blink.",
    }),
    no_blink_alert_s: Type.Number({
      minimum: 0,
      maximum: 3600,
      default: 0,
      description:
        "0 (the default): a track that never proved life ends not live, never refused for it; its person waits for review. Above 0: a track whose eyes were readable this long without a blink or any other proof of life ends with 'spoof_suspected' (reason no_blink). Off by default because no blink is no evidence of a picture: at CCTV sizes the blink detector finds 60-80 % of blinks, and a real person can go well over 10 s without one.",
    }),
    antispoof_min_live: Type.Number({ minimum: 0, maximum: 1, default: 0.5, description: "Under policy 'passive': the mean anti-spoof p(live) over the track at or above which it is live. Under 'fused' the score is weighed as measured on compressed video instead (docs/track.md)." }),
    antispoof_min_samples: Type.Integer({ minimum: 1, maximum: 100, default: 3, description: 'Anti-spoof scores needed before the passive check decides.' }),
    antispoof_min_face_px: Type.Integer({
      minimum: 0,
      maximum: 2000,
      default: 200,
      description:
        "Smallest face, in pixels of height, the passive anti-spoof model scores. It was trained at an access terminal's range; on the smaller, compressed faces of a CCTV stream it refuses real people and passes prints alike. A track never seen this large is decided without it: by its blinks and motion under 'fused', never live under 'passive'. 0 scores every face.",
    }),
    challenge: Section(
      {
        enabled: Type.Boolean({
          default: true,
          description:
            "Under the 'fused' policy, where attendance requires 'live' of a camera that no second camera of a door watches with it, a recognised person not yet live is asked by the door display (page and MQTT) for a movement chosen at random (turn your head left, turn right, nod); one made in time adds to the fused liveness, a wrong or missing one takes nothing away.",
        }),
        after_s: Type.Number({ minimum: 0, maximum: 30, default: 1.5, description: 'Seconds after a person is recognised, still not live, before the movement is asked for.' }),
        rounds: Type.Integer({ minimum: 1, maximum: 3, default: 2, description: 'Movements asked of one track at most, one after the other while it is not live: each one made adds to its liveness.' }),
      },
      'A movement the door display asks for, which a replayed video cannot anticipate.',
    ),
  },
  'Liveness of a track: blinks, the face moving as a face and not as a picture, and the passive anti-spoof score, fused.',
);
export type LivenessConfig = Static<typeof LivenessConfigSchema>;
