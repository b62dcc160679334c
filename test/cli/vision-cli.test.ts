import '../support/cli-tier.js';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { defaultModelDir } from '../../daemon/vision/model-files.js';
import { runCli } from '../support/cli.js';
import { media, mediaMissing } from '../support/media.js';

const OBAMA = 'identities/face_recognition/obama.jpg';
const TWO = 'identities/face_recognition/two_people_obama_biden.jpg';
const BLANK = 'detector_edge/no_face/juan_none_blank.jpg';

test('embed: NDJSON, one line per image, faces largest first, 512 unit-length numbers; no face gives []', { skip: mediaMissing(TWO, BLANK) }, async () => {
  const r = await runCli(['embed', media(TWO), media(BLANK), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 2);
  assert.equal(lines[0].file, media(TWO));
  const faces = lines[0].faces as { box: number[]; score: number; landmarks5: number[][]; embedding: number[] }[];
  assert.equal(faces.length, 2);
  const area = (b: number[]) => b[2]! * b[3]!;
  assert.ok(area(faces[0]!.box) >= area(faces[1]!.box), 'largest first');
  for (const f of faces) {
    assert.equal(f.box.length, 4);
    assert.equal(f.landmarks5.length, 5);
    assert.equal(f.embedding.length, 512);
    const norm = Math.sqrt(f.embedding.reduce((s, v) => s + v * v, 0));
    assert.ok(Math.abs(norm - 1) < 1e-3, `unit length, got ${norm}`);
  }
  assert.deepEqual(lines[1], { file: media(BLANK), faces: [] });
});

test('analyze --json: box, score, 5 landmarks, quality, eyes p_open and anti-spoof p_live per face', { skip: mediaMissing(OBAMA) }, async () => {
  const r = await runCli(['analyze', '--json', media(OBAMA)]);
  assert.equal(r.code, 0, r.stderr);
  const [face] = JSON.parse(r.stdout).faces;
  assert.deepEqual(Object.keys(face).sort(), ['antispoof', 'box', 'eyes', 'landmarks5', 'quality', 'score']);
  assert.deepEqual(Object.keys(face.quality).sort(), ['embedding_norm', 'eye_distance', 'face_height', 'pitch', 'roll', 'sharpness', 'yaw']);
  assert.ok(face.eyes.left.p_open > 0.5 && face.eyes.right.p_open > 0.5, 'eyes open in the portrait');
  assert.ok(face.antispoof.p_live > 0.5, 'a real photo of a person scores live');
  const human = await runCli(['analyze', media(OBAMA)]);
  assert.match(human.stdout, /1 face\n {2}face 1: box .* score 1\.00/);
});

test('compare: same person and different people at the configured threshold', { skip: mediaMissing(OBAMA, 'identities/face_recognition/obama2.jpg', 'identities/face_recognition/biden.jpg') }, async () => {
  const same = await runCli(['compare', '--json', media(OBAMA), media('identities/face_recognition/obama2.jpg')]);
  assert.equal(same.code, 0, same.stderr);
  const s = JSON.parse(same.stdout);
  assert.equal(s.same, true);
  assert.equal(s.threshold, 0.45);
  const different = await runCli(['compare', media(OBAMA), media('identities/face_recognition/biden.jpg')]);
  assert.equal(different.code, 0, different.stderr);
  assert.match(different.stdout, /^similarity -?0\.\d+: different people \(threshold 0\.45\)\n$/);
});

test('a missing file, a non-image and a corrupt image: one clear line each, the rest still processed, exit 1', { skip: mediaMissing(OBAMA) }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'facegate-cli-'));
  const notImage = join(dir, 'notes.jpg');
  writeFileSync(notImage, 'this is text, not a JPEG');
  const corrupt = join(dir, 'cut.jpg');
  copyFileSync(media(OBAMA), corrupt);
  truncateSync(corrupt, 2000);
  const r = await runCli(['embed', '--json', join(dir, 'nope.jpg'), notImage, corrupt, media(OBAMA)]);
  assert.equal(r.code, 1);
  const errors = r.stderr.trim().split('\n');
  assert.equal(errors.length, 3, r.stderr);
  assert.match(errors[0]!, /^FG_ERR_IMAGE_UNREADABLE: .*nope\.jpg: no such file/);
  assert.match(errors[1]!, /^FG_ERR_IMAGE_INVALID: .*notes\.jpg: not a readable image/);
  assert.match(errors[2]!, /^FG_ERR_IMAGE_INVALID: .*cut\.jpg: not a readable image/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(out.map((l) => l.file), [media(OBAMA)]);
  assert.equal(out[0].faces.length, 1);
});

test('compare: a photo without a face is an error naming it', { skip: mediaMissing(OBAMA, BLANK) }, async () => {
  const r = await runCli(['compare', media(OBAMA), media(BLANK)]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^FG_ERR_NO_FACE: .*juan_none_blank\.jpg: no face found/);
});

test('usage errors exit 2 and say what is expected', async () => {
  const none = await runCli(['embed']);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /FG_ERR_USAGE: no image given — usage: facegate embed IMAGE\.\.\./);
  const badFlag = await runCli(['analyze', '--frobnicate', 'x.jpg']);
  assert.equal(badFlag.code, 2);
  const unknown = await runCli(['frobnicate']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command 'frobnicate'/);
  const threshold = await runCli(['compare', 'a.jpg', 'b.jpg', '--threshold', 'high']);
  assert.equal(threshold.code, 2);
  assert.match(threshold.stderr, /--threshold must be a number/);
});

test('a missing or altered model stops the CLI with a message naming it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'facegate-models-'));
  for (const f of readdirSync(defaultModelDir())) copyFileSync(join(defaultModelDir(), f), join(dir, f));
  const config = join(dir, 'config.yaml');
  writeFileSync(config, `vision:\n  models_dir: ${dir}\n`);
  truncateSync(join(dir, 'fr_eye.onnx'), 1000);
  const altered = await runCli(['analyze', '--config', config, 'x.jpg']);
  assert.equal(altered.code, 1);
  assert.match(altered.stderr, /^FG_ERR_MODEL_HASH: model 'eyes' at .*fr_eye\.onnx has sha256 [0-9a-f]{64}, the manifest expects/);
  assert.match(altered.stderr, /npm ci/);
  writeFileSync(config, `vision:\n  models_dir: ${join(dir, 'empty')}\n`);
  const missing = await runCli(['analyze', '--config', config, 'x.jpg']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^FG_ERR_MODEL_MISSING: model 'detector' is missing: .*fr_detect\.onnx — run `npm run models`/);
});
