// Tracker decisions as alerts and day counts: pure, so checked with recording targets.
import '../support/fast-tier.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UnknownAlerts } from '../../daemon/events/alerts.js';
import type { EventWriter } from '../../daemon/events/writer.js';
import { alertTrackEvent, spoofAlertReason, type AlertTargets } from '../../daemon/events/track-alerts.js';
import type { TrackEvent } from '../../daemon/track/events.js';
import { Value } from '@sinclair/typebox/value';
import { TOPICS } from '../../contract/topics.js';

function targets() {
  const written: string[] = [];
  const counted: string[] = [];
  const t: AlertTargets = {
    writer: { write: (kind: string, body: object) => `id-${written.push(`${kind} ${JSON.stringify(body)}`)}` } as unknown as EventWriter,
    count: (camera, kind) => void counted.push(`${camera}/${kind}`),
    unknownImageMaxKb: 64,
    unknownAlerts: new UnknownAlerts(),
  };
  return { t, written, counted };
}

const base = { camera: 'gate', track: 1, t: 2, atMs: Date.parse('2026-03-02T08:00:00Z') };

test('a live recognition is counted; one not yet live is not', () => {
  const { t, written, counted } = targets();
  const recognized = (live: boolean) => ({ ...base, type: 'recognized', person: { id: 'p1', name: 'Ada' }, score: 0.7, margin: 0.2, live, named_t: 0.5 }) as unknown as TrackEvent & { atMs: number };
  alertTrackEvent(recognized(false), t);
  alertTrackEvent(recognized(true), t);
  assert.deepEqual(counted, ['gate/recognized']);
  assert.deepEqual(written, [], 'a recognition is no alert');
});

test('an unknown face becomes an alert and is counted', () => {
  const { t, written, counted } = targets();
  alertTrackEvent({ ...base, type: 'unknown', anon_id: 'anon-1', face_px: 80, score: 0.2 } as unknown as TrackEvent & { atMs: number }, t);
  assert.deepEqual(written.map((w) => w.split(' ')[0]), ['unknown']);
  assert.deepEqual(counted, ['gate/unknown']);
});

test("a track recognised after its unknown alert withdraws that alert by id; the ledger forgets ended tracks", () => {
  const { t, written, counted } = targets();
  const unknown = (track: number, anon: string) => ({ ...base, track, type: 'unknown', anon_id: anon, face_px: 104, score: 0.38, live: false, antispoof: null, thumbnail: null }) as TrackEvent & { atMs: number };
  const withdrawn = (track: number, anon: string): TrackEvent & { atMs: number } => ({ ...base, track, type: 'unknown_withdrawn', anon_id: anon, person: { id: 'p1', name: 'Ada' }, score: 0.47, cluster: 'removed' });
  const ended = (track: number): TrackEvent & { atMs: number } => ({ ...base, track, type: 'track_ended', person: null, anon_id: null, live: false, duration: 1, blinks: 0, antispoof: null, liveness: { score: 0, blink: 0, structure: 0, passive: 0, surround: 0, screen: 0, stereo: 0 } });
  alertTrackEvent(unknown(1, 'anon-a'), t);
  alertTrackEvent(unknown(2, 'anon-b'), t);
  alertTrackEvent(withdrawn(1, 'anon-a'), t);
  assert.deepEqual(JSON.parse(written[2]!.slice('unknownWithdrawn '.length)), { type: 'unknown_withdrawn', camera: 'gate', track: 1, anonymous_id: 'anon-a', alert_id: 'id-1', person_id: 'p1', score: 0.47 });
  assert.deepEqual(counted, ['gate/unknown', 'gate/unknown'], 'a withdrawal counts nothing: unknown_today counts the alerts sent');
  assert.equal(t.unknownAlerts.size, 1);
  alertTrackEvent(ended(2), t);
  assert.equal(t.unknownAlerts.size, 0);
  // An alert the daemon no longer holds (another anonymous id, or none) is withdrawn without its id.
  alertTrackEvent(withdrawn(2, 'anon-b'), t);
  assert.equal((JSON.parse(written[3]!.slice('unknownWithdrawn '.length)) as { alert_id: unknown }).alert_id, null);
});

