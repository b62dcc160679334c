// The text form of `facegate events tail`: one line per decision, with what the decision rests on.
import '../support/fast-tier.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeEvent } from '../../daemon/cli/ops-commands/control.js';

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

test('events tail writes the time the daemon sent in the site zone, the clock of the console, the CSV and MQTT', () => {
  assert.equal(describeEvent({ type: 'too_small', camera: 'gate', track: 3, t: 1, atMs, at: '2026-03-02T09:15:30+01:00', reason: 'face 30 px < 40 px' }), '09:15:30  gate         too_small        face 30 px < 40 px\n');
});
