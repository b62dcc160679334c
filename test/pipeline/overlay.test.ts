import '../support/fast-tier.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { trackOverlay } from '../../daemon/pipeline/overlay.js';
import type { TrackView } from '../../daemon/track/track.js';

const box = { x: 10, y: 20, w: 100, h: 120 };
const view = (v: Partial<TrackView>): TrackView => ({ track: 3, box, who: { kind: 'pending' }, score: null, live: false, waiting: 'deciding', ...v });

test('overlay: colour by state, a label that says who, the score and what is missing', () => {
  const [live, notLive, unknown, pending, small] = trackOverlay([
    view({ who: { kind: 'person', person: { id: 'p1', name: 'Ada' } }, score: 0.712, live: true, waiting: null }),
    view({ who: { kind: 'person', person: { id: 'p2', name: null } }, score: 0.6, waiting: 'no_blink' }),
    view({ who: { kind: 'unknown', anonId: 'anon-7' }, score: 0.2, waiting: null }),
    view({}),
    view({ waiting: 'too_small: 30 px' }),
  ]);
  assert.deepEqual([live!.label, live!.color], ['Ada 0.71 · live', [0, 220, 0]]);
  assert.deepEqual([notLive!.label, notLive!.color], ['p2 0.60 · no_blink', [255, 190, 0]]);
  assert.deepEqual([unknown!.label, unknown!.color], ['unknown anon-7 0.20', [230, 40, 40]]);
  assert.deepEqual([pending!.label, pending!.color], ['track 3 · deciding', [170, 170, 170]]);
  assert.equal(small!.label, 'track 3 · too_small: 30 px');
  assert.deepEqual({ x: live!.x, y: live!.y, w: live!.w, h: live!.h }, box);
});
