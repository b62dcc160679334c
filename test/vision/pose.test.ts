// Head pose from the 68 landmarks: yaw and pitch read apart, so a face looking down is not "turned".
import '../support/cli-tier.js';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeImageFile } from '../../daemon/vision/image.js';
import { headPose } from '../../daemon/vision/quality.js';
import type { Point } from '../../daemon/vision/types.js';
import { testAnalyzer } from '../support/analyzer.js';
import { media, mediaMissing } from '../support/media.js';

type P3 = [number, number, number];

/**
 * The points headPose reads, on a mean head (x to the subject's left, y up, z towards the camera;
 * nose tip at the origin), as in OpenCV's head-pose model, with the eyelids around each eye's
 * centre a little in front of its outer corner.
 */
const HEAD: Record<number, P3> = {
  30: [0, 0, 0],
  36: [-225, 170, -135],
  39: [-75, 170, -125],
  37: [-170, 185, -128],
  38: [-130, 185, -128],
  40: [-130, 155, -128],
  41: [-170, 155, -128],
  42: [75, 170, -125],
  45: [225, 170, -135],
  43: [130, 185, -128],
  44: [170, 185, -128],
  46: [170, 155, -128],
  47: [130, 155, -128],
  48: [-150, -150, -125],
  54: [150, -150, -125],
  8: [0, -330, -65],
};

/** The head turned by yaw (to the image right) and pitched by pitch (down), seen from afar: image points, y down. */
function seen(yawDeg: number, pitchDeg: number): Point[] {
  const [y, p] = [(yawDeg * Math.PI) / 180, (pitchDeg * Math.PI) / 180];
  const out: Point[] = Array.from({ length: 68 }, () => ({ x: 0, y: 0 }));
  for (const [i, [x0, y0, z0]] of Object.entries(HEAD)) {
    // Pitch down: the front of the face (z > 0) goes down. Then yaw: the front goes to the image right.
    const y1 = y0 * Math.cos(p) + z0 * Math.sin(p) * -1;
    const z1 = y0 * Math.sin(p) + z0 * Math.cos(p);
    const x2 = x0 * Math.cos(y) + z1 * Math.sin(y);
    out[Number(i)] = { x: 500 + x2, y: 500 - y1 };
  }
  return out;
}

test('headPose reads yaw and pitch apart on a mean head turned and pitched: a head looking down is not turned', () => {
  for (const yaw of [-40, -25, -10, 0, 10, 25, 40]) {
    for (const pitch of [-30, -15, 0, 15, 30, 45]) {
      const lm = seen(yaw, pitch);
      const pose = headPose(lm, lm);
      // headPose's head has its nose tip a little lower (the identity photos' median, 0.56 of the way
      // from the eyes to the mouth, against this head's 0.53): pitch reads a few degrees up of the truth.
      assert.ok(Math.abs(pose.yaw - yaw) <= 3, `yaw ${yaw} pitch ${pitch}: read yaw ${pose.yaw.toFixed(1)}`);
      assert.ok(Math.abs(pose.pitch - pitch) <= 8, `yaw ${yaw} pitch ${pitch}: read pitch ${pose.pitch.toFixed(1)}`);
    }
  }
  const down = headPose(seen(0, 45), seen(0, 45));
  assert.ok(Math.abs(down.yaw) < 1 && down.pitch > 35, JSON.stringify(down));
});

const PHOTOS = ['identities/deepface/img1.jpg', 'identities/deepface/img8.jpg', 'identities/deepface/img30.jpg', 'identities/face_recognition/obama.jpg', 'identities/face_recognition/biden.jpg'];

test('a face seen from above (an identity photo foreshortened and narrowed at the top, as a camera over a door sees it) reads the yaw of the photo itself', { skip: mediaMissing(...PHOTOS) }, async () => {
  const analyzer = await testAnalyzer();
  const dir = mkdtempSync(join(tmpdir(), 'fg-pose-'));
  try {
    for (const photo of PHOTOS) {
      const [flat] = await analyzer.analyze(await decodeImageFile(media(photo)), {});
      assert.ok(flat, photo);
      // 40° from above: heights × cos 40°, and the top of the picture a fifth narrower than its foot.
      const warped = join(dir, 'warped.png');
      const vf = 'scale=iw:trunc(ih*0.77/2)*2,perspective=x0=W*0.1:y0=0:x1=W*0.9:y1=0:x2=0:y2=H:x3=W:y3=H';
      assert.equal(spawnSync('ffmpeg', ['-v', 'error', '-y', '-i', media(photo), '-vf', vf, warped]).status, 0);
      const [face] = await analyzer.analyze(await decodeImageFile(warped), {});
      assert.ok(face, `${photo} warped`);
      console.log(`${photo}: yaw ${flat.quality.yaw.toFixed(1)} → ${face.quality.yaw.toFixed(1)}, pitch ${flat.quality.pitch.toFixed(1)} → ${face.quality.pitch.toFixed(1)}`);
      assert.ok(Math.abs(face.quality.yaw - flat.quality.yaw) <= 8, `${photo}: yaw ${flat.quality.yaw} → ${face.quality.yaw}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
