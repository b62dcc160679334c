// What makes a check-in (attendance.require, door_require, camera_require), checked where the
// config is read: each value one of the three, each name a configured camera or door, and stereo
// only where a second camera can prove it.
import '../support/fast-tier.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../daemon/base/config-types.js';
import { parseConfig } from '../../daemon/config/load.js';
import { semanticIssues } from '../../daemon/config/validate.js';
import { challengeCameras, requirementOf } from '../../daemon/attendance/requirement.js';

const SITE = ['cameras:', '  - { name: front-left, url: rtsp://127.0.0.1/a }', '  - { name: front-right, url: rtsp://127.0.0.1/b }', '  - { name: lobby, url: rtsp://127.0.0.1/c }', 'doors:', '  - { name: front, cameras: [front-left, front-right] }'].join('\n');
const config = (attendance: string) => parseConfig(`${SITE}\nattendance:\n${attendance}\n`, 'site.yaml');
const issues = (attendance: string) => semanticIssues(config(attendance)).map((i) => [i.path, i.message]);

test("live by default, today's rule; a camera's own requirement over its door's over the site's", () => {
  const plain = config('  time_zone: UTC');
  assert.equal(plain.attendance.require, 'live');
  assert.deepEqual(semanticIssues(plain), []);
  const c = config('  require: recognised\n  door_require: { front: stereo }\n  camera_require: { front-right: live }');
  assert.deepEqual(semanticIssues(c), []);
  const requireOf = requirementOf(c.attendance, c.doors);
  assert.deepEqual(['front-left', 'front-right', 'lobby', 'not-configured'].map(requireOf), ['stereo', 'live', 'recognised', 'recognised']);
});

test('a value that is no requirement is refused by the schema, coded, naming the key and the values allowed', () => {
  for (const [attendance, path] of [
    ['  require: reviewed', 'attendance.require'],
    ['  require: LIVE', 'attendance.require'],
    ['  require: [live]', 'attendance.require'],
    ['  camera_require: { lobby: proven }', 'attendance.camera_require.lobby'],
    ['  door_require: { front: 2 }', 'attendance.door_require.front'],
  ] as const) {
    assert.throws(
      () => config(attendance),
      (e: unknown) => e instanceof ConfigError && e.code === 'FG_ERR_CONFIG' && e.issues.some((i) => i.path === path && i.message.startsWith('expected one of "stereo", "live", "recognised"')),
      attendance,
    );
  }
});

test('a requirement for a camera or door that is not configured, or stereo where no door is, is named with its key and the fix', () => {
  assert.deepEqual(issues('  camera_require: { ghost: live }\n  door_require: { back: stereo }'), [
    ['attendance.camera_require.ghost', 'no camera named "ghost" in cameras'],
    ['attendance.door_require.back', 'no door named "back" in doors'],
  ]);
  assert.deepEqual(issues('  camera_require: { lobby: stereo }'), [
    ['attendance.camera_require.lobby', 'camera "lobby" is in no door, so no second camera can prove a face stereo there and nobody would check in; put it in a door (doors:), or require live for it (attendance.camera_require.lobby: live)'],
  ]);
  // Site-wide stereo: the door's cameras can meet it; the lobby cannot, unless it asks for less.
  assert.deepEqual(issues('  require: stereo').map(([path]) => path), ['attendance.require']);
  assert.deepEqual(issues('  require: stereo\n  camera_require: { lobby: live }'), []);
});

test('the cameras asked for a movement: a live requirement with no second camera of a door; none with attendance off', () => {
  const doors = [
    { name: 'front', cameras: ['a', 'b'] },
    { name: 'side', cameras: ['s'] },
  ] as Parameters<typeof challengeCameras>[2];
  const cameras = ['a', 'b', 's', 'hall', 'lab'].map((name) => ({ name }));
  const base = { enabled: true, require: 'live' as const, door_require: {}, camera_require: { lab: 'recognised' as const } };
  assert.deepEqual([...challengeCameras(base, cameras, doors)].sort(), ['hall', 's'], 'the paired door proves stereo; lab asks nothing');
  assert.deepEqual([...challengeCameras({ ...base, door_require: { front: 'live' as const } }, cameras, doors)].sort(), ['hall', 's'], 'a paired door under live still has its second camera');
  assert.deepEqual([...challengeCameras({ ...base, require: 'stereo' as const, camera_require: { hall: 'live' as const } }, cameras, doors)], ['hall']);
  assert.deepEqual([...challengeCameras({ ...base, enabled: false }, cameras, doors)], []);
});
