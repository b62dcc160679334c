import '../support/fast-tier.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { associate, sizeRatio } from '../../daemon/track/associate.js';
import { BestFrames, cropAround } from '../../daemon/track/best-frames.js';
import { boxFromLandmarks, landmarkShift, relateBox } from '../../daemon/track/follow.js';
import { frameVerdict, frameWeight } from '../../daemon/track/frame-quality.js';
import { EmbeddingFusion } from '../../daemon/track/fusion.js';
import { IdentityVote } from '../../daemon/track/identity.js';
import { followDrift } from '../../daemon/track/track.js';
import { MAX_SIGHTINGS, UnknownRegistry } from '../../daemon/track/unknowns.js';
import { decodeSightings, encodeSightings } from '../../daemon/track/unknown-store.js';
import fc from 'fast-check';
import { fuzzParameters } from '../support/fuzz.js';
import { parseShowinfoPts } from '../../daemon/camera/video-file.js';
import type { FaceQuality, Point } from '../../daemon/vision/types.js';
import { near, unitVector } from '../gallery/helpers.js';

const ada = { id: 'p1', name: 'Ada' };
const bob = { id: 'p2', name: 'Bob' };

const match = (person: typeof ada, score: number, margin: number) => ({ person, score, margin, near: false });
/** Matched nobody: clearly (below the threshold by the margin), or near it. */
const nobody = (score: number, near = false) => ({ person: null, score, margin: 0, near });

test('IdentityVote: named after M consecutive matches of the same person, never renamed', () => {
  const v = new IdentityVote(3);
  assert.equal(v.push(match(ada, 0.6, 0.3)), undefined);
  assert.equal(v.push(match(bob, 0.5, 0.1)), undefined); // streak restarts
  assert.equal(v.push(match(ada, 0.6, 0.3)), undefined);
  assert.equal(v.push(match(ada, 0.6, 0.3)), undefined);
  assert.deepEqual(v.push(match(ada, 0.7, 0.4)), { kind: 'recognized', person: ada, score: 0.7, margin: 0.4 });
  assert.equal(v.push(match(bob, 0.9, 0.5)), undefined);
  assert.equal(v.recognized?.person?.id, 'p1');
  assert.equal(v.decided, 'recognized');
});

test('IdentityVote: unknown after M consecutive good frames clearly matching nobody; still recognisable later', () => {
  const v = new IdentityVote(2);
  assert.equal(v.push(nobody(0.2)), undefined);
  assert.deepEqual(v.push(nobody(0.3)), { kind: 'unknown', score: 0.3 });
  assert.equal(v.push(nobody(0.3)), undefined); // said once
  v.push(match(ada, 0.5, 0.2));
  assert.equal(v.push(match(ada, 0.5, 0.2))?.kind, 'recognized');
});

test("IdentityVote: leaning while a person's streak is under way and not yet named; not once named, nor after a miss", () => {
  const v = new IdentityVote(3);
  assert.equal(v.leaning, false);
  v.push(match(ada, 0.6, 0.3));
  assert.equal(v.leaning, true, 'one match of three');
  v.push(nobody(0.2));
  assert.equal(v.leaning, false, 'a miss ends the streak');
  for (let i = 0; i < 3; i++) v.push(match(ada, 0.6, 0.3));
  assert.equal(v.decided, 'recognized');
  assert.equal(v.leaning, false, 'named: nothing left to decide');
});

test('IdentityVote: a score near the threshold keeps the track pending, however long, and restarts the count of clear misses', () => {
  const v = new IdentityVote(3);
  // An enrolled person's small face: just under the threshold on every frame.
  for (let i = 0; i < 20; i++) assert.equal(v.push(nobody(0.43, true)), undefined);
  assert.equal(v.decided, 'pending');
  assert.equal(v.undecided(), 'undecided after 20 good frames: score 0.43 too close to an enrolled person to call unknown');
  // Two clear misses, a near one, two clear: never three in a row.
  for (const near of [false, false, true, false, false]) assert.equal(v.push(nobody(0.39, near)), undefined);
  assert.equal(v.decided, 'pending');
  // A match in between restarts the count as well.
  v.push(match(ada, 0.46, 0.46));
  assert.equal(v.push(nobody(0.38)), undefined);
  assert.equal(v.push(nobody(0.38)), undefined);
  assert.deepEqual(v.push(nobody(0.37)), { kind: 'unknown', score: 0.37 });
  // Once unknown, a near score leaves it so (the alert is out), and a match still names the track.
  assert.equal(v.push(nobody(0.42, true)), undefined);
  assert.equal(v.decided, 'unknown');
  for (let i = 0; i < 2; i++) assert.equal(v.push(match(ada, 0.5, 0.5)), undefined);
  assert.equal(v.push(match(ada, 0.5, 0.5))?.kind, 'recognized');
});

