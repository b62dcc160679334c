// The display feed on the daemon's real bus: prompts from the tracker's views (settled, cleared),
// a greeting from a live recognition with the check-in attendance made of it, held and then
// given back to the prompts; nothing of an unknown person; and the unsubscribe ends it all.
import '../support/fast-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventBus } from '../../daemon/bus/bus.js';
import type { DaemonEvents } from '../../daemon/bus/events.js';
import { DisplayFeed, type DisplayState } from '../../daemon/display/feed.js';
import { displayTargets } from '../../daemon/display/targets.js';
import type { TrackView } from '../../daemon/track/track.js';
import type { RecognizedEvent } from '../../daemon/track/events.js';
import type { AttendanceDecision } from '../../daemon/attendance/engine.js';
import { memoryLogger } from '../gallery/helpers.js';

function rig(t: { after(fn: () => void): void }) {
  const clock = { ms: 1_000_000 };
  const bus = new EventBus<DaemonEvents>(memoryLogger().logger);
  const targets = displayTargets([{ name: 'a' }, { name: 'b' }, { name: 'hall' }], [{ name: 'front', cameras: ['a', 'b'] }]);
  const feed = new DisplayFeed({ targets: () => targets, greetingMs: 5000, logger: memoryLogger().logger, now: () => clock.ms });
  const seen: [string, DisplayState][] = [];
  feed.listen((target, state) => seen.push([target, state]));
  const off = feed.subscribe(bus);
  t.after(off);
  const views = (camera: string, tracks: TrackView[]) => void bus.emit('trackViews', { camera, atMs: clock.ms, tracks });
  return { clock, bus, feed, seen, off, views };
}

const view = (track: number, waiting: string | null, who: TrackView['who'] = { kind: 'pending' }, h = 80): TrackView => ({ track, box: { x: 0, y: 0, w: h, h }, who, score: null, live: waiting === null, waiting });
const anna = { id: 'p-anna', name: 'Anna Weber' };
const recognized = (camera: string, track: number, atMs: number): RecognizedEvent & { atMs: number } =>
  ({ type: 'recognized', camera, track, t: 1, person: anna, score: 0.8, margin: 0.3, live: true, named_t: 1, blink_t: 0.5, antispoof: 0.9, liveness: { score: 4, blink: 1, structure: 1, passive: 1, surround: 0.5, screen: 0.5, stereo: 0 }, assurance: 'live', face_px: 120, thumbnail: null, atMs }) as RecognizedEvent & { atMs: number };

test("a door's cameras prompt on the door's display once the prompt has held, and it clears when the face is gone", (t) => {
  const r = rig(t);
  r.views('b', [view(1, 'too_small: face 20 px high, needs 32', { kind: 'pending' }, 20)]);
  assert.deepEqual(r.seen, []);
  r.clock.ms += 400;
  r.views('b', [view(1, 'too_small: face 20 px high, needs 32', { kind: 'pending' }, 20)]);
  assert.deepEqual(r.seen, [['front', { type: 'prompt', prompt: 'step_closer' }]]);
  assert.deepEqual(r.feed.current('front'), { type: 'prompt', prompt: 'step_closer' });
  assert.deepEqual(r.feed.current('hall'), { type: 'idle' });
  r.clock.ms += 100;
  r.views('b', []);
  r.clock.ms += 1100;
  r.views('b', []);
  assert.deepEqual(r.seen.at(-1), ['front', { type: 'idle' }]);
});

test('a movement the tracker asks of a recognised person goes to the display at once, and the greeting replaces it once they are live', (t) => {
  const r = rig(t);
  const asked: TrackView = { ...view(1, 'no_blink, no_motion', { kind: 'person', person: anna }), challenge: { move: 'turn_right', askedT: 2.5 } };
  r.views('hall', [asked]);
  assert.deepEqual(r.seen, [['hall', { type: 'prompt', prompt: 'turn_right' }]], 'no 300 ms wait: the answer is timed from the request');
  r.clock.ms += 500;
  r.views('hall', [{ ...asked, waiting: 'low_quality: head turned 50° (max 45°)' }]);
  assert.equal(r.seen.length, 1, 'turning to answer is no reason to ask to look at the camera');
  void r.bus.emit('track', recognized('hall', 1, r.clock.ms));
  assert.equal(r.seen.at(-1)![1].type, 'greeting');
});

