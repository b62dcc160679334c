// The 13 identities of ../shared/media/identities/deepface enrolled from one or two photos each,
// every other photo of them identified, through the real models and a real encrypted SQLite file.
import '../support/offline-tier.js';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { defaultConfig } from '../../daemon/config/load.js';
import { enrolFromBytes, REMOTE_PHOTO_MAX_SIDE, toTemplate, type EnrolCandidate } from '../../daemon/gallery/enrol.js';
import { Gallery } from '../../daemon/gallery/gallery.js';
import { createKeyFile } from '../../daemon/gallery/key-source.js';
import { loadSodium } from '../../daemon/gallery/sodium.js';
import { identifyFaces } from '../../daemon/cli/gallery-commands/identify.js';
import { FaceAnalyzer } from '../../daemon/vision/analyzer.js';
import { decodeImage, decodeImageFile } from '../../daemon/vision/image.js';
import sharp from 'sharp';
import { media, mediaMissing } from '../support/media.js';
import { fileBytes, floatBytes, keyOptions, leaks, memoryLogger, storePerson, tempDir, type TempDir } from './helpers.js';

const skip = mediaMissing('identities/deepface/labels.csv', 'identities/face_recognition/obama.jpg');
const config = defaultConfig();

interface Photo {
  file: string;
  name: string;
  id: string;
}

function deepfacePhotos(): Photo[] {
  return readFileSync(media('identities/deepface/labels.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split(','))
    .filter((c) => c[2] !== 'MULTI')
    .map((c) => ({ file: media(`identities/deepface/${c[0]}`), name: c[1]!, id: c[2]! }));
}

/** Map.groupBy is Node ≥ 21. */
function groupById(list: Photo[]): Map<string, Photo[]> {
  const out = new Map<string, Photo[]>();
  for (const p of list) out.set(p.id, [...(out.get(p.id) ?? []), p]);
  return out;
}

let analyzer: FaceAnalyzer;
let gallery: Gallery;
let d: TempDir;
const enrolledFiles = new Set<string>();
const enrolledVectors: Float32Array[] = [];
const personOf = new Map<string, string>(); // identity id → gallery person uuid
const photos = skip ? [] : deepfacePhotos();

before(async () => {
  if (skip) return;
  const sodium = await loadSodium();
  d = tempDir({ after: (fn) => after(fn) });
  createKeyFile(sodium, d.path('gallery.key'));
  analyzer = await FaceAnalyzer.create({ vision: config.vision, logger: memoryLogger().logger });
  gallery = await Gallery.open({ path: d.path('facegate.db'), keys: keyOptions(d.path('gallery.key')), logger: memoryLogger().logger, create: true });
  const byId = groupById(photos);
  for (const [id, list] of byId) {
    // One photo for people with two or three, two for the others; the rest are probes.
    const want = list.length >= 4 ? 2 : 1;
    const chosen: EnrolCandidate[] = [];
    for (const p of list) {
      if (chosen.length === want) break;
      const r = await enrolFromBytes(analyzer, readFileSync(p.file), p.file, config.gallery.enrol);
      if ('face' in r) {
        chosen.push(r);
        enrolledFiles.add(p.file);
      }
    }
    assert.equal(chosen.length, want, `${id}: not enough photos passed the gate`);
    for (const c of chosen) enrolledVectors.push(Float32Array.from(c.face.embedding));
    const { person } = storePerson(gallery, { name: list[0]!.name, externalId: id, group: 'celebrities' }, chosen.map(toTemplate));
    personOf.set(id, person.id);
  }
});

after(async () => {
  gallery?.close();
  await analyzer?.close();
});

async function identifyFile(file: string) {
  const faces = await analyzer.analyze(await decodeImageFile(file), { embed: true });
  return identifyFaces(gallery, faces, config.recognition, config.gallery.matcher);
}

test('every other photo of the 13 enrolled people is identified, with a margin', { skip }, async () => {
  assert.equal(personOf.size, 13);
  const probes = photos.filter((p) => !enrolledFiles.has(p.file));
  assert.ok(probes.length >= 30, `only ${probes.length} probes`);
  const wrong: string[] = [];
  for (const p of probes) {
    const [face] = await identifyFile(p.file);
    const ok = face?.decision === 'match' && face.person?.id === personOf.get(p.id) && face.person?.name === p.name && (face.margin ?? 0) >= config.recognition.margin;
    if (!ok) wrong.push(`${p.file}: ${JSON.stringify(face)}`);
  }
  assert.deepEqual(wrong, []);
});

test('people who were never enrolled are unknown', { skip }, async () => {
  for (const file of ['identities/face_recognition/obama.jpg', 'identities/face_recognition/biden.jpg']) {
    const [face] = await identifyFile(media(file));
    assert.equal(face?.decision, 'unknown', file);
    assert.equal(face?.person, null);
  }
});

test('a photo with an enrolled and a stranger: each face gets its own answer, largest first', { skip }, async () => {
  const faces = await identifyFile(media('identities/deepface/couple.jpg'));
  assert.equal(faces.length, 2);
  assert.ok(faces[0]!.box[3] >= faces[1]!.box[3]);
  const decisions = faces.map((f) => (f.decision === 'match' ? f.person?.name : f.decision)).sort();
  assert.deepEqual(decisions, ['Angelina Jolie', 'unknown']);
});

test('the database and its -wal hold no enrolled embedding and no name in plaintext', { skip }, () => {
  const bytes = fileBytes(d.path('facegate.db'));
  assert.equal(enrolledVectors.length, enrolledFiles.size);
  for (const v of enrolledVectors) assert.equal(leaks(bytes, floatBytes(v)), false, 'embedding bytes found in the file');
  for (const name of new Set(photos.map((p) => p.name))) {
    assert.equal(bytes.includes(Buffer.from(name)), false, `${name} found in the file`);
    assert.equal(bytes.includes(Buffer.from(name.split(' ')[1]!)), false, `${name} (surname) found in the file`);
  }
  for (const id of personOf.keys()) assert.equal(bytes.includes(Buffer.from(id)), false, `external id ${id} found`);
});

test('a large photo sent by a remote caller is decoded shrunk to the bounded side, and its person is still enrolled and identified', { skip }, async () => {
  const photo = photos.find((p) => enrolledFiles.has(p.file))!;
  // A 48-megapixel phone photo: the enrolled portrait scaled up to 8000 px on its long side.
  const big = await sharp(photo.file).resize({ width: 8000, height: 8000, fit: 'inside' }).jpeg({ quality: 90 }).toBuffer();
  const meta = await sharp(big).metadata();
  assert.equal(Math.max(meta.width!, meta.height!), 8000);
  const img = await decodeImage(big, 'big.jpg', { maxSide: REMOTE_PHOTO_MAX_SIDE });
  assert.equal(Math.max(img.width, img.height), REMOTE_PHOTO_MAX_SIDE);
  assert.equal(img.data.length, img.width * img.height * 3);
  const r = await enrolFromBytes(analyzer, big, 'big.jpg', config.gallery.enrol);
  assert.ok('face' in r, `refused: ${'reasons' in r ? JSON.stringify(r) : ''}`);
  const [face] = identifyFaces(gallery, await analyzer.analyze(img, { embed: true }), config.recognition, config.gallery.matcher);
  assert.equal(face?.person?.id, personOf.get(photo.id));
});
