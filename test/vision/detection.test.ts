import '../support/offline-tier.js';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import sharp from 'sharp';
import { iou } from '../../daemon/vision/geometry.js';
import { decodeImageFile } from '../../daemon/vision/image.js';
import { MotionMask } from '../../daemon/vision/motion.js';
import type { Box, RgbImage } from '../../daemon/vision/types.js';
import { testAnalyzer } from '../support/analyzer.js';
import { media, mediaMissing } from '../support/media.js';

const IMAGE = /\.(jpe?g|png)$/i;

function csvRows(path: string): Record<string, string>[] {
  const [header, ...lines] = readFileSync(path, 'utf8').trim().split(/\r?\n/);
  const keys = header!.split(',');
  return lines.map((line) => Object.fromEntries(line.split(',').map((v, i) => [keys[i], v])));
}

test('every identity photo has its face(s) found', { skip: mediaMissing('identities') }, async () => {
  const analyzer = await testAnalyzer();
  const expected = new Map<string, number>();
  for (const row of csvRows(media('identities/face_recognition/labels.csv'))) {
    // "3 (2 frontal)": a child looking down, whose face is not visible enough, is not required.
    const count = /\((\d+) frontal\)/.exec(row.n_faces!)?.[1] ?? row.n_faces!;
    expected.set(`face_recognition/${row.file}`, Number(count));
  }
  expected.set('deepface/couple.jpg', 2);
  const missed: string[] = [];
  let images = 0;
  for (const set of ['deepface', 'face_recognition']) {
    for (const file of readdirSync(media(`identities/${set}`)).filter((f) => IMAGE.test(f))) {
      const faces = await analyzer.analyze(await decodeImageFile(media(`identities/${set}/${file}`)));
      const want = expected.get(`${set}/${file}`) ?? 1;
      images++;
      if (faces.length < want) missed.push(`${set}/${file}: ${faces.length} of ${want}`);
    }
  }
  console.log(`identity photos: ${images} images, faces missed in ${missed.length}`);
  assert.deepEqual(missed, []);
});

test('photos without a human face give none (a blank page, four dogs)', { skip: mediaMissing('detector_edge/no_face') }, async () => {
  const analyzer = await testAnalyzer();
  for (const file of readdirSync(media('detector_edge/no_face')).filter((f) => IMAGE.test(f))) {
    const faces = await analyzer.analyze(await decodeImageFile(media(`detector_edge/no_face/${file}`)));
    assert.equal(faces.length, 0, `${file}: ${faces.length} faces`);
  }
});

test('EXIF-rotated stills are decoded upright and their face found upright', { skip: mediaMissing('spoof') }, async () => {
  const analyzer = await testAnalyzer();
  for (const file of ['silentface_image_T1_real.jpg', 'silentface_image_F1_print_attack.jpg', 'silentface_image_F2_screen_attack.jpg']) {
    const img = await decodeImageFile(media(`spoof/${file}`));
    assert.deepEqual([img.width, img.height], [480, 640], `${file} is stored 640×480 with Orientation=6`);
    const [face] = await analyzer.analyze(img);
    assert.ok(face, `${file}: face found`);
    assert.ok(Math.abs(face.quality.roll) < 30, `${file}: roll ${face.quality.roll.toFixed(0)}° (upright)`);
    const [rightEye, , nose, , leftMouth] = face.landmarks5;
    assert.ok(rightEye.y < nose.y && nose.y < leftMouth.y, `${file}: eyes above nose above mouth`);
  }
});

function dlibBoxes(xml: string): Map<string, Box[]> {
  const images = new Map<string, Box[]>();
  for (const m of xml.matchAll(/<image file='([^']+)'[^>]*>([\s\S]*?)<\/image>/g)) {
    const boxes = [...m[2]!.matchAll(/<box top='(-?\d+)' left='(-?\d+)' width='(\d+)' height='(\d+)'/g)].map((b) => ({
      x: Number(b[2]), y: Number(b[1]), w: Number(b[3]), h: Number(b[4]),
    }));
    images.set(m[1]!, boxes);
  }
  return images;
}

