// What proved a person there: the one rule (track/assurance.ts) from a track's liveness at the
// moment of its decision, and the timeline's entries, those written before recognitions carried it too.
import '../support/fast-tier.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assuranceOf } from '../../daemon/track/assurance.js';
import { Timeline } from '../../daemon/track/timeline.js';
import type { LivenessSummary } from '../../daemon/track/events.js';
import { createTimelineTable } from '../../daemon/store/schema/timeline.js';
import { STEREO_FLAT_LOG_ODDS, STEREO_LIVE_LOG_ODDS } from '../../daemon/liveness/stereo.js';
import { openTestDb, testSealer } from '../support/events-stack.js';

/** A summary as the tracker gives it: the stereo cue's share is 0 on a camera in no door. */
type Summary = LivenessSummary;
const single: Summary = { score: 4.6, blink: 4.6, structure: 0, passive: 0, surround: 0, screen: 0, stereo: 0 };
const unproven: Summary = { ...single, score: 0, blink: 0 };

test('assurance: recognised until the track is live; live on the single camera\'s cues; stereo where two cameras\' views proved the face', () => {
  assert.equal(assuranceOf(false, unproven), 'recognised');
  assert.equal(assuranceOf(true, single), 'live', 'a summary without a stereo share: a camera in no door');
  // A door's track: the stereo cue's share as liveness/stereo.ts weighs a pair at the limit no print reached.
  const door: Summary = { ...single, score: 4.6 + STEREO_LIVE_LOG_ODDS, stereo: STEREO_LIVE_LOG_ODDS };
  const flat: Summary = { ...single, score: 3.6, stereo: STEREO_FLAT_LOG_ODDS };
  const held: Summary = { ...door, surround: -9.2, score: door.score - 9.2 };
  assert.equal(assuranceOf(true, door), 'stereo');
  assert.equal(assuranceOf(true, { ...single, stereo: 0 }), 'live', 'the pair could not say: the single camera proved it');
  assert.equal(assuranceOf(true, flat), 'live', 'a pair that looked flat proves nothing; the blink did');
  // Whatever the stereo share, a track not live (a held screen's surround cancels every proof) proves no one.
  assert.equal(assuranceOf(false, held), 'recognised');
});

test("the timeline keeps each recognition's assurance; entries written before it carried one get it from what they kept, by the same rule", (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-assurance-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const db = openTestDb(join(dir, 'state.db'));
  t.after(() => db.close());
  createTimelineTable(db);
  const timeline = new Timeline(db, testSealer());
  const base = { type: 'recognized' as const, camera: 'gate', track: 1, t: 1, atMs: Date.parse('2026-01-12T08:00:00Z'), person: { id: 'p1', name: 'Ada' }, score: 0.7, margin: 0.2, named_t: 1, blink_t: null, antispoof: null, face_px: 96, thumbnail: null };
  timeline.record({ ...base, live: false, liveness: unproven, assurance: 'recognised' });
  timeline.record({ ...base, live: true, liveness: { ...single, score: 9, stereo: 4.4 } as Summary, assurance: 'stereo' });
  timeline.record({ type: 'too_small', camera: 'gate', track: 2, t: 2, atMs: base.atMs + 1, reason: 'face 30 px high' });
  // As the timeline wrote recognitions before they carried an assurance.
  const insert = db.prepare("INSERT INTO timeline (at_ms, camera, kind, person_id, score, detail) VALUES (?, 'gate', 'recognized', 'p1', 0.7, ?)");
  insert.run(base.atMs + 2, JSON.stringify({ track: 3, live: true, liveness: single }));
  insert.run(base.atMs + 3, JSON.stringify({ track: 4, live: false, liveness: unproven }));
  assert.deepEqual(
    timeline.list({ limit: 10 }).map((e) => [e.kind, e.assurance]),
    [['recognized', 'recognised'], ['recognized', 'live'], ['too_small', null], ['recognized', 'stereo'], ['recognized', 'recognised']],
  );
});

test("the timeline keeps the door a decision's camera belongs to; a camera in no door, and entries from before doors, have none", (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-timeline-door-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const db = openTestDb(join(dir, 'state.db'));
  t.after(() => db.close());
  createTimelineTable(db);
  const timeline = new Timeline(db, testSealer());
  const base = { type: 'recognized' as const, camera: 'front-left', track: 1, t: 1, atMs: Date.parse('2026-01-12T08:00:00Z'), person: { id: 'p1', name: 'Ada' }, score: 0.7, margin: 0.2, named_t: 1, blink_t: null, antispoof: null, face_px: 96, thumbnail: null, live: true, liveness: { ...single, score: 9, stereo: 4.4 } as Summary, assurance: 'stereo' as const };
  timeline.record({ ...base, door: 'front-door' });
  timeline.record({ type: 'spoof_suspected', camera: 'front-right', door: 'front-door', track: 2, t: 2, atMs: base.atMs + 1, person: null, reasons: ['held_picture'], antispoof: null, liveness: unproven });
  timeline.record({ ...base, camera: 'yard', track: 3, atMs: base.atMs + 2, assurance: 'live' });
  assert.deepEqual(
    timeline.list({ limit: 10 }).map((e) => [e.camera, e.kind, e.door]),
    [['yard', 'recognized', null], ['front-right', 'spoof_suspected', 'front-door'], ['front-left', 'recognized', 'front-door']],
  );
});
