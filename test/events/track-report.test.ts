import '../support/fast-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Value } from '@sinclair/typebox/value';
import { TrackReporter, nextTrackView, trackEventBody, type TrackReport } from '../../daemon/events/track-report.js';
import { TOPICS } from '../../contract/topics.js';
import type { TrackEvent } from '../../daemon/track/events.js';

const options = { intervalMs: 1000, maxTracks: 2, snapshotMaxKb: 0, personNames: false };
const envelope = { id: '019b4f52-0a10-7000-8000-4c5d6e7f8091', device: 'g', time: '2026-01-12T09:31:40+01:00', jws: 'x' };
const at = (atMs: number, e: TrackEvent) => ({ ...e, atMs });
const base = (track: number, t = 0) => ({ camera: 'door', track, t });
const recognized = (track: number, live: boolean, thumbnail: Buffer | null = null): TrackEvent => ({
  ...base(track),
  type: 'recognized',
  person: { id: 'emp-1', name: 'Angelina' },
  score: 0.81,
  margin: 0.3,
  live,
  named_t: 0,
  blink_t: live ? 1 : null,
  antispoof: 0.9,
  liveness: { score: 4.6, blink: 4.6, structure: 0, passive: 0, surround: 0, screen: 0, stereo: 0 },
  assurance: live ? 'live' : 'recognised',
  face_px: 142,
  thumbnail,
});
const ended = (track: number): TrackEvent => ({ ...base(track), type: 'track_ended', person: { id: 'emp-1', name: 'Angelina' }, anon_id: null, live: true, duration: 3, blinks: 1, antispoof: 0.9, liveness: { score: 4.6, blink: 4.6, structure: 0, passive: 0, surround: 0, screen: 0, stereo: 0 } });
const small = (track: number, reason: string): TrackEvent => ({ ...base(track), type: 'too_small', reason });

function assertValid(r: TrackReport): void {
  if (r.event) assert.deepEqual([...Value.Errors(TOPICS.trackEvent.schema, { ...envelope, ...r.event })].map((e) => `${e.path} ${e.message}`), []);
  if (r.last) assert.deepEqual([...Value.Errors(TOPICS.trackLast.schema, { ...r.last, time: envelope.time })].map((e) => `${e.path} ${e.message}`), []);
}

test("a track's life is new, update on a decision and on becoming live, end; the retained last follows the decisions", () => {
  const r = new TrackReporter(options);
  const seen = [
    r.report(at(0, { ...base(1), type: 'blink', closed_ms: 120 })),
    r.report(at(100, recognized(1, false))),
    r.report(at(200, recognized(1, true))),
    r.report(at(300, ended(1))),
  ];
  seen.forEach(assertValid);
  assert.deepEqual(seen.map((s) => s.event?.type), ['new', 'update', 'update', 'end']);
  assert.deepEqual(seen.map((s) => s.event?.state), ['tracking', 'recognized', 'recognized', 'recognized']);
  assert.deepEqual(seen[1]!.event!.reasons, ['not_live_yet']);
  assert.equal(seen[2]!.event!.live, true);
  assert.deepEqual(seen.map((s) => s.last?.live), [undefined, false, true, undefined]);
  assert.deepEqual(seen.map((s) => s.event?.assurance), [null, 'recognised', 'live', 'live'], 'what proved the person: nothing before a name, then what the recognition said; the end keeps it');
  assert.equal(seen[2]!.event!.person_id, 'emp-1');
  assert.equal(seen[2]!.event!.face_px, 142);
  assert.equal(r.reporting('door'), 0, 'an ended track is forgotten');
});

test('a live track proven by stereo afterwards is an update at once, not held back by the interval', () => {
  const r = new TrackReporter(options);
  const stereo: TrackEvent = { ...(recognized(1, true) as Extract<TrackEvent, { type: 'recognized' }>), liveness: { score: 9, blink: 4.6, structure: 0, passive: 0, surround: 0, screen: 0, stereo: 4.4 }, assurance: 'stereo', raised_from: 'live' };
  const seen = [r.report(at(0, recognized(1, false))), r.report(at(100, recognized(1, true))), r.report(at(200, stereo))];
  seen.forEach(assertValid);
  assert.deepEqual(seen.map((s) => [s.event?.type, s.event?.assurance]), [['new', 'recognised'], ['update', 'live'], ['update', 'stereo']]);
  assert.equal(seen[2]!.last?.assurance, 'stereo', 'the retained last says it too');
});

test('no name by default; with person_names the name is there', () => {
  const plain = new TrackReporter(options).report(at(0, recognized(1, true)));
  assert.ok(!JSON.stringify(plain).includes('Angelina'));
  const named = new TrackReporter({ ...options, personNames: true }).report(at(0, recognized(1, true)));
  assert.equal(named.event!.name, 'Angelina');
  assert.equal(named.last!.name, 'Angelina');
});

test('a burst of state changes that do not matter gives one update per interval', () => {
  const r = new TrackReporter(options);
  r.report(at(0, { ...base(1), type: 'blink', closed_ms: 100 }));
  const updates = (from: number) => {
    let n = 0;
    for (let i = 0; i < 500; i++) if (r.report(at(from + i, small(1, `face ${i} px`))).event) n++;
    return n;
  };
  assert.equal(updates(1), 0, 'within the first interval after new: none');
  assert.equal(updates(1000), 1, 'the next interval: one');
  assert.equal(r.report(at(1600, recognized(1, false))).event?.type, 'update', 'a decision goes at once');
});

