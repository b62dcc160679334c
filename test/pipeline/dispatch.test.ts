// Routing of tracker decisions: pure, so checked with recording targets.
import '../support/fast-tier.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RecognizedDecision } from '../../daemon/attendance/stage.js';
import { UnknownAlerts } from '../../daemon/events/alerts.js';
import type { EventWriter } from '../../daemon/events/writer.js';
import { dispatchTrackEvent, spoofAlertReason, type DispatchTargets } from '../../daemon/pipeline/dispatch.js';
import { arrivalMs, type TrackEvent } from '../../daemon/track/events.js';

function targets() {
  const decisions: RecognizedDecision[] = [];
  const written: string[] = [];
  const counted: string[] = [];
  const t: DispatchTargets = {
    attendance: { onRecognized: (d) => decisions.push(d) },
    writer: { write: (kind: string, body: object) => `id-${written.push(`${kind} ${JSON.stringify(body)}`)}` } as unknown as EventWriter,
    count: (camera, kind) => void counted.push(`${camera}/${kind}`),
    unknownImageMaxKb: 64,
    unknownAlerts: new UnknownAlerts(),
  };
  return { t, decisions, written, counted };
}

const base = { camera: 'gate', track: 1, t: 2, atMs: Date.parse('2026-03-02T08:00:00Z') };

test('a live recognition reaches attendance with the group the match carried, with no lookup of its own; one not yet live changes nothing', () => {
  const { t, decisions, counted } = targets();
  const recognized = (live: boolean): TrackEvent & { atMs: number } =>
    ({ ...base, type: 'recognized', person: { id: 'p1', name: 'Ada', group: 'night' }, score: 0.7, margin: 0.2, live, named_t: 0.5, first_blink_t: live ? 1.5 : null }) as unknown as TrackEvent & { atMs: number };
  dispatchTrackEvent(recognized(false), t);
  assert.equal(decisions.length, 0);
  dispatchTrackEvent(recognized(true), t);
  assert.deepEqual(decisions.map((d) => [d.personId, d.group, d.camera]), [['p1', 'night', 'gate']]);
  assert.deepEqual(counted, ['gate/recognized']);
  // Named at 0.5 s, live at 2 s: the check-in carries the arrival, 1.5 s before.
  assert.equal(decisions[0]!.atMs, base.atMs - 1500);
});

test('arrivalMs: the first naming, never later than the event, whatever the times say', () => {
  assert.equal(arrivalMs({ atMs: 10_000, t: 5, named_t: 2 }), 7_000);
  assert.equal(arrivalMs({ atMs: 10_000, t: 5, named_t: 5 }), 10_000);
  assert.equal(arrivalMs({ atMs: 10_000, t: 5, named_t: 9 }), 10_000);
  assert.equal(arrivalMs({ atMs: 10_000, t: 5, named_t: Number.NaN }), 10_000);
});

test('an unknown face becomes an alert and is counted', () => {
  const { t, written, counted } = targets();
  dispatchTrackEvent({ ...base, type: 'unknown', anon_id: 'anon-1', face_px: 80, score: 0.2 } as unknown as TrackEvent & { atMs: number }, t);
  assert.deepEqual(written.map((w) => w.split(' ')[0]), ['unknown']);
  assert.deepEqual(counted, ['gate/unknown']);
});

test("a track recognised after its unknown alert withdraws that alert by id; the ledger forgets ended tracks", () => {
  const { t, written, counted } = targets();
  const unknown = (track: number, anon: string) => ({ ...base, track, type: 'unknown', anon_id: anon, face_px: 104, score: 0.38, live: false, antispoof: null, thumbnail: null }) as TrackEvent & { atMs: number };
  const withdrawn = (track: number, anon: string): TrackEvent & { atMs: number } => ({ ...base, track, type: 'unknown_withdrawn', anon_id: anon, person: { id: 'p1', name: 'Ada' }, score: 0.47, cluster: 'removed' });
  const ended = (track: number): TrackEvent & { atMs: number } => ({ ...base, track, type: 'track_ended', person: null, anon_id: null, live: false, duration: 1, blinks: 0, antispoof: null, liveness: { score: 0, blink: 0, structure: 0, passive: 0, surround: 0, screen: 0 } });
  dispatchTrackEvent(unknown(1, 'anon-a'), t);
  dispatchTrackEvent(unknown(2, 'anon-b'), t);
  dispatchTrackEvent(withdrawn(1, 'anon-a'), t);
  assert.deepEqual(JSON.parse(written[2]!.slice('unknownWithdrawn '.length)), { type: 'unknown_withdrawn', camera: 'gate', track: 1, anonymous_id: 'anon-a', alert_id: 'id-1', person_id: 'p1', score: 0.47 });
  assert.deepEqual(counted, ['gate/unknown', 'gate/unknown'], 'a withdrawal counts nothing: unknown_today counts the alerts sent');
  assert.equal(t.unknownAlerts.size, 1);
  dispatchTrackEvent(ended(2), t);
  assert.equal(t.unknownAlerts.size, 0);
  // An alert the daemon no longer holds (another anonymous id, or none) is withdrawn without its id.
  dispatchTrackEvent(withdrawn(2, 'anon-b'), t);
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
