// What `facegate status` and `facegate cameras` print of each camera: every number with what it is,
// and a line of what to do only when something needs doing.
import '../support/fast-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CameraHealth } from '../../daemon/camera/health.js';
import { CAMERA_LINES_KEY, cameraLine } from '../../daemon/cli/ops-commands/control.js';
import { statusLine } from '../../daemon/service/status.js';

const health: CameraHealth = {
  camera: 'door', source: 'rtsp://cam/stream', state: 'streaming', decoding: 'all', fps_in: 15, fps_asked: 15, fps_source: 25, fps_processed: 12.2, frames_skipped: 1162, frames_unpooled: 0, frames_in: 1800,
  reconnects_last_hour: 0, stalls_last_hour: 0, reconnects_total: 0, stalls_total: 0, last_error: null, time_to_first_frame_ms: 400, attention: null,
};

test('a healthy camera: read of asked, what the camera sends, processed, skipped with why; one line, nothing flagged', () => {
  assert.equal(cameraLine(health), '  door             streaming  15.0 of 15 fps read, the camera sends 25, 12.2 processed, 1162 skipped (a newer frame was ready), 0 reconnects/h\n');
  assert.match(CAMERA_LINES_KEY, /skipped: frames replaced by a newer one before the pipeline took them, normal when frames come faster than the pipeline needs/);
  assert.match(CAMERA_LINES_KEY, /read: frames a second FFmpeg hands over, at most the camera's fps in the config/);
  assert.match(cameraLine({ ...health, decoding: 'keyframes', fps_in: 0.5, fps_source: null }), /0\.5 of 15 fps read \(key frames only: the scene is quiet\), /);
  assert.match(cameraLine({ ...health, decoding: 'sub_stream', fps_source: null }), /15\.0 of 15 fps read \(on the sub stream: the scene is quiet\), /);
});

test('a camera that needs something done: what and the next step on a line of its own, escaped', () => {
  const line = cameraLine({ ...health, fps_source: 5, attention: { message: 'the camera itself sends 5 fps\x1b[2J', hint: 'raise it' } });
  assert.equal(line.split('\n')[1], '    needs attention: the camera itself sends 5 fps\\u001b[2J — raise it');
});

test("the status summary says processed of its fps, and counts the cameras that need attention, pointing at 'facegate cameras'", () => {
  const parts = { outbox: { pending: 0 }, mqtt: { enabled: true, connected: true }, liveness: { alive: true, problems: [] } } as unknown as Parameters<typeof statusLine>[0];
  assert.equal(statusLine({ ...parts, cameras: [health, { ...health, camera: 'hall' }] }), '2/2 cameras streaming, 24.4 fps processed, outbox 0, mqtt connected');
  const slow = { ...health, camera: 'hall', attention: { message: 'm', hint: 'h' } };
  assert.equal(statusLine({ ...parts, cameras: [health, slow] }), '2/2 cameras streaming, 1 camera(s) need attention (facegate cameras), 24.4 fps processed, outbox 0, mqtt connected');
});
