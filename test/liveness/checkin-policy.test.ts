// The liveness bench's check-in arithmetic (scripts/bench/checkin-policy.ts): what attendance makes
// of a track's moments under each requirement, and with a first live decision held back.
import '../support/fast-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { caseCheckIn, caseCounts, checkInOf, endOf } from '../../scripts/bench/checkin-policy.js';

test('a track named at 0.5 s and live at 1.0 s checks in at 0.5 s (recognised) or 1.0 s (live); held back 2 s, live at 2.0 s; never under stereo at one camera', () => {
  const m = { startS: 10, namedS: 10.5, liveS: 11 };
  assert.deepEqual(checkInOf(m, 'recognised'), { made: 'standing', atS: 0.5 });
  assert.deepEqual(checkInOf(m, 'live'), { made: 'standing', atS: 1 });
  assert.deepEqual(checkInOf(m, 'live', 2), { made: 'standing', atS: 2 });
  assert.deepEqual(checkInOf(m, 'stereo'), { made: 'none' });
  assert.deepEqual(checkInOf({ ...m, stereo: true }, 'stereo', 3), { made: 'standing', atS: 1 }, 'stereo proof is not held back');
});

test('a track live on a blink at 1.0 s and refused at 1.8 s: withdrawn today, never made when held back 2 s; one refused later is withdrawn either way', () => {
  const replay = { startS: 0, namedS: 0.4, liveS: 1, refusedS: 1.8 };
  assert.deepEqual(checkInOf(replay, 'live'), { made: 'retracted', atS: 1 });
  assert.deepEqual(checkInOf(replay, 'live', 2), { made: 'none' });
  assert.deepEqual(checkInOf(replay, 'recognised', 2), { made: 'retracted', atS: 0.4 }, 'a check-in at naming waits for nothing');
  assert.deepEqual(checkInOf({ ...replay, refusedS: 2.5 }, 'live', 2), { made: 'retracted', atS: 2 });
  assert.deepEqual(checkInOf({ startS: 0 }, 'recognised'), { made: 'none' }, 'never named');
});

test("a case is what the best of its tracks made, timed from its first track's start; how a person's tracks end", () => {
  const broken = [{ startS: 0, namedS: 0.5 }, { startS: 3, namedS: 3.2, liveS: 4 }];
  assert.deepEqual(caseCheckIn(broken, 'live'), { made: 'standing', atS: 4 });
  assert.equal(endOf(broken), 'live');
  assert.equal(endOf([{ startS: 0, namedS: 0.5, liveS: 1, refusedS: 2 }]), 'refused');
  assert.equal(endOf([{ startS: 0, namedS: 0.5 }]), 'recognised');
  const counts = caseCounts([broken, [{ startS: 0, namedS: 0.4, liveS: 1, refusedS: 1.8 }], [{ startS: 0 }]], 'live');
  assert.deepEqual(counts, { standing: 1, retracted: 1, none: 1, timesS: [4] });
});
