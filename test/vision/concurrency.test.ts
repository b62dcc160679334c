import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cosine } from '../../daemon/vision/embedder.js';
import { decodeImageFile } from '../../daemon/vision/image.js';
import type { Detection, FaceAnalysis } from '../../daemon/vision/types.js';
import { testAnalyzer } from '../support/analyzer.js';
import { media, mediaMissing } from '../support/media.js';

const A = 'identities/deepface/img1.jpg';
const B = 'identities/deepface/img20.jpg';

test('one analyzer shared by cameras: calls that overlap give what each gives alone', { skip: mediaMissing(A, B) }, async () => {
  // The daemon's camera pipelines share one analyzer and await its models in turn; a model's
  // input buffer written by one camera while another's run is still pending would mix their faces.
  const analyzer = await testAnalyzer();
  const images = await Promise.all([A, B].map((f) => decodeImageFile(media(f))));
  const detections: Detection[] = [];
  for (const img of images) detections.push((await analyzer.detect(img))[0]!);
  const options = { embed: true, eyes: true, antispoof: true };
  const alone: FaceAnalysis[] = [];
  for (const [i, img] of images.entries()) alone.push(await analyzer.analyzeFace(img, detections[i]!, options));
  const overlapping = await Promise.all(
    Array.from({ length: 12 }, (_, k) => k % 2).map((i) => analyzer.analyzeFace(images[i]!, detections[i]!, options).then((face) => ({ i, face }))),
  );
  for (const { i, face } of overlapping) {
    const expected = alone[i]!;
    assert.ok(cosine(face.embedding!, expected.embedding!) > 0.9999, `image ${i}: embedding of another face`);
    assert.deepEqual(face.landmarks5, expected.landmarks5);
    assert.equal(face.antispoof?.pLive, expected.antispoof?.pLive);
    assert.deepEqual(face.eyes, expected.eyes);
  }
  const overlappingDetect = await Promise.all([0, 1, 0, 1].map((i) => analyzer.detect(images[i]!)));
  overlappingDetect.forEach((found, k) => assert.deepEqual(found[0], detections[k % 2]));
});
