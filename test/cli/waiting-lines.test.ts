import '../support/fast-tier.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HOLD_MS, WaitingLines, waitingFor } from '../../daemon/cli/waiting-lines.js';
import type { TrackView } from '../../daemon/track/track.js';

type View = Pick<TrackView, 'track' | 'who' | 'waiting' | 'live'>;
const ada: View['who'] = { kind: 'person', person: { id: 'p1', name: 'Ada' } };
const view = (waiting: string | null, who: View['who'] = ada, track = 1): View => ({ track, who, waiting, live: waiting === null });

test('waitingFor: the tracker’s reasons in words, each with what would help', () => {
  assert.equal(waitingFor(view('too_small: face 20 px high, needs 32')), 'the face is too small to be named (face 20 px high, needs 32): come closer to the camera');
  assert.equal(waitingFor(view('low_quality: blurred (sharpness 2, needs 5)')), 'the face is blurred (sharpness 2, needs 5): hold still');
  assert.equal(waitingFor(view('low_quality: head turned (yaw 50°, at most 40°)')), 'the head is turned (yaw 50°, at most 40°): look at the camera');
  assert.equal(waitingFor(view('deciding', { kind: 'pending' })), 'looking at the face: deciding who it is');
  assert.equal(waitingFor(view('no_blink, no_motion')), 'not live yet: watching for a blink or a movement of the face');
  assert.equal(waitingFor(view('not live yet')), 'not live yet: watching for a blink or a movement of the face');
  assert.match(waitingFor(view('frozen, no_blink, no_motion'))!, /^the picture never changes \(frozen\)/);
  assert.match(waitingFor(view('held_picture'))!, /held photo or screen/);
  assert.match(waitingFor(view('antispoof'))!, /anti-spoof model doubts/);
  assert.equal(waitingFor(view(null)), null, 'decided and live: nothing to wait for');
  // An unknown face is told only what keeps it from being named (the demo enrols it); its liveness is not said.
  assert.equal(waitingFor(view('no_blink', { kind: 'unknown', anonId: 'anon-1' })), null);
  assert.match(waitingFor(view('too_small: face 20 px high, needs 32', { kind: 'unknown', anonId: 'anon-1' }))!, /come closer/);
});

test('WaitingLines: a wait is said once it has held for HOLD_MS, once per change, under the person, the anonymous id or the track', () => {
  const lines = new WaitingLines();
  assert.deepEqual(lines.update('door', 0, [view('deciding', { kind: 'pending' }, 7)]), [], 'not yet held');
  assert.deepEqual(lines.update('door', HOLD_MS, [view('deciding', { kind: 'pending' }, 7)]), ['  waiting  door  track 7: looking at the face: deciding who it is\n']);
  assert.deepEqual(lines.update('door', HOLD_MS + 100, [view('deciding', { kind: 'pending' }, 7)]), [], 'said once');
  // Named, not live: a new wait, said after it held.
  assert.deepEqual(lines.update('door', 2000, [view('no_blink', ada, 7)]), []);
  assert.deepEqual(lines.update('door', 2000 + HOLD_MS, [view('no_blink', ada, 7)]), ['  waiting  door  Ada: not live yet: watching for a blink or a movement of the face\n']);
  // A blurred frame or two between sharp ones is not said.
  assert.deepEqual(lines.update('door', 3000, [view('low_quality: blurred (sharpness 2, needs 5)', ada, 7)]), []);
  assert.deepEqual(lines.update('door', 3100, [view('no_blink', ada, 7)]), []);
  assert.deepEqual(lines.update('door', 3100 + HOLD_MS, [view('no_blink', ada, 7)]), [], 'back to what was said already');
  // Live: nothing said (the recognized LIVE line says it).
  assert.deepEqual(lines.update('door', 5000, [view(null, ada, 7)]), []);
  assert.deepEqual(lines.update('door', 5000 + HOLD_MS, [view(null, ada, 7)]), []);
  // An unknown's anonymous id names its line.
  lines.update('door', 6000, [view('too_small: face 20 px high, needs 32', { kind: 'unknown', anonId: 'anon-9' }, 8)]);
  assert.deepEqual(lines.update('door', 6000 + HOLD_MS, [view('too_small: face 20 px high, needs 32', { kind: 'unknown', anonId: 'anon-9' }, 8)]), [
    '  waiting  door  anon-9: the face is too small to be named (face 20 px high, needs 32): come closer to the camera\n',
  ]);
});

test('WaitingLines: a track gone from the views is forgotten, each camera apart; the name is escaped for the terminal', () => {
  const lines = new WaitingLines();
  const evil: View['who'] = { kind: 'person', person: { id: 'p2', name: 'Eve\u001b[2J' } };
  lines.update('a', 0, [view('no_blink', evil, 1)]);
  lines.update('b', 0, [view('no_blink', ada, 1)]);
  assert.deepEqual(lines.update('a', HOLD_MS, [view('no_blink', evil, 1)]), ['  waiting  a  Eve\\u001b[2J: not live yet: watching for a blink or a movement of the face\n']);
  // Camera a's views without track 1: it ended. Camera b's track 1 is another face, kept.
  lines.update('a', HOLD_MS + 10, []);
  assert.deepEqual(lines.update('b', HOLD_MS, [view('no_blink', ada, 1)]).length, 1);
  lines.update('a', 2000, [view('no_blink', evil, 1)]);
  assert.deepEqual(lines.update('a', 2000 + HOLD_MS, [view('no_blink', evil, 1)]).length, 1, 'a new track 1 on camera a is said anew');
});
