// The text form of `facegate events tail` and of the demo: one line per decision, with who and what
// the decision rests on.
import '../support/fast-tier.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeEvent, EventLines } from '../../daemon/cli/event-lines.js';

const atMs = Date.parse('2026-03-02T08:15:30Z');

test('events tail lines say why a face was not decided, and who was recognised how', () => {
  assert.equal(describeEvent({ type: 'low_quality', camera: 'gate', track: 2, t: 1, atMs, reason: 'blurred: sharpness 12 < 40' }), '08:15:30  gate         low_quality      blurred: sharpness 12 < 40\n');
  assert.equal(describeEvent({ type: 'too_small', camera: 'gate', track: 3, t: 1, atMs, reason: 'face 30 px < 40 px' }), '08:15:30  gate         too_small        face 30 px < 40 px\n');
  assert.equal(describeEvent({ type: 'recognized', camera: 'gate', track: 1, t: 1, atMs, person: { id: 'p1', name: 'Ada' }, score: 0.71, live: false }), '08:15:30  gate         recognized       Ada score 0.71 not live yet\n');
  assert.equal(
    describeEvent({ type: 'unknown_withdrawn', camera: 'gate', track: 1, t: 1, atMs, anon_id: 'anon-1f', person: { id: 'p1', name: 'Ada' }, score: 0.47, cluster: 'removed' }),
    '08:15:30  gate         unknown_withdrawn Ada was anon-1f: unknown alert withdrawn\n',
  );
});

test('events tail names the door of a camera of a door beside the camera, escaped as the rest', () => {
  assert.equal(describeEvent({ type: 'recognized', camera: 'left', door: 'front-door', track: 1, t: 1, atMs, person: { id: 'p1', name: 'Ada' }, score: 0.71, live: true, assurance: 'stereo' }), '08:15:30  left (front-door) recognized       Ada score 0.71 STEREO\n');
  assert.equal(describeEvent({ type: 'too_small', camera: 'left', door: 'x\u001b[2J', track: 3, t: 1, atMs, reason: 'r' }).includes('\u001b'), false);
});

test('events tail writes the time the daemon sent in the site zone, the clock of the console, the CSV and MQTT', () => {
  assert.equal(describeEvent({ type: 'too_small', camera: 'gate', track: 3, t: 1, atMs, at: '2026-03-02T09:15:30+01:00', reason: 'face 30 px < 40 px' }), '09:15:30  gate         too_small        face 30 px < 40 px\n');
});

test("a track's start and blinks name the track: by its number until it is named, then as who it was named; forgotten when it ends", () => {
  const lines = new EventLines();
  const base = { camera: 'gate', t: 1, atMs };
  const said = [
    { ...base, type: 'track_started', track: 3, face_px: 142 },
    { ...base, type: 'blink', track: 3, closed_ms: 180 },
    { ...base, type: 'recognized', track: 3, person: { id: 'p1', name: 'Ada' }, score: 0.71, live: true },
    { ...base, type: 'blink', track: 3, closed_ms: 160 },
    { ...base, type: 'blink', track: 3, camera: 'door', closed_ms: 150 },
    { ...base, type: 'unknown', track: 4, anon_id: 'anon-1f', score: 0.3, live: false },
    { ...base, type: 'blink', track: 4, closed_ms: 200 },
    { ...base, type: 'track_ended', track: 3, person: { id: 'p1', name: 'Ada' }, anon_id: null, live: true, duration: 4, blinks: 2 },
    { ...base, type: 'track_started', track: 3, face_px: 90 },
  ].map((e) => lines.describe(e));
  assert.deepEqual(said, [
    '08:15:30  gate         track_started    track 3 face 142 px\n',
    '08:15:30  gate         blink            track 3 eyes closed 180 ms\n',
    '08:15:30  gate         recognized       Ada score 0.71 LIVE\n',
    '08:15:30  gate         blink            Ada eyes closed 160 ms\n',
    '08:15:30  door         blink            track 3 eyes closed 150 ms\n',
    '08:15:30  gate         unknown          anon-1f\n',
    '08:15:30  gate         blink            anon-1f eyes closed 200 ms\n',
    '08:15:30  gate         track_ended      Ada\n',
    '08:15:30  gate         track_started    track 3 face 90 px\n',
  ]);
  for (const line of said) assert.doesNotMatch(line, / \n$/, 'no line ends in an empty column');
  assert.equal(describeEvent({ ...base, type: 'blink', track: 7, closed_ms: 120 }), '08:15:30  gate         blink            track 7 eyes closed 120 ms\n', 'alone, a blink names its track');
});

test('the names remembered are bounded: tracks whose end never came are forgotten, the oldest first', () => {
  const lines = new EventLines();
  const base = { camera: 'gate', t: 1, atMs };
  for (let track = 1; track <= 1100; track++) lines.describe({ ...base, type: 'unknown', track, anon_id: `anon-${track}`, score: 0.3, live: false });
  assert.match(lines.describe({ ...base, type: 'blink', track: 1, closed_ms: 100 }), /blink +track 1 eyes/);
  assert.match(lines.describe({ ...base, type: 'blink', track: 1100, closed_ms: 100 }), /blink +anon-1100 eyes/);
});
