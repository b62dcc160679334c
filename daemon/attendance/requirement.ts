import { ASSURANCE_STRENGTH, type Assurance } from '../../contract/assurance.js';
import { doorOfCamera, type DoorConfig } from '../camera/config.js';
import type { ConfigIssue } from '../base/config-types.js';
import type { AttendanceConfig, Requirement } from './config.js';
import type { ChallengeSettings } from '../track/challenge.js';
import type { TrackConfig } from '../track/config.js';

/** Whether a sighting proven by `assurance` may become a check-in or check-out where `required` holds. */
export function meetsRequirement(assurance: Assurance, required: Requirement): boolean {
  return ASSURANCE_STRENGTH[assurance] >= ASSURANCE_STRENGTH[required];
}

/**
 * Each camera's requirement: its own (`camera_require`), else its door's (`door_require`), else the
 * site's (`require`). The most particular setting wins, since it was written for that place.
 */
export function requirementOf(c: Pick<AttendanceConfig, 'require' | 'camera_require' | 'door_require'>, doors: readonly DoorConfig[]): (camera: string) => Requirement {
  const doorOf = doorOfCamera(doors);
  return (camera) => {
    if (Object.hasOwn(c.camera_require, camera)) return c.camera_require[camera]!;
    const door = doorOf(camera);
    if (door !== undefined && Object.hasOwn(c.door_require, door)) return c.door_require[door]!;
    return c.require;
  };
}

/**
 * The cameras where a door display asks for a movement (liveness.challenge): those whose
 * requirement is `live`, which their own cues must prove, with no second camera of a door to prove
 * a face by stereo. Attendance off asks nothing: no check-in waits on it.
 */
export function challengeCameras(c: Pick<AttendanceConfig, 'enabled' | 'require' | 'camera_require' | 'door_require'>, cameras: readonly { name: string }[], doors: readonly DoorConfig[]): Set<string> {
  if (!c.enabled) return new Set();
  const requireOf = requirementOf(c, doors);
  const paired = new Set(doors.filter((d) => d.cameras.length > 1).flatMap((d) => d.cameras));
  return new Set(cameras.map((cam) => cam.name).filter((name) => requireOf(name) === 'live' && !paired.has(name)));
}

/** What `challengeAt` reads of the config. */
export interface ChallengeInputs {
  attendance: Pick<AttendanceConfig, 'enabled' | 'require' | 'camera_require' | 'door_require'>;
  cameras: readonly { name: string }[];
  doors: readonly DoorConfig[];
  track: { liveness: Pick<TrackConfig['liveness'], 'challenge' | 'policy'> };
}

/**
 * Whether a camera's tracks are asked for a movement now (liveness.challenge): under the fused
 * policy, where its answer is weighed, at a camera attendance requires `live` of with no second
 * camera. The cameras are worked out once per config object (a reload replaces it).
 */
export function challengeAt(): (config: ChallengeInputs, camera: string) => ChallengeSettings | undefined {
  let last: { config: ChallengeInputs; cameras: Set<string> } | undefined;
  return (config, camera) => {
    const { challenge, policy } = config.track.liveness;
    if (!challenge.enabled || (policy !== 'fused' && policy !== 'both')) return undefined;
    if (last?.config !== config) last = { config, cameras: challengeCameras(config.attendance, config.cameras, config.doors) };
    return last.cameras.has(camera) ? { afterS: challenge.after_s, rounds: challenge.rounds } : undefined;
  };
}

/**
 * What the schema cannot say of the requirements: each names a configured camera or door, and
 * `stereo` holds only where a second camera can prove it. A camera in no door never has a face
 * proven by two cameras, so a `stereo` requirement there would check nobody in, silently: refused
 * at the key that set it.
 */
export function requirementIssues(c: Pick<AttendanceConfig, 'require' | 'camera_require' | 'door_require'>, cameras: readonly { name: string }[], doors: readonly DoorConfig[]): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const cameraNames = new Set(cameras.map((cam) => cam.name));
  const doorNames = new Set(doors.map((d) => d.name));
  const inDoor = new Set(doors.flatMap((d) => d.cameras));
  for (const name of Object.keys(c.camera_require)) {
    if (!cameraNames.has(name)) issues.push({ path: `attendance.camera_require.${name}`, message: `no camera named ${JSON.stringify(name)} in cameras` });
  }
  for (const name of Object.keys(c.door_require)) {
    if (!doorNames.has(name)) issues.push({ path: `attendance.door_require.${name}`, message: `no door named ${JSON.stringify(name)} in doors` });
  }
  const requireOf = requirementOf(c, doors);
  for (const { name } of cameras) {
    if (requireOf(name) !== 'stereo' || inDoor.has(name)) continue;
    const path = Object.hasOwn(c.camera_require, name) ? `attendance.camera_require.${name}` : 'attendance.require';
    issues.push({ path, message: `camera ${JSON.stringify(name)} is in no door, so no second camera can prove a face stereo there and nobody would check in; put it in a door (doors:), or require live for it (attendance.camera_require.${name}: live)` });
  }
  return issues;
}