test('a live recognition greets with the check-in attendance made of it, holds it, then goes back to what the camera sees', (t) => {
  const r = rig(t);
  const checkIn = { kind: 'check_in', atMs: r.clock.ms - 2000, camera: 'hall' } as unknown as AttendanceDecision;
  // Attendance hears the recognition first (it subscribed before the display) and announces its sighting.
  void r.bus.emit('sighting', { decision: { personId: anna.id, camera: 'hall', track: 7, atMs: r.clock.ms - 2000, assurance: 'live' }, decisions: [checkIn] });
  assert.deepEqual(r.seen, []);
  void r.bus.emit('track', recognized('hall', 7, r.clock.ms));
  assert.deepEqual(r.seen, [['hall', { type: 'greeting', greeting: 'check_in', personId: 'p-anna', name: 'Anna Weber', atMs: r.clock.ms - 2000 }]]);
  // A greeting on screen is not given to a display opening afterwards.
  assert.deepEqual(r.feed.current('hall'), { type: 'idle' });
  // While it holds, prompts wait.
  for (let i = 0; i < 5; i++) {
    r.clock.ms += 400;
    r.views('hall', [view(8, 'low_quality: blurred (sharpness 2, needs 5)')]);
  }
  assert.equal(r.seen.length, 1);
  r.clock.ms += 3500;
  r.views('hall', [view(8, 'low_quality: blurred (sharpness 2, needs 5)')]);
  assert.deepEqual(r.seen.at(-1), ['hall', { type: 'prompt', prompt: 'hold_still' }]);
});

test('a recognition attendance made nothing of (cooldown, attendance off) is still greeted, as seen; one not yet live is not', (t) => {
  const r = rig(t);
  void r.bus.emit('track', { ...recognized('a', 3, r.clock.ms), live: false });
  assert.deepEqual(r.seen, []);
  void r.bus.emit('track', recognized('a', 3, r.clock.ms));
  assert.deepEqual(r.seen, [['front', { type: 'greeting', greeting: 'seen', personId: 'p-anna', name: 'Anna Weber', atMs: r.clock.ms }]]);
  // A sighting that comes after the recognition updates the greeting.
  const checkOut = { kind: 'check_out', atMs: r.clock.ms, camera: 'a', source: 'exit' } as unknown as AttendanceDecision;
  void r.bus.emit('sighting', { decision: { personId: anna.id, camera: 'a', track: 3, atMs: r.clock.ms, assurance: 'live' }, decisions: [checkOut] });
  assert.deepEqual(r.seen.at(-1), ['front', { type: 'greeting', greeting: 'check_out', personId: 'p-anna', name: 'Anna Weber', atMs: r.clock.ms }]);
});

test('an unknown face in front shows nothing: not a prompt, not a greeting', (t) => {
  const r = rig(t);
  for (let i = 0; i < 5; i++) {
    r.clock.ms += 200;
    r.views('hall', [view(1, 'too_small: face 20 px high, needs 32', { kind: 'unknown', anonId: 'anon-1' }, 200), view(2, 'too_small: face 20 px high, needs 32', { kind: 'pending' }, 20)]);
  }
  void r.bus.emit('track', { type: 'unknown', camera: 'hall', track: 1, t: 1, anon_id: 'anon-1', score: 0.2, live: true, antispoof: 0.9, liveness: { score: 4, blink: 1, structure: 1, passive: 1, surround: 0.5, screen: 0.5, stereo: 0 }, face_px: 200, thumbnail: null, atMs: r.clock.ms });
  assert.deepEqual(r.seen, []);
});

test('the unsubscribe ends the feed: the bus has no display listener left, and nothing more is shown', (t) => {
  const r = rig(t);
  assert.equal(r.bus.listens('trackViews'), true);
  r.off();
  assert.equal(r.bus.listens('trackViews'), false);
  assert.deepEqual(r.bus.stages(), []);
  void r.bus.emit('track', recognized('hall', 1, r.clock.ms));
  assert.deepEqual(r.seen, []);
});
