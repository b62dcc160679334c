import { Type, type Static } from '@sinclair/typebox';
import { Section } from '../base/config-types.js';

/** The most templates a person can have: gallery.enrol.max_templates at its highest. */
export const MAX_TEMPLATES_PER_PERSON = 200;

export const GalleryConfigSchema = Section(
  {
    path: Type.String({
      minLength: 1,
      default: '/var/lib/facegate/facegate.db',
      description: "The daemon's state file (SQLite): the encrypted gallery, and later attendance and the outbox.",
    }),
    key_file: Type.String({
      minLength: 1,
      default: '/etc/facegate/gallery.key',
      description: "Key-encryption key file, made by 'facegate keys init' (mode 0600; never overwritten). Second in the key order.",
    }),
    credential: Type.String({
      minLength: 1,
      default: 'facegate-gallery-key',
      description: 'systemd credential name (LoadCredential= / LoadCredentialEncrypted=) read from $CREDENTIALS_DIRECTORY. First in the key order.',
    }),
    passphrase_env: Type.String({
      minLength: 1,
      default: 'FACEGATE_PASSPHRASE',
      description: 'Environment variable holding a passphrase, stretched with Argon2id. Last in the key order.',
    }),
    matcher: Section(
      {
        top_k: Type.Integer({ minimum: 1, maximum: 100, default: 5, description: 'Candidate persons reported per face.' }),
        min_face_px: Type.Integer({ minimum: 8, maximum: 4000, default: 40, description: "Faces lower than this (pixels) are reported as 'too_small', not searched: one frame of a smaller face is not enough." }),
        min_sharpness: Type.Number({ minimum: 0, maximum: 100_000, default: 15, description: "Faces blurrier than this (variance of the Laplacian) are 'low_quality'." }),
        max_yaw: Type.Number({ minimum: 0, maximum: 90, default: 60, description: "Faces turned further than this (degrees) are 'low_quality'." }),
      },
      'Gallery search.',
    ),
    enrol: Section(
      {
        min_face_px: Type.Integer({ minimum: 32, maximum: 4000, default: 80, description: 'Smallest face height accepted for enrolment, pixels.' }),
        min_sharpness: Type.Number({ minimum: 0, maximum: 100_000, default: 40, description: 'Smallest variance of the Laplacian of the aligned face (below: blurred).' }),
        max_yaw: Type.Number({ minimum: 0, maximum: 90, default: 35, description: 'Largest head turn, degrees.' }),
        max_pitch: Type.Number({ minimum: 0, maximum: 90, default: 40, description: 'Largest head tilt up or down, degrees (a face looking down 30° is still recognisable).' }),
        min_eye_open: Type.Number({ minimum: 0, maximum: 1, default: 0.5, description: 'Smallest probability that each eye is open.' }),
        max_faces: Type.Integer({ minimum: 1, maximum: 100, default: 1, description: 'An image with more faces than this (above min_face_px) is refused: whose face would it be?' }),
        max_templates: Type.Integer({
          minimum: 1,
          maximum: MAX_TEMPLATES_PER_PERSON,
          default: 20,
          description: "Most templates (photos) kept per person. Past it the worst by quality are dropped, so photos added or taught later replace the weakest ones.",
        }),
        video_frames: Type.Integer({ minimum: 1, maximum: 50, default: 5, description: 'Most templates kept from one enrolment video.' }),
        video_min_pose_delta: Type.Number({ minimum: 0, maximum: 180, default: 8, description: 'Degrees of yaw/pitch by which video frames kept must differ (multi-angle enrolment).' }),
      },
      'Quality gate for enrolment photos and videos.',
    ),
  },
  'Encrypted gallery: where it lives, where its key comes from, search and enrolment settings.',
);
export type GalleryConfig = Static<typeof GalleryConfigSchema>;