test('IdentityVote: why a track ended undecided', () => {
  const v = new IdentityVote(3);
  v.push(nobody(0.1));
  assert.equal(v.undecided(), 'only 1 good frame(s), 3 needed');
  v.push(match(ada, 0.5, 0.5));
  v.push(nobody(0.2));
  assert.equal(v.undecided(), 'undecided after 3 good frames (score 0.2 around the threshold)');
  // A walker whose frames are usable but blurred: they may name a person, never make one unknown.
  const blurred = new IdentityVote(3, 5);
  for (let i = 0; i < 8; i++) blurred.blurredMiss();
  assert.equal(blurred.undecided(), 'only 0 good frame(s), 3 needed; 8 more matched nobody but were too blurred to call unknown');
});

test('EmbeddingFusion: quality-weighted mean, renormalised; noise averages out', () => {
  const person = unitVector(1);
  const f = new EmbeddingFusion();
  assert.equal(f.fused(), undefined);
  for (let i = 0; i < 8; i++) f.add(near(person, 100 + i, 0.5), 1);
  const fused = f.fused()!;
  let norm = 0;
  let cos = 0;
  for (let i = 0; i < fused.length; i++) {
    norm += fused[i]! * fused[i]!;
    cos += fused[i]! * person[i]!;
  }
  assert.ok(Math.abs(norm - 1) < 1e-5);
  assert.ok(cos > 0.8, `fused cosine ${cos} beats each frame's 0.5`);
  f.add(unitVector(2), 0); // weightless frames are ignored
  assert.equal(f.count, 8);
  assert.throws(() => f.add(new Float32Array(3), 1), RangeError);
});

