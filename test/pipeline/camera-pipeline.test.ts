// What the pipeline tells its tracker about each frame: the frame's time, its capture time, and
// whether the camera's queue dropped frames just before it (frame numbers count every frame
// FFmpeg delivered, dropped ones included).
import '../support/fast-tier.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CameraSource } from '../../daemon/camera/camera.js';
import type { Frame } from '../../daemon/camera/frame.js';
import { CameraPipeline } from '../../daemon/pipeline/camera-pipeline.js';
import type { CameraTracker } from '../../daemon/track/camera-tracker.js';
import { quietLogger } from '../support/events-stack.js';

test('a frame that comes after frames the queue dropped is handed to the tracker as behind; the others are not', async () => {
  const seqs = [1, 2, 3, 5, 6, 9, 10];
  const frames = seqs.map((seq): Frame => ({ camera: 'door', image: { width: 4, height: 4, data: new Uint8Array(48) }, seq, monoMs: seq * 67, capturedMs: seq * 67 - 5, clock: 'arrival', pts: seq / 15 }) as Frame);
  const camera = {
    name: 'door',
    start: () => {},
    stop: async () => {},
    setQuiet: () => {},
    async *frames() {
      yield* frames;
    },
  } as unknown as CameraSource;
  const seen: { t: number; capturedMs?: number; behind?: boolean }[] = [];
  const tracker = {
    stats: { ms: { detect: 0, analyze: 0, follow: 0, decide: 0 } },
    activeTracks: [],
    lastActivityT: 0,
    process: async (_img: unknown, t: number, frame: { capturedMs?: number; behind?: boolean }) => {
      seen.push({ t, ...frame });
      return [];
    },
    finish: async () => [],
  } as unknown as CameraTracker;
  const pipeline = new CameraPipeline({ camera, tracker, onEvent: async () => {}, logger: quietLogger() });
  pipeline.start();
  await pipeline.stop();
  assert.deepEqual(seen.map((s) => s.behind), [false, false, false, true, false, true, false]);
  assert.deepEqual(seen.map((s) => s.capturedMs), frames.map((f) => f.capturedMs), "each frame's capture time");
});
