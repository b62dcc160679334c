// Tracker decisions as attendance sightings: pure, so checked with a recording stage.
import '../support/fast-tier.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RecognizedDecision } from '../../daemon/attendance/stage.js';
import { sightingOf, subscribeSightings } from '../../daemon/attendance/track-sightings.js';
import { EventBus } from '../../daemon/bus/bus.js';
import type { DaemonEvents } from '../../daemon/bus/events.js';
import { createLogger } from '../../daemon/base/log.js';
import { arrivalMs, type TrackEvent } from '../../daemon/track/events.js';

const base = { camera: 'gate', track: 1, t: 2, atMs: Date.parse('2026-03-02T08:00:00Z') };
const recognized = (live: boolean): TrackEvent & { atMs: number } =>
  ({ ...base, type: 'recognized', person: { id: 'p1', name: 'Ada', group: 'night' }, score: 0.7, margin: 0.2, live, named_t: 0.5, first_blink_t: live ? 1.5 : null, assurance: live ? 'live' : 'recognised' }) as unknown as TrackEvent & { atMs: number };

test('every recognition reaches attendance with what proved it and the group the match carried, with no lookup of its own: the camera\'s requirement decides', async () => {
  const decisions: RecognizedDecision[] = [];
  const bus = new EventBus<DaemonEvents>(createLogger({ level: 'silent' }));
  const off = subscribeSightings(bus, () => ({ onRecognized: (d) => decisions.push(d), onRefused: () => 0, onTrackEnded: () => undefined }));
  await bus.emit('track', recognized(false));
  await bus.emit('track', recognized(true));
  assert.deepEqual(decisions.map((d) => [d.personId, d.group, d.camera, d.assurance]), [['p1', 'night', 'gate', 'recognised'], ['p1', 'night', 'gate', 'live']]);
  // Named at 0.5 s, live at 2 s: the check-in carries the arrival, 1.5 s before.
  assert.equal(decisions[1]!.atMs, base.atMs - 1500);
  off();
  await bus.emit('track', recognized(true));
  assert.equal(decisions.length, 2, 'unsubscribed: nothing more reaches attendance');
});

test('with attendance off (or while a reload rebuilds it) a live recognition goes nowhere', () => {
  assert.ok(sightingOf(recognized(true)));
  const bus = new EventBus<DaemonEvents>(createLogger({ level: 'silent' }));
  subscribeSightings(bus, () => undefined);
  void bus.emit('track', recognized(true));
  assert.equal(bus.failures.size, 0);
});

test('arrivalMs: the first naming, never later than the event, whatever the times say', () => {
  assert.equal(arrivalMs({ atMs: 10_000, t: 5, named_t: 2 }), 7_000);
  assert.equal(arrivalMs({ atMs: 10_000, t: 5, named_t: 5 }), 10_000);
  assert.equal(arrivalMs({ atMs: 10_000, t: 5, named_t: 9 }), 10_000);
  assert.equal(arrivalMs({ atMs: 10_000, t: 5, named_t: Number.NaN }), 10_000);
});

test('a refused track and an ended one reach attendance by camera and track, with the alert\'s reason', async () => {
  const calls: string[] = [];
  const bus = new EventBus<DaemonEvents>(createLogger({ level: 'silent' }));
  subscribeSightings(bus, () => ({ onRecognized: () => calls.push('recognized'), onRefused: (camera, track, reason) => calls.push(`refused ${camera}/${track} ${reason}`), onTrackEnded: (camera, track) => void calls.push(`ended ${camera}/${track}`) }));
  await bus.emit('track', { ...base, type: 'spoof_suspected', person: { id: 'p1', name: 'Ada' }, reasons: ['held_picture', 'no_blink'], antispoof: null } as unknown as TrackEvent & { atMs: number });
  await bus.emit('track', { ...base, type: 'track_ended' } as unknown as TrackEvent & { atMs: number });
  assert.deepEqual(calls, ['refused gate/1 held_picture', 'ended gate/1']);
  assert.equal(sightingOf(recognized(true))?.track, 1, 'a sighting names its track');
});
