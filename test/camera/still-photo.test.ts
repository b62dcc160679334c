// The demo's camera without FFmpeg (daemon/demo/still-camera.ts) through the real camera stage: its
// frames reach the pipeline as FFmpeg's would, read into the camera's own frame buffers.
import '../support/fast-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FfmpegCamera } from '../../daemon/camera/camera.js';
import { createLogger } from '../../daemon/base/log.js';
import { yuv420Layout } from '../../daemon/base/yuv.js';
import { stillPhotoSpawn, type StillFrame } from '../../daemon/demo/still-camera.js';
import { cameraConfig } from './helpers.js';

test('a still photo in place of FFmpeg: the camera streams its frame at the rate, on its shared buffers, and stops it', { timeout: 10_000 }, async () => {
  const width = 8;
  const height = 4;
  const data = Uint8Array.from({ length: yuv420Layout(width, height).bytes }, (_, i) => i);
  const frame: StillFrame = { width, height, data };
  const lines: string[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (s: string) => void lines.push(s) } });
  const camera = new FfmpegCamera(cameraConfig('demo-cam', 'still:photo.jpg', { width, height, fps: 50 }), { logger, spawn: stillPhotoSpawn(frame, 50) });
  camera.start();
  const first = await camera.next();
  const second = await camera.next();
  assert.deepEqual([...first!.image.data], [...data]);
  assert.ok(first!.image.data.buffer instanceof SharedArrayBuffer, 'read into a pooled buffer, as FFmpeg frames are');
  assert.equal(second!.seq, first!.seq + 1);
  assert.equal(camera.health().state, 'streaming');
  await camera.stop();
  assert.equal(camera.health().state, 'stopped');
});
