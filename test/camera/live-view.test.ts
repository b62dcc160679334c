// The technicians' MJPEG live view, on a real camera stream from the fake RTSP server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import sharp from 'sharp';
import { LiveView } from '../../daemon/camera/live-view.js';
import { drawBoxes } from '../../daemon/camera/draw.js';
import { createLogger } from '../../daemon/base/log.js';
import { FakeCamera } from '../support/fake-camera.js';
import { cameraConfig, realCamera, waitFor } from './helpers.js';

function get(port: number, path: string, host = `127.0.0.1:${port}`, bytes = Infinity): Promise<{ status: number; type: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      const chunks: Buffer[] = [];
      let n = 0;
      const finish = () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body: Buffer.concat(chunks) });
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        n += c.length;
        if (n >= bytes) {
          req.destroy();
          finish();
        }
      });
      res.on('end', finish);
    });
    req.on('error', reject);
    req.end();
  });
}

test('drawBoxes outlines a box on a copy, clipped to the frame', () => {
  const img = { width: 10, height: 10, data: new Uint8Array(300) };
  const out = drawBoxes(img, [{ x: 2, y: 2, w: 5, h: 5 }, { x: 8, y: 8, w: 10, h: 10, color: [255, 0, 0] }], 1);
  const px = (x: number, y: number) => [...out.data.subarray((y * 10 + x) * 3, (y * 10 + x) * 3 + 3)];
  assert.deepEqual(px(2, 2), [0, 255, 0]);
  assert.deepEqual(px(4, 4), [0, 0, 0], 'inside stays');
  assert.deepEqual(px(9, 8), [255, 0, 0]);
  assert.ok(img.data.every((v) => v === 0), 'the frame itself is untouched');
});

test('live view: MJPEG and single JPEG on 127.0.0.1 with overlay boxes; foreign Host and extra viewers refused', async () => {
  const server = await FakeCamera.start({ width: 640, height: 360, fps: 5 });
  const { camera } = realCamera(cameraConfig('gate', server.url(), { width: 640, height: 360 }));
  const view = new LiveView(() => [camera], { enabled: true, port: 0, fps: 5, jpeg_quality: 80, max_clients: 1 }, createLogger({ level: 'silent' }));
  camera.start();
  const port = await view.start(0);
  try {
    await waitFor('a frame', () => camera.latest() !== undefined, 15_000);
    view.setOverlay('gate', [{ x: 100, y: 100, w: 200, h: 150 }]);
    const still = await get(port, '/cameras/gate.jpg');
    assert.equal(still.status, 200);
    assert.equal(still.type, 'image/jpeg');
    const { data, info } = await sharp(still.body).raw().toBuffer({ resolveWithObject: true });
    assert.equal(info.width, 640);
    const at = (x: number, y: number) => [...data.subarray((y * 640 + x) * 3, (y * 640 + x) * 3 + 3)];
    const [r, g, b] = at(200, 100);
    assert.ok((g ?? 0) > 200 && (r ?? 255) < 60 && (b ?? 255) < 60, `box edge is green: ${at(200, 100)}`);

    const mjpeg = await get(port, '/cameras/gate.mjpeg', undefined, 2 * 20_000);
    assert.equal(mjpeg.status, 200);
    assert.match(mjpeg.type, /^multipart\/x-mixed-replace; boundary=/);
    assert.ok(mjpeg.body.includes('content-type: image/jpeg'));
    assert.ok(mjpeg.body.includes(Buffer.from([0xff, 0xd8, 0xff])), 'a JPEG in the stream');

    // max_clients is 1: a second viewer is refused while the first watches.
    const first = request({ host: '127.0.0.1', port, path: '/cameras/gate.mjpeg' });
    const firstOpen = new Promise((r) => first.once('response', r));
    first.on('error', () => {});
    first.end();
    await firstOpen;
    assert.equal((await get(port, '/cameras/gate.mjpeg', undefined, 1)).status, 503);
    first.destroy();

    // A label is drawn as text whatever it holds: markup, quotes and control characters in a name.
    view.setOverlay('gate', [{ x: 100, y: 100, w: 200, h: 150, label: 'Eve <svg onload=x> & "q" \u0000\u001b end' }]);
    const labelled = await get(port, '/cameras/gate.jpg');
    assert.equal(labelled.status, 200);
    const drawn = await sharp(labelled.body).raw().toBuffer();
    let bright = 0;
    for (let y = 70; y < 98; y++) for (let x = 104; x < 300; x++) if (drawn[(y * 640 + x) * 3 + 1]! > 180) bright++;
    assert.ok(bright > 20, `the label's text is drawn above the box (${bright} bright pixels)`);

    assert.equal((await get(port, '/cameras/gate.jpg', 'evil.example:80')).status, 403);
    assert.equal((await get(port, '/cameras/nope.jpg')).status, 404);
    const index = await get(port, '/');
    assert.match(index.body.toString(), /gate: streaming/);
  } finally {
    await view.stop();
    await camera.stop();
    await server.stop();
  }
});

test('live view: a 1080p camera is sent at 1280×720, its boxes and labels where they are in the frame', async () => {
  const server = await FakeCamera.start({ width: 1920, height: 1080, fps: 5 });
  const { camera } = realCamera(cameraConfig('door', server.url(), { width: 1920, height: 1080 }));
  const view = new LiveView(() => [camera], { enabled: true, port: 0, fps: 5, jpeg_quality: 80, max_clients: 1 }, createLogger({ level: 'silent' }));
  camera.start();
  const port = await view.start(0);
  try {
    await waitFor('a frame', () => camera.latest() !== undefined, 20_000);
    view.setOverlay('door', [{ x: 600, y: 300, w: 300, h: 300, label: 'Anna 0.71' }]);
    const still = await get(port, '/cameras/door.jpg');
    assert.equal(still.status, 200);
    const { data, info } = await sharp(still.body).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height], [1280, 720]);
    // The box's top edge at y = 300 in the frame is at y = 200 in the picture, still green.
    const at = (x: number, y: number) => [...data.subarray((y * 1280 + x) * 3, (y * 1280 + x) * 3 + 3)];
    const [r, g, b] = at(500, 200);
    assert.ok((g ?? 0) > 180 && (r ?? 255) < 80 && (b ?? 255) < 80, `box edge is green: ${at(500, 200)}`);
  } finally {
    await view.stop();
    await camera.stop();
    await server.stop();
  }
});
