import { Type, type Static } from '@sinclair/typebox';
import { OneOf, Section } from '../base/config-types.js';
import type { ConfigIssue } from '../base/config-types.js';
import { sourceKind } from './source.js';

/** A name of a camera or a door: a topic segment, a URL segment and a log field. */
const NAME_PATTERN = '^[a-z0-9][a-z0-9_-]{0,31}$';

export const CameraConfigSchema = Type.Object(
  {
    name: Type.String({
      pattern: NAME_PATTERN,
      description: 'Unique name: lower-case letters, digits, - and _ (it appears in MQTT topics and logs). Not alerts, attendance, bridge, presence or stats: the daemon publishes those topics itself.',
    }),
    url: Type.String({
      minLength: 1,
      description:
        'rtsp://user:password@host:554/path, or a video file (a path or file://...) played in real time. Credentials are never logged.',
    }),
    width: Type.Integer({ minimum: 16, maximum: 7680, default: 1280, description: 'Frame width handed to the pipeline. FFmpeg fits the stream inside width×height keeping its aspect (black bars where the proportions differ), so set both in the stream\'s proportion.' }),
    height: Type.Integer({ minimum: 16, maximum: 4320, default: 720, description: 'Frame height handed to the pipeline.' }),
    fps: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        maximum: 60,
        description:
          "Frames per second handed to the pipeline (FFmpeg drops or repeats frames to reach it; repeats are not new eye samples). Left out: track.eye_fps when track.liveness.policy needs a blink ('both', 'blink'), else track.detect_fps.",
      }),
    ),
    transport: OneOf(['tcp', 'udp'] as const, { default: 'tcp', description: 'RTSP transport. TCP survives lossy links; UDP has less delay.' }),
    hwaccel: OneOf(['none', 'cuda', 'vaapi', 'qsv'] as const, {
      default: 'none',
      description: "Hardware decoding passed to FFmpeg as -hwaccel (vaapi may need '-hwaccel_device /dev/dri/renderD128' in input_args). Measured with NVIDIA's decoder, cuda costs the CPU more than decoding there: keep none unless measured otherwise on your box.",
    }),
    input_args: Type.Array(Type.String(), { maxItems: 64, default: [], description: 'Extra FFmpeg input options, placed before -i.' }),
    watchdog_s: Type.Number({
      minimum: 1,
      maximum: 300,
      default: 10,
      description: 'No new frame for this long: FFmpeg is killed and restarted. FFmpeg\'s own network timeout is set 5 s longer.',
    }),
    backoff_max_s: Type.Number({ minimum: 1, maximum: 3600, default: 30, description: 'Longest wait between reconnect attempts.' }),
    loop: Type.Boolean({ default: false, description: 'For a video file: start again at the end. A file that is not looped ends its camera.' }),
    deinterlace: Type.Boolean({
      default: false,
      description:
        "For an interlaced stream (analog encoders, 1080i; `facegate camera test` says which a camera sends): FFmpeg's bwdif rebuilds whole frames from its fields, so that a moving face does not show two fields' lines. Frames come one frame later; off for a progressive stream, where it would only add that delay.",
    }),
    sub_url: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "The camera's second, smaller stream (its sub stream, e.g. rtsp://user:password@host:554/Streaming/Channels/102), watched while the scene is quiet (idle_keyframes_after_s): every frame of it instead of the key frames of url, fitted to width×height, so that the first person after a quiet spell is seen at once, and url decoded again from its next key frame. Credentials are never logged. If it fails, the quiet scene is watched on url's key frames until something moves.",
      }),
    ),
    idle_keyframes_after_s: Type.Number({
      minimum: 0,
      maximum: 3600,
      default: 0,
      description:
        "After this long with no face and no motion, FFmpeg decodes only the stream's key frames (or the sub stream, where sub_url names one) until something moves, then every frame again from the next key frame: measured on quiet 1080p entrances, a camera on key frames costs FFmpeg under a third and the daemon almost nothing of what every frame does, and the first person after a quiet spell is seen up to two key-frame intervals later (docs/camera.md). 0: every frame, always. Not for a door's cameras or a file.",
    }),
  },
  { additionalProperties: false },
);
/** A camera as the config file gives it: `fps` may be left out. */
export type CameraConfigEntry = Static<typeof CameraConfigSchema>;
/** A camera as every stage gets it from the loaded config: its `fps` resolved (withCameraFps). */
export type CameraConfig = Omit<CameraConfigEntry, 'fps'> & { fps: number };

/**
 * Gives each camera that leaves `fps` out the rate the tracker asks for. Done once where the config
 * is loaded, because that rate comes from another section (track).
 */
export function withCameraFps(cameras: readonly CameraConfigEntry[], fps: number): CameraConfig[] {
  return cameras.map((camera) => ({ ...camera, fps: camera.fps ?? fps }));
}

export const LiveViewConfigSchema = Section(
  {
    enabled: Type.Boolean({ default: false, description: 'Serve an MJPEG live view of every camera for technicians, on 127.0.0.1 only.' }),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 8090, description: 'TCP port on 127.0.0.1 (reach it from elsewhere through ssh -L).' }),
    fps: Type.Number({ exclusiveMinimum: 0, maximum: 30, default: 5, description: 'Most frames a second sent to each viewer.' }),
    jpeg_quality: Type.Integer({ minimum: 10, maximum: 100, default: 70 }),
    max_clients: Type.Integer({ minimum: 1, maximum: 32, default: 4, description: 'Viewers beyond this are refused (503).' }),
  },
  'Live view for technicians (opt-in, localhost only).',
);
export type LiveViewConfig = Static<typeof LiveViewConfigSchema>;

