// The movements a door display asked of a track stay with its decision on the timeline: as the
// recognition carried them, and with the answers that came after it once the track ends.
import '../support/fast-tier.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Timeline } from '../../daemon/track/timeline.js';
import { createTimelineTable } from '../../daemon/store/schema/timeline.js';
import { openTestDb, testSealer } from '../support/events-stack.js';

test('timeline: a recognition keeps the movements asked of its track, and the answers that came after it when the track ends', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-timeline-challenge-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const db = openTestDb(join(dir, 'state.db'));
  t.after(() => db.close());
  createTimelineTable(db);
  const timeline = new Timeline(db, testSealer());
  const liveness = { score: 4.6, blink: 0, structure: 4.6, passive: 0, surround: 0, screen: 0, stereo: 0, challenge: 0 };
  const base = { type: 'recognized' as const, camera: 'gate', t: 3, atMs: Date.parse('2026-01-12T08:00:00Z'), person: { id: 'p1', name: 'Ada' }, score: 0.7, margin: 0.2, named_t: 1, blink_t: null, antispoof: null, face_px: 150, thumbnail: null, live: true, liveness, assurance: 'live' as const };
  const asked = { move: 'turn_right' as const, asked_t: 2.5, answer: 'pending' as const, answered_t: null };
  // Track 1: live by its turn's motion before the head was back; the answer comes at its end.
  timeline.record({ ...base, track: 1, challenges: [asked] });
  // Track 2: never asked anything.
  timeline.record({ ...base, track: 2 });
  const ended = { type: 'track_ended' as const, camera: 'gate', t: 6, atMs: base.atMs + 3000, person: base.person, anon_id: null, live: true, duration: 5, blinks: 0, antispoof: null, liveness };
  timeline.record({ ...ended, track: 1, challenges: [{ ...asked, answer: 'correct', answered_t: 3.6 }] });
  timeline.record({ ...ended, track: 2 });
  // A track id used again later (the camera restarted) is a new track: its end changes nothing of the first.
  timeline.record({ ...ended, track: 1, challenges: [{ ...asked, answer: 'wrong', moved: 'nod', answered_t: 9 }] });
  const byTrack = new Map(timeline.list({ limit: 10 }).map((e) => [e.detail.track, e.detail.challenges]));
  assert.deepEqual(byTrack.get(1), [{ move: 'turn_right', asked_t: 2.5, answer: 'correct', answered_t: 3.6 }]);
  assert.equal(byTrack.get(2), undefined);
  assert.equal(timeline.list({ limit: 10 }).length, 2, 'a track end is no entry of its own');
});
