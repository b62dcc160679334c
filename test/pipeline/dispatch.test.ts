// Routing of tracker decisions: pure, so checked with recording targets.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RecognizedDecision } from '../../daemon/attendance/stage.js';
import type { EventWriter } from '../../daemon/events/writer.js';
import { dispatchTrackEvent, type DispatchTargets } from '../../daemon/pipeline/dispatch.js';
import type { TrackEvent } from '../../daemon/track/events.js';

function targets() {
  const decisions: RecognizedDecision[] = [];
  const written: string[] = [];
  const counted: string[] = [];
  const t: DispatchTargets = {
    attendance: { onRecognized: (d) => decisions.push(d) },
    writer: { write: (kind: string) => void written.push(kind) } as unknown as EventWriter,
    count: (camera, kind) => void counted.push(`${camera}/${kind}`),
    unknownImageMaxKb: 64,
  };
  return { t, decisions, written, counted };
}

const base = { camera: 'gate', track: 1, t: 2, atMs: Date.parse('2026-03-02T08:00:00Z') };

test('a live recognition reaches attendance with the group the match carried, with no lookup of its own; one not yet live changes nothing', () => {
  const { t, decisions, counted } = targets();
  const recognized = (live: boolean): TrackEvent & { atMs: number } =>
    ({ ...base, type: 'recognized', person: { id: 'p1', name: 'Ada', group: 'night' }, score: 0.7, margin: 0.2, live, first_blink_t: live ? 1.5 : null }) as unknown as TrackEvent & { atMs: number };
  dispatchTrackEvent(recognized(false), t);
  assert.equal(decisions.length, 0);
  dispatchTrackEvent(recognized(true), t);
  assert.deepEqual(decisions.map((d) => [d.personId, d.group, d.camera]), [['p1', 'night', 'gate']]);
  assert.deepEqual(counted, ['gate/recognized']);
});

test('an unknown face becomes an alert and is counted', () => {
  const { t, written, counted } = targets();
  dispatchTrackEvent({ ...base, type: 'unknown', anon_id: 'anon-1', face_px: 80, score: 0.2 } as unknown as TrackEvent & { atMs: number }, t);
  assert.deepEqual(written, ['unknown']);
  assert.deepEqual(counted, ['gate/unknown']);
});