/** Most cameras one door groups: a pair proves a face; more views only add pairs to choose from. */
export const MAX_DOOR_CAMERAS = 4;

export const DoorConfigSchema = Type.Object(
  {
    name: Type.String({ pattern: NAME_PATTERN, description: 'Unique name, as a camera\'s (it appears in events, topics and the console); not the name of a camera.' }),
    cameras: Type.Array(Type.String({ pattern: NAME_PATTERN }), {
      minItems: 2,
      maxItems: MAX_DOOR_CAMERAS,
      description: 'The configured cameras that view this entrance at once, by name; a camera belongs to at most one door.',
    }),
  },
  { additionalProperties: false },
);
export type DoorConfig = Static<typeof DoorConfigSchema>;

/** The door each camera belongs to, by the camera's name: undefined for a camera in no door. */
export function doorOfCamera(doors: readonly DoorConfig[]): (camera: string) => string | undefined {
  const doorOf = new Map(doors.flatMap((d) => d.cameras.map((camera) => [camera, d.name] as const)));
  return (camera) => doorOf.get(camera);
}

/** The camera stage's keys of the config, spread into daemon/config/schema.ts. */
export const CAMERA_CONFIG_SECTIONS = {
  cameras: Type.Array(CameraConfigSchema, { maxItems: 64, default: [], description: 'Cameras to ingest, each with its own FFmpeg process.' }),
  doors: Type.Array(DoorConfigSchema, {
    maxItems: 32,
    default: [],
    description: 'Entrances seen by two or more cameras at once. A face seen by two cameras of a door in the same moment is one person, and the two views prove a 3D face where a flat picture or a screen cannot pass (docs/track.md). A camera in no door keeps the single-camera cues.',
  }),
  live_view: LiveViewConfigSchema,
};

/** What a JSON schema cannot say: names are unique. Returned as config issues with their key paths. */
export function cameraConfigIssues(cameras: readonly CameraConfig[]): ConfigIssue[] {
  const firstIndex = new Map<string, number>();
  const issues: ConfigIssue[] = [];
  cameras.forEach((camera, i) => {
    const first = firstIndex.get(camera.name);
    if (first === undefined) firstIndex.set(camera.name, i);
    else issues.push({ path: `cameras.${i}.name`, message: `duplicate camera name "${camera.name}" (also cameras.${first}.name)` });
    // Switching its decoding starts FFmpeg again, and a file would play again from its start.
    if (camera.idle_keyframes_after_s > 0 && sourceKind(camera.url) === 'file') {
      issues.push({ path: `cameras.${i}.idle_keyframes_after_s`, message: `camera "${camera.name}" plays a file, which would start again from its beginning at each switch; expected 0, or a network camera` });
    }
    if (camera.sub_url !== undefined) {
      if (sourceKind(camera.sub_url) === 'file') issues.push({ path: `cameras.${i}.sub_url`, message: `camera "${camera.name}": sub_url names a file; expected the camera's second stream (rtsp://...)` });
      else if (camera.idle_keyframes_after_s === 0) issues.push({ path: `cameras.${i}.sub_url`, message: `camera "${camera.name}": the sub stream is watched only while the scene is quiet, and idle_keyframes_after_s is 0 (never quiet); set idle_keyframes_after_s (e.g. 10), or remove sub_url` });
    }
  });
  return issues;
}

/**
 * What a JSON schema cannot say of the doors: each names configured cameras, each camera once, a
 * camera in one door at most, and names unique among doors and cameras alike (a display and the
 * events address a door or a camera by one name).
 */
export function doorConfigIssues(doors: readonly DoorConfig[], cameras: readonly Pick<CameraConfig, 'name' | 'idle_keyframes_after_s'>[]): ConfigIssue[] {
  const cameraNames = new Set(cameras.map((c) => c.name));
  const doorOf = new Map<string, string>();
  const doorIndex = new Map<string, number>();
  const issues: ConfigIssue[] = [];
  doors.forEach((door, i) => {
    const first = doorIndex.get(door.name);
    if (first !== undefined) issues.push({ path: `doors.${i}.name`, message: `duplicate door name "${door.name}" (also doors.${first}.name)` });
    else doorIndex.set(door.name, i);
    if (cameraNames.has(door.name)) issues.push({ path: `doors.${i}.name`, message: `"${door.name}" is also a camera's name; expected a name of its own, e.g. "${door.name}-door"` });
    door.cameras.forEach((camera, j) => {
      const path = `doors.${i}.cameras.${j}`;
      if (!cameraNames.has(camera)) issues.push({ path, message: `no camera named ${JSON.stringify(camera)} in cameras` });
      else if (door.cameras.indexOf(camera) !== j) issues.push({ path, message: `camera "${camera}" is named twice in door "${door.name}"; expected two different cameras` });
      else if (doorOf.has(camera)) issues.push({ path, message: `camera "${camera}" is already in door "${doorOf.get(camera)}"; a camera belongs to one door at most` });
      else doorOf.set(camera, door.name);
    });
  });
  // A door pairs its two cameras' looks frame by frame: one decoding key frames alone has none to pair.
  cameras.forEach((camera, i) => {
    const door = doorOf.get(camera.name);
    if (door !== undefined && camera.idle_keyframes_after_s > 0) {
      issues.push({ path: `cameras.${i}.idle_keyframes_after_s`, message: `camera "${camera.name}" is in door "${door}", whose two cameras pair their looks every frame; expected 0 (every frame, always)` });
    }
  });
  return issues;
}
