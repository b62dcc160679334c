// Doors: the cameras that view one entrance, checked where the config is parsed.
import '../support/fast-tier.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../daemon/base/config-types.js';
import { parseConfig } from '../../daemon/config/load.js';
import { semanticIssues } from '../../daemon/config/validate.js';

const CAMERAS = ['cameras:', '  - { name: front-left, url: rtsp://127.0.0.1/a }', '  - { name: front-right, url: rtsp://127.0.0.1/b }', '  - { name: exit, url: rtsp://127.0.0.1/c }'].join('\n');
const doorIssues = (doors: string) => semanticIssues(parseConfig(`${CAMERAS}\ndoors:\n${doors}\n`, 'site.yaml')).filter((i) => i.path.startsWith('doors'));

test('a door of two configured cameras is valid; no doors is the default', () => {
  const config = parseConfig(`${CAMERAS}\ndoors:\n  - { name: front, cameras: [front-left, front-right] }\n`, 'site.yaml');
  assert.deepEqual(config.doors, [{ name: 'front', cameras: ['front-left', 'front-right'] }]);
  assert.deepEqual(semanticIssues(config), []);
  assert.deepEqual(parseConfig(CAMERAS, 'site.yaml').doors, []);
});

test('every mistake in the doors is named with its key path and what is expected', () => {
  assert.deepEqual(
    doorIssues(['  - { name: front, cameras: [front-left, ghost] }', '  - { name: front, cameras: [front-left, front-right] }', '  - { name: exit, cameras: [front-right, front-right] }'].join('\n')).map((i) => [i.path, i.message]),
    [
      ['doors.0.cameras.1', 'no camera named "ghost" in cameras'],
      ['doors.1.name', 'duplicate door name "front" (also doors.0.name)'],
      ['doors.1.cameras.0', 'camera "front-left" is already in door "front"; a camera belongs to one door at most'],
      ['doors.2.name', '"exit" is also a camera\'s name; expected a name of its own, e.g. "exit-door"'],
      ['doors.2.cameras.0', 'camera "front-right" is already in door "front"; a camera belongs to one door at most'],
      ['doors.2.cameras.1', 'camera "front-right" is named twice in door "exit"; expected two different cameras'],
    ],
  );
  assert.match(doorIssues('  - { name: alerts, cameras: [front-left, front-right] }')[0]!.message, /"alerts" is reserved/);
});

test("a door's camera decoding key frames alone when quiet is refused: the door pairs its looks frame by frame", () => {
  const cameras = ['cameras:', '  - { name: front-left, url: rtsp://127.0.0.1/a, idle_keyframes_after_s: 30 }', '  - { name: front-right, url: rtsp://127.0.0.1/b }', '  - { name: exit, url: rtsp://127.0.0.1/c, idle_keyframes_after_s: 30 }'].join('\n');
  const issues = semanticIssues(parseConfig(`${cameras}\ndoors:\n  - { name: front, cameras: [front-left, front-right] }\n`, 'site.yaml'));
  assert.deepEqual(
    issues.map((i) => [i.path, i.message]),
    [['cameras.0.idle_keyframes_after_s', 'camera "front-left" is in door "front", whose two cameras pair their looks every frame; expected 0 (every frame, always)']],
  );
});

test('a door of one camera, or of a name no topic can carry, is refused by the schema', () => {
  for (const [doors, path] of [
    ['  - { name: front, cameras: [front-left] }', 'doors.0.cameras'],
    ['  - { name: "Front Door", cameras: [front-left, front-right] }', 'doors.0.name'],
    ['  - { name: front, cameras: [front-left, front-right], angle: 30 }', 'doors.0'],
  ] as const) {
    assert.throws(
      () => parseConfig(`${CAMERAS}\ndoors:\n${doors}\n`, 'site.yaml'),
      (e: unknown) => e instanceof ConfigError && e.issues.some((i) => i.path.startsWith(path)),
      doors,
    );
  }
});