test('changes that matter go at once but never more than a short burst', () => {
  const r = new TrackReporter(options);
  let sent = 0;
  for (let i = 0; i < 100; i++) {
    const e: TrackEvent = i % 2 === 0 ? recognized(1, false) : { ...base(1), type: 'unknown', anon_id: `door-${i}`, score: 0.2, live: false, antispoof: null, liveness: { score: 0, blink: 0, structure: 0, passive: 0, surround: 0, screen: 0, stereo: 0 }, face_px: 90, thumbnail: null };
    if (r.report(at(i, e)).event) sent++;
  }
  assert.equal(sent, 3, 'new and two updates, then nothing until the interval refills');
  assert.equal(r.report(at(1100, recognized(1, true))).event?.type, 'update');
});

test('a camera reports at most max_tracks at once; an ended track frees its place', () => {
  const r = new TrackReporter(options);
  assert.ok(r.report(at(0, recognized(1, false))).event);
  assert.ok(r.report(at(0, recognized(2, false))).event);
  assert.deepEqual(r.report(at(0, recognized(3, false))), {});
  assert.deepEqual(r.report(at(0, ended(3))), {}, 'no end for a track never reported');
  assert.equal(r.skipped, 1);
  r.report(at(10, ended(1)));
  assert.equal(r.report(at(20, recognized(3, false))).event?.type, 'new');
  assert.ok(r.report(at(0, { ...recognized(9, false), camera: 'yard' })).event, 'another camera has its own places');
});

test('the thumbnail is attached only under the cap, its sha256 beside it; never to end', () => {
  const jpeg = Buffer.alloc(3000, 1);
  assert.equal(trackEventBody('update', nextTrackView(undefined, recognized(1, true), false), jpeg, 0).image, undefined);
  assert.equal(trackEventBody('update', nextTrackView(undefined, recognized(1, true), false), jpeg, 2).image, undefined);
  const body = trackEventBody('update', nextTrackView(undefined, recognized(1, true), false), jpeg, 4);
  assert.equal(body.image, jpeg.toString('base64'));
  assert.equal(body.image_sha256, createHash('sha256').update(jpeg).digest('hex'));
  const r = new TrackReporter({ ...options, snapshotMaxKb: 4 });
  assert.ok(r.report(at(0, recognized(1, true, jpeg))).event!.image);
  assert.equal(r.report(at(5, ended(1))).event!.image, undefined);
});

test('low quality carries its reason, bounded; spoof carries its reasons and is not live', () => {
  const low = nextTrackView(undefined, { ...base(1), type: 'low_quality', reason: 'blurred '.repeat(100) }, false);
  assert.equal(low.state, 'low_quality');
  assert.equal(low.reasons[0], 'low_quality');
  assert.equal(low.reasons[1]!.length, 200);
  const spoof = nextTrackView(nextTrackView(undefined, recognized(1, true), false), { ...base(1), type: 'spoof_suspected', person: { id: 'emp-1', name: 'A' }, reasons: ['no_blink'], antispoof: 0.2, liveness: { score: 4.6, blink: 4.6, structure: 0, passive: 0, surround: 0, screen: 0, stereo: 0 } }, false);
  assert.deepEqual([spoof.state, spoof.live, spoof.reasons, spoof.person_id, spoof.score], ['spoof_suspected', false, ['no_blink'], 'emp-1', 0.81]);
});

test('a change held back by the interval is not lost: the end reports the state the track ended in', () => {
  const r = new TrackReporter(options);
  r.report(at(0, { ...base(1), type: 'blink', closed_ms: 100 }));
  assert.deepEqual(r.report(at(400, small(1, 'face 40 px, 64 needed'))), {}, 'within the interval: held back');
  const end = r.report(at(400, { ...base(1), type: 'track_ended', person: null, anon_id: null, live: false, duration: 0.4, blinks: 1, antispoof: null, liveness: { score: 4.6, blink: 4.6, structure: 0, passive: 0, surround: 0, screen: 0, stereo: 0 } })).event!;
  assert.deepEqual([end.type, end.state, end.reasons], ['end', 'too_small', ['too_small', 'face 40 px, 64 needed']]);
});

test("a door's camera's events and last name the door, valid against the schema; a camera in no door's name none", () => {
  const r = new TrackReporter(options);
  const atDoor = (e: TrackEvent): TrackEvent => ({ ...e, door: 'front-door' });
  const seen = [r.report(at(0, atDoor(recognized(1, false)))), r.report(at(100, atDoor(recognized(1, true)))), r.report(at(200, atDoor(ended(1))))];
  seen.forEach(assertValid);
  assert.deepEqual(seen.map((s) => s.event?.door), ['front-door', 'front-door', 'front-door']);
  assert.equal(seen[1]!.last?.door, 'front-door');
  const alone = r.report(at(300, recognized(2, true)));
  assertValid(alone);
  assert.ok(!('door' in alone.event!), 'absent, as an older box sends it');
});