test('frameVerdict: too small, too blurred and turned frames are not used; weight grows with size, sharpness, frontality', () => {
  const q = (over: Partial<FaceQuality>): FaceQuality => ({ faceHeight: 100, eyeDistance: 30, sharpness: 100, yaw: 0, pitch: 0, roll: 0, ...over });
  const rules = { min_face_px: 32, min_sharpness: 5, max_yaw: 45 };
  assert.deepEqual(frameVerdict(q({ faceHeight: 20 }), rules), { usable: false, reason: 'too_small', detail: 'face 20 px high, needs 32' });
  assert.equal(frameVerdict(q({ sharpness: 3 }), rules).usable, false);
  // Blurred above the floor: used, weighed down, and not decisive; sharp enough: decisive.
  const blurred = frameVerdict(q({ sharpness: 10 }), rules);
  assert.ok(blurred.usable && !blurred.decisive && blurred.weight < 0.3 * frameWeight(q({}), 5), JSON.stringify(blurred));
  const sharp = frameVerdict(q({ sharpness: 25 }), rules);
  assert.ok(sharp.usable && sharp.decisive && sharp.weight > blurred.weight);
  assert.equal(frameWeight(q({ sharpness: 35 }), 5), frameWeight(q({ sharpness: 500 }), 5));
  // Looking down 30°: still used, weighed by how frontal it is; only yaw refuses.
  const down = frameVerdict(q({ pitch: 30 }), rules);
  assert.ok(down.usable && down.weight > 0.8 * frameWeight(q({}), 5));
  assert.match(JSON.stringify(frameVerdict(q({ yaw: -60 }), rules)), /head turned \(yaw -60°/);
  assert.ok(frameWeight(q({ faceHeight: 40 })) < frameWeight(q({ faceHeight: 100 })));
  assert.ok(frameWeight(q({ sharpness: 20 })) < frameWeight(q({})));
  assert.ok(frameWeight(q({ yaw: 40 })) < frameWeight(q({})));
});

test('associate: by overlap first, by embedding for a face that jumped, never across very different sizes or faces', () => {
  const rules = { minIou: 0.3, minSimilarity: 0.3, splitSimilarity: 0.15 };
  const a = unitVector(1);
  const tracks = [
    { box: { x: 0, y: 0, w: 80, h: 100 }, embedding: a },
    { box: { x: 500, y: 0, w: 80, h: 100 } },
  ];
  const pairs = associate(tracks, [{ box: { x: 505, y: 2, w: 80, h: 100 } }, { box: { x: 3, y: 1, w: 80, h: 100 }, embedding: a }], rules);
  assert.deepEqual(pairs.sort(), [
    [0, 1],
    [1, 0],
  ]);
  // moved 1.2 heights: no overlap, same face → continued by embedding
  assert.deepEqual(associate([tracks[0]!], [{ box: { x: 120, y: 0, w: 80, h: 100 }, embedding: near(a, 5, 0.7) }], rules), [[0, 0]]);
  // same place, another face (a cut): a new track
  assert.deepEqual(associate([tracks[0]!], [{ box: { x: 2, y: 0, w: 80, h: 100 }, embedding: unitVector(9) }], rules), []);
  // a part of the face found alone (half the size) does not continue it
  assert.deepEqual(associate([tracks[1]!], [{ box: { x: 510, y: 10, w: 40, h: 50 } }], rules), []);
  assert.equal(sizeRatio({ x: 0, y: 0, w: 1, h: 50 }, { x: 0, y: 0, w: 1, h: 100 }), 2);
});

test('follow: the detector box is rebuilt from landmarks with the proportions measured at detection', () => {
  const lm: Point[] = Array.from({ length: 68 }, (_, i) => ({ x: 100 + (i % 10) * 8, y: 200 + Math.floor(i / 10) * 12 }));
  const box = { x: 90, y: 180, w: 100, h: 110 };
  const rel = relateBox(box, lm);
  const moved = lm.map((p) => ({ x: p.x + 30, y: p.y - 10 }));
  const next = boxFromLandmarks(moved, rel);
  assert.deepEqual([next.x, next.y, next.w, next.h].map((v) => Math.round(v * 1000) / 1000), [120, 170, 100, 110]);
  assert.equal(landmarkShift(lm, moved), 30);
  assert.equal(landmarkShift(lm, lm), 0);
  assert.ok(Math.abs(followDrift(box, { ...box, x: box.x + 22 }) - 0.2) < 1e-9);
});

test('UnknownRegistry: one id per stranger, kept while seen, forgotten after retention, taken out for promotion', () => {
  let n = 0;
  const reg = new UnknownRegistry({ similarity: 0.5, retentionS: 100, maxFrames: 2 }, () => `anon-${++n}`);
  const p7 = unitVector(7);
  const frame = (q: number) => ({ embedding: near(p7, q, 0.8), quality: q, thumbnail: null });
  assert.equal(reg.assign(p7, { camera: 'gate', t: 0 }, [frame(1), frame(2)]), 'anon-1');
  assert.equal(reg.assign(near(p7, 3, 0.7), { camera: 'gate', t: 50 }, [frame(3)]), 'anon-1');
  assert.equal(reg.assign(unitVector(8), { camera: 'gate', t: 60 }), 'anon-2');
  assert.equal(reg.assign(near(p7, 4, 0.7), { camera: 'yard', t: 140 }), 'anon-1'); // seen at 50: still remembered at 140
  assert.deepEqual(reg.list().find((u) => u.id === 'anon-1')!.sightings, [{ camera: 'yard', at: 140 }, { camera: 'gate', at: 50 }, { camera: 'gate', at: 0 }], 'each track is a sighting, newest first');
  reg.expire(300);
  assert.equal(reg.size, 0);
  reg.assign(p7, { camera: 'gate', t: 400 }, [frame(1), frame(3), frame(2)]);
  const taken = reg.take('anon-3')!;
  assert.deepEqual(taken.frames.map((f) => f.quality), [3, 2]);
  assert.equal(reg.has('anon-3'), false);
  assert.equal(reg.take('anon-3'), undefined);
});

test('UnknownRegistry: a track recognised after its unknown decision takes back its embedding, frames, sighting and face', () => {
  let n = 0;
  const reg = new UnknownRegistry({ similarity: 0.5, retentionS: 100, maxFrames: 4 }, () => `anon-${++n}`);
  const p7 = unitVector(7);
  const frame = (q: number) => ({ embedding: near(p7, q, 0.8), quality: q });
  // Alone in its cluster: the unknown person was only this track, and is forgotten.
  const alone = reg.join(p7, { camera: 'gate', t: 0 }, [frame(1), frame(2)]);
  reg.setThumbnail(alone.id, Buffer.from('JPEG'));
  const given = alone.frames.map((f) => f.embedding);
  assert.equal(reg.withdraw(alone), 'removed');
  assert.equal(reg.has(alone.id), false);
  assert.ok(given.every((e) => e.every((v) => v === 0)) && alone.fused.every((v) => v === 0), 'embeddings zeroed');

  // Joined an unknown person seen before: the others stay, without this track's frames, sighting or face.
  const first = reg.join(p7, { camera: 'gate', t: 10 }, [frame(3)]);
  const second = reg.join(near(p7, 4, 0.7), { camera: 'yard', t: 20 }, [frame(5), frame(6)]);
  assert.equal(second.id, first.id);
  reg.setThumbnail(second.id, Buffer.from('JPEG of the second track'));
  assert.equal(reg.withdraw(second), 'kept');
  assert.deepEqual(reg.get(first.id)!.frames.map((f) => f.quality), [3]);
  assert.equal(reg.get(first.id)!.thumbnail, null);
  assert.deepEqual(reg.list()[0]!.sightings, [{ camera: 'gate', at: 10 }]);
  // What is left is the first track alone: a new face like the second one's joins it as before.
  assert.equal(reg.assign(p7, { camera: 'gate', t: 30 }), first.id);
  // Forgotten meanwhile (promoted, expired): nothing to take back.
  const later = reg.join(unitVector(9), { camera: 'gate', t: 40 }, [frame(7)]);
  reg.take(later.id);
  assert.equal(reg.withdraw(later), 'gone');
});

test('UnknownRegistry: sightings are bounded to the newest MAX_SIGHTINGS', () => {
  const reg = new UnknownRegistry({ similarity: 0.5, retentionS: 1e9, maxFrames: 1 }, () => 'anon-1');
  for (let t = 0; t < MAX_SIGHTINGS + 7; t++) reg.assign(unitVector(7), { camera: `cam-${t % 3}`, t });
  const seen = reg.list()[0]!.sightings;
  assert.equal(seen.length, MAX_SIGHTINGS);
  assert.deepEqual([seen[0]!.at, seen.at(-1)!.at], [MAX_SIGHTINGS + 6, 7]);
});

test('cropAround copies the face with context, clipped to the image', () => {
  const img = { width: 10, height: 10, data: new Uint8Array(300).map((_, i) => i % 256) };
  const crop = cropAround(img, { x: 8, y: 8, w: 2, h: 2 }, 2);
  assert.deepEqual([crop.width, crop.height], [3, 3]);
  assert.deepEqual([...crop.data.subarray(0, 3)], [...img.data.subarray((7 * 10 + 7) * 3, (7 * 10 + 7) * 3 + 3)]);
});

test('parseShowinfoPts reads each output frame time from FFmpeg showinfo lines only', () => {
  const line = '[Parsed_showinfo_1 @ 0x55d] n:  12 pts:     13 pts_time:0.866667 duration:      1 duration_time:0.0666667 fmt:yuv420p';
  assert.equal(parseShowinfoPts(line), 0.866667);
  assert.equal(parseShowinfoPts('[Parsed_showinfo_1 @ 0x55d] config in time_base: 1/15'), undefined);
  assert.equal(parseShowinfoPts('frame=  10 fps=0.0 q=-0.0 size=N/A time=00:00:00.66'), undefined);
});

test('sightings column (fuzzed): what the daemon writes reads back; anything else is a bounded list of valid sightings or undefined, never a throw', () => {
  const sighting = fc.record({ camera: fc.string({ maxLength: 200 }), at: fc.integer({ min: 0, max: 4e9 }) }, { noNullPrototype: true });
  fc.assert(fc.property(fc.array(sighting, { maxLength: MAX_SIGHTINGS }), (list) => assert.deepEqual(decodeSightings(encodeSightings(list)), list)), fuzzParameters(200));
  const hostile = fc.oneof(fc.string(), fc.json(), fc.array(fc.record({ camera: fc.anything(), at_ms: fc.anything() }), { maxLength: 3 * MAX_SIGHTINGS }).map((v) => JSON.stringify(v)));
  fc.assert(
    fc.property(hostile, (text) => {
      const out = decodeSightings(text);
      if (out === undefined) return;
      assert.ok(out.length <= MAX_SIGHTINGS);
      for (const s of out) assert.ok(typeof s.camera === 'string' && s.camera.length <= 200 && Number.isFinite(s.at));
    }),
    fuzzParameters(500),
  );
});

test('BestFrames: the heaviest frames first, but a frame with the eyes shut after every frame with them open, however it is weighed', () => {
  const img = { width: 64, height: 64, data: new Uint8Array(64 * 64 * 3) };
  const box = { x: 16, y: 16, w: 24, h: 24 };
  const best = new BestFrames(3);
  const offer = (t: number, weight: number, eyesShut: boolean) => best.offer({ t, weight, eyesShut, embedding: new Float32Array(4), img, box });
  offer(1, 0.9, true); // the heaviest frame of the track, taken mid-blink
  offer(2, 0.5, false);
  offer(3, 0.7, false);
  assert.deepEqual(best.frames().map((f) => f.t), [3, 2, 1]);
  assert.equal(best.top()?.t, 3, 'the thumbnail and the face to teach from have their eyes open');
  offer(4, 0.4, false); // open and light: still before the shut one, which leaves
  assert.deepEqual(best.frames().map((f) => f.t), [3, 2, 4]);
  offer(5, 0.99, true); // shut: never in while three open ones are
  offer(6, 0.3, false); // lighter than every open one kept
  assert.deepEqual(best.frames().map((f) => f.t), [3, 2, 4]);
  const shut = new BestFrames(2);
  for (const [t, w] of [[1, 0.2], [2, 0.8], [3, 0.5]] as const) shut.offer({ t, weight: w, eyesShut: true, embedding: new Float32Array(4), img, box });
  assert.deepEqual(shut.frames().map((f) => f.t), [2, 3], 'a track seen only with its eyes shut still has its best frames, by weight');
});
