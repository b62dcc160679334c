import type { CameraConfig, DoorConfig } from '../camera/config.js';

/**
 * What a display can be bound to: a door (its cameras together) or a camera in no door. The config
 * keeps door and camera names apart (doorConfigIssues), so one name names one target.
 */
export interface DisplayTargets {
  /** Every target's name: the doors, then the cameras in no door, in config order. */
  readonly names: readonly string[];
  /** The target a camera's faces are shown on. */
  targetOf(camera: string): string | undefined;
  /** The cameras a target shows. */
  camerasOf(target: string): readonly string[];
}

export function displayTargets(cameras: readonly Pick<CameraConfig, 'name'>[], doors: readonly DoorConfig[]): DisplayTargets {
  const known = new Set(cameras.map((c) => c.name));
  const byCamera = new Map<string, string>();
  const byTarget = new Map<string, string[]>();
  for (const door of doors) {
    const own = door.cameras.filter((c) => known.has(c) && !byCamera.has(c));
    for (const c of own) byCamera.set(c, door.name);
    byTarget.set(door.name, own);
  }
  for (const { name } of cameras) {
    if (byCamera.has(name) || byTarget.has(name)) continue;
    byCamera.set(name, name);
    byTarget.set(name, [name]);
  }
  const names = [...byTarget.keys()];
  return { names, targetOf: (camera) => byCamera.get(camera), camerasOf: (target) => byTarget.get(target) ?? [] };
}
