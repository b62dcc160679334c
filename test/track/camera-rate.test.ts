import '../support/fast-tier.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../../daemon/config/load.js';
import { configWarnings } from '../../daemon/config/validate.js';
import { cameraRateWarning, sourceRateWarning } from '../../daemon/track/camera-rate.js';

const site = (extra = '') => parseConfig(`cameras:\n  - { name: door, url: rtsp://127.0.0.1/a }\n${extra}`, 'site.yaml');

test('what a camera stream declares: below eye_fps is named; not declared, or an NTSC-style 14.99, is not', () => {
  const { cameras, track } = site();
  const door = cameras[0]!;
  assert.deepEqual(
    [5, 10, 14.99, 15, 25, null].map((fps) => sourceRateWarning(door, 0, fps, track)?.code),
    ['FG_WARN_CAMERA_SOURCE_FPS', 'FG_WARN_CAMERA_SOURCE_FPS', undefined, undefined, undefined, undefined],
  );
  assert.equal(sourceRateWarning(door, 0, 5, track)?.path, 'cameras.0.url');
  const passive = site('track: { liveness: { policy: passive } }\n');
  assert.equal(sourceRateWarning(passive.cameras[0]!, 0, 5, passive.track), undefined, 'no blink needed, no eye rate needed');
});

test('a configured fps below eye_fps is named only while liveness needs a blink', () => {
  const slow = site('track: { eye_fps: 12 }\n');
  assert.equal(cameraRateWarning({ ...slow.cameras[0]!, fps: 11.5 }, 3, slow.track)?.path, 'cameras.3.fps');
  assert.equal(cameraRateWarning({ ...slow.cameras[0]!, fps: 12 }, 3, slow.track), undefined);
  const blinkOnly = site('track: { liveness: { policy: blink } }\n');
  assert.match(cameraRateWarning({ ...blinkOnly.cameras[0]!, fps: 5 }, 0, blinkOnly.track)!.message, /policy 'blink' needs one/);
  const passive = site('track: { liveness: { policy: passive } }\n');
  assert.equal(cameraRateWarning({ ...passive.cameras[0]!, fps: 5 }, 0, passive.track), undefined);
});

test('track.eye_fps itself below 15 is named while liveness needs a blink, even when every camera follows it', () => {
  const low = site('track: { eye_fps: 5 }\n');
  assert.equal(cameraRateWarning(low.cameras[0]!, 0, low.track), undefined, 'the camera follows eye_fps: no camera warning');
  assert.deepEqual(configWarnings(low).map((w) => [w.code, w.path]), [['FG_WARN_EYE_FPS', 'track.eye_fps']]);
  assert.match(configWarnings(low)[0]!.message, /one look or none/);
  const ten = configWarnings(site('track: { eye_fps: 10 }\n'));
  assert.deepEqual(ten.map((w) => w.code), ['FG_WARN_EYE_FPS']);
  assert.match(ten[0]!.message, /a fifth of the blinks/);
  assert.deepEqual(configWarnings(site('track: { eye_fps: 15 }\n')), []);
  assert.deepEqual(configWarnings(site('track: { eye_fps: 5, liveness: { policy: passive } }\n')), []);
});