test('annotated boxes: recall ≥ 95% at IoU ≥ 0.4, false positives counted', { skip: mediaMissing('detector_edge/annotated_boxes') }, async () => {
  const analyzer = await testAnalyzer();
  let truths = 0, found = 0, falsePositives = 0;
  for (const xmlFile of ['training.xml', 'testing.xml']) {
    const truth = dlibBoxes(readFileSync(media(`detector_edge/annotated_boxes/${xmlFile}`), 'utf8'));
    for (const [file, boxes] of truth) {
      const faces = await analyzer.analyze(await decodeImageFile(media(`detector_edge/annotated_boxes/${file}`)));
      const matched = new Set<number>();
      for (const gt of boxes) {
        // dlib's boxes are tight squares; ours run from brow to chin: match on the best IoU.
        let best = -1, bestIou = 0.4;
        faces.forEach((f, i) => {
          const v = iou(gt, f.detection.box);
          if (!matched.has(i) && v >= bestIou) { best = i; bestIou = v; }
        });
        if (best >= 0) { matched.add(best); found++; }
      }
      truths += boxes.length;
      falsePositives += faces.length - matched.size;
    }
  }
  const recall = found / truths;
  console.log(`annotated boxes: ${found}/${truths} found (recall ${(100 * recall).toFixed(1)}%), ${falsePositives} detections without a ground-truth box`);
  assert.ok(recall >= 0.95, `recall ${recall}`);
});

/** Faces cut from the identity photos, shrunk so that the detected face is `height` px tall. */
async function shrunkFaces(height: number): Promise<{ img: RgbImage; face: Box }[]> {
  const analyzer = await testAnalyzer();
  const out: { img: RgbImage; face: Box }[] = [];
  const files = readdirSync(media('identities/deepface')).filter((f) => /^img\d+\.jpg$/.test(f));
  for (const file of files) {
    const photo = await decodeImageFile(media(`identities/deepface/${file}`));
    const [face] = await analyzer.analyze(photo);
    if (!face) continue;
    const b = face.detection.box;
    const side = Math.round(b.h * 1.6);
    const left = Math.max(0, Math.round(b.x + b.w / 2 - side / 2));
    const top = Math.max(0, Math.round(b.y + b.h / 2 - side / 2));
    const w = Math.min(side, photo.width - left), h = Math.min(side, photo.height - top);
    const k = height / b.h;
    const outW = Math.max(1, Math.round(w * k)), outH = Math.max(1, Math.round(h * k));
    const { data } = await sharp(photo.data, { raw: { width: photo.width, height: photo.height, channels: 3 } })
      .extract({ left, top, width: w, height: h })
      .resize(outW, outH, { kernel: 'lanczos3' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    out.push({
      img: { width: outW, height: outH, data: new Uint8Array(data) },
      face: { x: (b.x - left) * k, y: (b.y - top) * k, w: b.w * k, h: b.h * k },
    });
  }
  return out;
}

test('tiled detection finds ≥ 90% of 40 px faces pasted into 1920×1080 frames, also gated by motion as a camera runs it', { skip: mediaMissing('identities/deepface') }, async () => {
  const analyzer = await testAnalyzer();
  const faces = await shrunkFaces(40);
  const W = 1920, H = 1080, perFrame = 24;
  let placed = 0, found = 0, fullFound = 0, gatedFound = 0;
  for (let start = 0; start < faces.length; start += perFrame) {
    const frame = { width: W, height: H, data: new Uint8Array(W * H * 3).fill(96) };
    // The empty scene first, then the faces arrive: detection runs only where the picture moved.
    const mask = new MotionMask();
    mask.update({ width: W, height: H, data: new Uint8Array(W * H * 3).fill(96) });
    const truths: Box[] = [];
    faces.slice(start, start + perFrame).forEach(({ img, face }, i) => {
      // A 6×4 grid with a deterministic jitter, so faces also fall across tile borders.
      const cx = 40 + (i % 6) * 310 + ((i * 97) % 150), cy = 40 + Math.floor(i / 6) * 255 + ((i * 53) % 120);
      for (let y = 0; y < img.height && cy + y < H; y++) {
        frame.data.set(img.data.subarray(y * img.width * 3, (y * img.width + Math.min(img.width, W - cx)) * 3), ((cy + y) * W + cx) * 3);
      }
      truths.push({ x: cx + face.x, y: cy + face.y, w: face.w, h: face.h });
    });
    const tiled = await analyzer.detect(frame, 'tiled');
    const full = await analyzer.detect(frame, 'full');
    const gated = await analyzer.detect(frame, 'tiled', mask.update(frame).map((b) => ({ kind: 'arrival' as const, ...b })));
    placed += truths.length;
    gatedFound += truths.filter((t) => gated.some((d) => iou(t, d.box) >= 0.3)).length;
    found += truths.filter((t) => tiled.some((d) => iou(t, d.box) >= 0.3)).length;
    fullFound += truths.filter((t) => full.some((d) => iou(t, d.box) >= 0.3)).length;
  }
  console.log(`40 px faces in 1080p: tiled found ${found}/${placed}, gated by motion ${gatedFound}/${placed}, one full-frame pass ${fullFound}/${placed}`);
  assert.ok(found / placed >= 0.9, `${found}/${placed}`);
  assert.ok(gatedFound / placed >= 0.9, `gated: ${gatedFound}/${placed}`);
});
