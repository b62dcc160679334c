import { Type, type Static } from '@sinclair/typebox';
import { RecognitionConfigSchema, VisionConfigSchema } from '../vision/config.js';
import { GalleryConfigSchema } from '../gallery/config.js';
import { CAMERA_CONFIG_SECTIONS, type CameraConfig } from '../camera/config.js';
import { TrackConfigSchema } from '../track/config.js';
import { AttendanceConfigSchema } from '../attendance/config.js';
import { MqttConfigSchema } from '../events/config.js';
import { OPS_CONFIG_SECTIONS } from './ops-sections.js';
import { WebConfigSchema } from './web-section.js';
import { DisplayConfigSchema } from '../display/config.js';

/**
 * The one schema of facegate's config: TypeScript types, defaults and docs all come from here.
 * Each stage owns its section (daemon/<stage>/config.ts); this file only assembles them.
 * config/facegate.schema.json is generated from it (`npm run schema`) for editors.
 */
export const ConfigSchema = Type.Object(
  {
    vision: VisionConfigSchema,
    recognition: RecognitionConfigSchema,
    gallery: GalleryConfigSchema,
    ...CAMERA_CONFIG_SECTIONS,
    track: TrackConfigSchema,
    attendance: AttendanceConfigSchema,
    mqtt: MqttConfigSchema,
    ...OPS_CONFIG_SECTIONS,
    web: WebConfigSchema,
    display: DisplayConfigSchema,
  },
  { additionalProperties: false, $id: 'https://facegate.dev/schema/config.json', title: 'facegate configuration' },
);
/** The config as the file gives it, every default of the schema filled. */
export type ConfigFile = Static<typeof ConfigSchema>;
/** The config every command and stage gets (load.ts): defaults that depend on another section resolved too. */
export type Config = Omit<ConfigFile, 'cameras'> & { cameras: CameraConfig[] };
