// Four cameras at 5 fps 720p for 60 s through real FFmpeg, one pipeline slower than the cameras:
// frames keep coming, at most two wait, memory stays flat. (Long on purpose: a leak or a queue that grows shows only over a minute of frames.)
import '../support/paced-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeCamera } from '../support/fake-camera.js';
import { cameraConfig, realCamera, sleep, waitFor } from './helpers.js';

const SOAK_S = 60;

test(`4 cameras at 5 fps 720p for ${SOAK_S} s: frames processed, no queue growth, memory bounded`, { timeout: (SOAK_S + 60) * 1000 }, async () => {
  const server = await FakeCamera.start({ width: 1280, height: 720, fps: 5 });
  const cams = [0, 1, 2, 3].map((i) => realCamera(cameraConfig(`cam${i}`, server.url(), { width: 1280, height: 720, fps: 5 })).camera);
  const ac = new AbortController();
  // cam3's pipeline takes 350 ms a frame (slower than 5 fps): it must work at most two frames behind and drop the oldest.
  const workMs = [0, 0, 0, 350];
  const processed = [0, 0, 0, 0];
  const loops = cams.map(async (camera, i) => {
    for await (const frame of camera.frames(ac.signal)) {
      assert.equal(frame.image.data.length, (1280 * 720 * 3) / 2);
      processed[i] = (processed[i] ?? 0) + 1;
      if (workMs[i]) await sleep(workMs[i] as number);
    }
  });
  const memory: number[] = [];
  try {
    for (const c of cams) c.start();
    // Four x264 encoders in the fake camera start slowly on a loaded 2-core machine (20 s was seen to
    // run out under load); the soak itself starts counting once all four stream.
    await waitFor('all streaming', () => cams.every((c) => c.health().state === 'streaming'), 60_000).catch((e: Error) => {
      // Which camera did not come, and why: a slow encoder and a refused connection need different fixes.
      const states = cams.map((c, i) => `cam${i}: ${c.health().state} ${c.health().last_error?.message ?? ''}`.trim());
      throw new Error(`${e.message} (${states.join('; ')})`);
    });
    const startProcessed = [...processed];
    const startIn = cams.map((c) => c.health().frames_in);
    for (let t = 0; t < SOAK_S; t += 5) {
      await sleep(5_000);
      globalThis.gc?.();
      const m = process.memoryUsage();
      memory.push(m.heapUsed + m.arrayBuffers);
      for (const [i, c] of cams.entries()) {
        const h = c.health();
        // Every frame read was either taken by the pipeline, dropped, or is one of the two waiting.
        const waiting = h.frames_in - processed[i]! - h.frames_skipped;
        assert.ok(waiting >= 0 && waiting <= 2, `cam${i}: ${waiting} frames waiting`);
        assert.equal(h.state, 'streaming', `cam${i} at ${t + 5} s: ${h.state} ${h.last_error?.message ?? ''}`);
      }
    }
    const mb = (b: number) => Math.round(b / 1e6);
    const rows = cams.map((c, i) => {
      const h = c.health();
      return `cam${i}: in ${h.frames_in - startIn[i]!}, processed ${processed[i]! - startProcessed[i]!}, skipped ${h.frames_skipped}, fps in ${h.fps_in}, processed ${h.fps_processed}`;
    });
    console.log(`# ${rows.join('\n# ')}\n# heap+buffers every 5 s (MB): ${memory.map(mb).join(' ')}`);
    for (let i = 0; i < 3; i++) assert.ok(processed[i]! - startProcessed[i]! >= SOAK_S * 5 * 0.9, `cam${i} processed ${processed[i]! - startProcessed[i]!}`);
    const slow = processed[3]! - startProcessed[3]!;
    assert.ok(slow >= SOAK_S * 2 && slow <= SOAK_S * 3.2, `slow pipeline processed ${slow}`);
    assert.ok(cams[3]!.health().frames_skipped >= SOAK_S * 1.5, 'the slow pipeline dropped frames and counted them');
    // Flat: the second half never exceeds the first half's peak by more than a few frames' worth.
    const half = Math.floor(memory.length / 2);
    const firstPeak = Math.max(...memory.slice(0, half));
    const secondPeak = Math.max(...memory.slice(half));
    assert.ok(secondPeak < firstPeak + 40e6, `memory grew: ${mb(firstPeak)} → ${mb(secondPeak)} MB`);
    assert.ok(secondPeak < 400e6, `memory ${mb(secondPeak)} MB`);
  } finally {
    ac.abort();
    await Promise.all(cams.map((c) => c.stop()));
    await Promise.all(loops);
    await server.stop();
  }
});
