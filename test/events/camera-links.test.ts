// A camera's outages from its state changes: one down and one back per outage, whatever the retries.
import '../support/fast-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CameraLinks } from '../../daemon/events/camera-links.js';
import type { CameraHealth, CameraState } from '../../daemon/camera/health.js';
import type { FailureKind } from '../../daemon/camera/ffmpeg-errors.js';

function health(state: CameraState, error?: { kind: FailureKind; message: string }, camera = 'gate'): CameraHealth {
  return {
    camera, source: 'rtsp://cam/stream', state, decoding: 'all', fps_in: 0, fps_asked: 15, fps_source: null, fps_processed: 0, frames_skipped: 0, frames_unpooled: 0, frames_in: 0,
    reconnects_last_hour: 0, stalls_last_hour: 0, reconnects_total: 0, stalls_total: 0,
    last_error: error ? { ...error, at_ms: 0 } : null, time_to_first_frame_ms: null, attention: null,
  };
}

const refused = { kind: 'refused' as const, message: 'connection refused: nothing listens at that host and port' };

test('a camera unreachable from the start: one camera_offline with its reason over many retries, one camera_online when it streams', () => {
  const links = new CameraLinks();
  assert.equal(links.next(health('connecting'), 0), undefined, 'a first try is not an outage');
  assert.deepEqual(links.next(health('backoff', refused), 1_000), {
    type: 'camera_offline',
    data: { camera: 'gate', state: 'backoff', reason: 'refused', message: refused.message },
  });
  for (let i = 0; i < 12; i++) {
    assert.equal(links.next(health('connecting', refused), 2_000 + i * 2_000), undefined, `retry ${i}: connecting`);
    assert.equal(links.next(health('backoff', refused), 3_000 + i * 2_000), undefined, `retry ${i}: backoff`);
  }
  assert.deepEqual(links.next(health('streaming', refused), 61_400), { type: 'camera_online', data: { camera: 'gate', reason: 'refused', down_s: 60 } });
  assert.equal(links.next(health('streaming'), 62_000), undefined);
});

test('a stall after streaming is one outage with reason stalled; a failure that needs a person says failed; each camera on its own', () => {
  const links = new CameraLinks();
  assert.equal(links.next(health('streaming'), 0), undefined, 'streaming from the start says nothing');
  const stalled = links.next(health('stalled', { kind: 'stalled', message: 'stalled: no new frame for 10 s' }), 10_000);
  assert.deepEqual(stalled?.data, { camera: 'gate', state: 'stalled', reason: 'stalled', message: 'stalled: no new frame for 10 s' });
  assert.equal(links.next(health('backoff', { kind: 'stalled', message: 'stalled' }), 10_100), undefined, 'the restart after the stall is the same outage');
  const other = links.next(health('failed', { kind: 'unauthorized', message: '401 unauthorized: wrong user or password in the URL' }, 'lobby'), 11_000);
  assert.deepEqual([other?.type, other?.data.state, other?.data.reason], ['camera_offline', 'failed', 'unauthorized']);
  assert.equal(links.next(health('streaming'), 20_000)?.type, 'camera_online');
});

test('a camera stopped while down (removed by a reload, the daemon stopping) is forgotten; the message is bounded', () => {
  const links = new CameraLinks();
  links.next(health('backoff', refused), 0);
  assert.equal(links.next(health('stopped', refused), 1_000), undefined, 'a stop is no event');
  assert.equal(links.next(health('streaming'), 2_000), undefined, 'nothing to come back from once stopped');
  const long = links.next(health('backoff', { kind: 'other', message: 'x'.repeat(5_000) }), 3_000);
  assert.equal((long?.data.message as string).length, 200);
});