test('the ledger of unknown alerts stays bounded whatever the tracker sends', () => {
  const ledger = new UnknownAlerts();
  for (let i = 0; i < 10_050; i++) ledger.alerted('gate', i, `anon-${i}`, `id-${i}`);
  assert.equal(ledger.size, 10_000);
  assert.equal(ledger.withdraw('gate', 0, 'anon-0'), null, 'the oldest went first');
  assert.equal(ledger.withdraw('gate', 10_049, 'anon-10049'), 'id-10049');
});

test('a spoof alert gives the strongest reason: a held picture (even one that blinked), a frozen one, no proof of life, the passive score', () => {
  assert.equal(spoofAlertReason(['held_picture', 'no_motion']), 'held_picture');
  assert.equal(spoofAlertReason(['frozen', 'held_picture', 'no_blink']), 'held_picture');
  assert.equal(spoofAlertReason(['frozen', 'no_blink', 'no_motion']), 'frozen');
  assert.equal(spoofAlertReason(['no_blink', 'no_motion']), 'no_blink');
  assert.equal(spoofAlertReason(['antispoof']), 'passive');
});

test("alerts about a door's camera name the door, valid against their schemas; a camera in no door's name none", () => {
  const { t, written } = targets();
  const atDoor = { ...base, camera: 'front-left', door: 'front-door' };
  alertTrackEvent({ ...atDoor, type: 'unknown', anon_id: 'anon-1', face_px: 80, score: 0.2, live: false, antispoof: null, thumbnail: null } as unknown as TrackEvent & { atMs: number }, t);
  alertTrackEvent({ ...atDoor, type: 'unknown_withdrawn', anon_id: 'anon-1', person: { id: 'p1', name: 'Ada' }, score: 0.47, cluster: 'removed' }, t);
  alertTrackEvent({ ...atDoor, track: 2, type: 'spoof_suspected', person: null, reasons: ['held_picture'], antispoof: 0.3, liveness: { score: 0, blink: 0, structure: 0, passive: 0, surround: -9.2, screen: 0, stereo: 0 } }, t);
  alertTrackEvent({ ...base, track: 3, type: 'spoof_suspected', person: null, reasons: ['frozen'], antispoof: null, liveness: { score: 0, blink: 0, structure: 0, passive: 0, surround: 0, screen: 0, stereo: 0 } }, t);
  const envelope = { id: '019b4f52-0a10-7000-8000-4c5d6e7f8091', device: 'g', time: '2026-03-02T09:00:00+01:00', jws: 'x' };
  const bodies = written.map((w) => [w.slice(0, w.indexOf(' ')), JSON.parse(w.slice(w.indexOf(' ') + 1)) as Record<string, unknown>] as const);
  for (const [kind, body] of bodies) {
    const schema = TOPICS[kind as 'unknown' | 'unknownWithdrawn' | 'spoof'].schema;
    // The recording writer's ids are not UUIDs; the alert withdrawn is named by one.
    const checked = { ...envelope, ...body, ...(kind === 'unknownWithdrawn' ? { alert_id: envelope.id } : {}) };
    assert.deepEqual([...Value.Errors(schema, checked)].map((e) => `${kind} ${e.path} ${e.message}`), []);
  }
  assert.deepEqual(bodies.map(([kind, body]) => [kind, body.camera, body.door]), [['unknown', 'front-left', 'front-door'], ['unknownWithdrawn', 'front-left', 'front-door'], ['spoof', 'front-left', 'front-door'], ['spoof', 'gate', undefined]]);
  assert.ok(!('door' in bodies[3]![1]), 'absent, as an older box sends it');
});
