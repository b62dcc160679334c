import '../support/fast-tier.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BlinkDetector, type Blink, type BlinkRules } from '../../daemon/liveness/blink.js';
import type { EyeRegions } from '../../daemon/vision/types.js';
import { BROWS, NOSE, OPEN_EYE, openEye, partlyShutEye, regionsFor, scrambled, SHUT_EYE, speakingNose, tiltedBrows } from '../support/eye-regions.js';

const RULES: BlinkRules = { blink_min_ms: 60, blink_max_ms: 500, closed_ratio: 0.3, min_open_level: 0.6 };

type Look = [left: number, right: number, regions?: EyeRegions, lids?: number, shape?: number];

/** Eyelid opening by the landmarks of open eyes, and of eyes the landmarks show closed. */
const LIDS_OPEN = 0.3;
const LIDS_SHUT = 0.18;
/** The face's shape by the landmarks (faceShape) of a face square to the camera. */
const SHAPE = 0.65;

/**
 * Feeds p(open) pairs at `fps` from t = 0 and returns the blinks found. Each look's eye regions
 * follow what the model reads (a lid that is read shut is shut) unless the look gives its own; the
 * landmarks show the lids open unless the look says otherwise.
 */
function run(looks: Look[], fps = 15, rules = RULES): Blink[] {
  const d = new BlinkDetector(rules);
  const out: Blink[] = [];
  looks.forEach(([left, right, regions, lids, shape], i) => {
    const b = d.push({ t: i / fps, left, right, regions: regions ?? regionsFor(left, right), lids: lids ?? LIDS_OPEN, shape: shape ?? SHAPE });
    if (b) out.push(b);
  });
  return out;
}

const sample = (t: number, left: number, right: number) => ({ t, left, right, regions: regionsFor(left, right), lids: LIDS_OPEN, shape: SHAPE });

const open = (n: number, p = 0.97): Look[] => Array.from({ length: n }, () => [p, p]);
const closed = (n: number): Look[] => Array.from({ length: n }, () => [0.002, 0.01]);

test('open → both closed → open is one blink, timed from the first closed sample', () => {
  const blinks = run([...open(10), ...closed(2), ...open(10)]);
  assert.equal(blinks.length, 1);
  assert.ok(Math.abs(blinks[0]!.t - 10 / 15) < 1e-9);
  assert.ok(Math.abs(blinks[0]!.closedMs - 2000 / 15) < 1e-6);
});

test('a single closed sample at 15 fps is a blink (the eyes were shut for up to two frame steps)', () => {
  assert.equal(run([...open(10), ...closed(1), ...open(5)]).length, 1);
});

test('one closed frame at 30 fps (33 ms) is shorter than blink_min_ms: not a blink', () => {
  assert.equal(run([...open(20), ...closed(1), ...open(10)], 30).length, 0);
  assert.equal(run([...open(20), ...closed(3), ...open(10)], 30).length, 1);
});

test('a wink (one eye) never counts', () => {
  const wink: Look[] = Array.from({ length: 4 }, () => [0.001, 0.95]);
  assert.equal(run([...open(10), ...wink, ...open(10)]).length, 0);
});

test('eyes held closed past blink_max_ms are not a blink; the next real blink still is', () => {
  const blinks = run([...open(10), ...closed(15), ...open(10), ...closed(2), ...open(5)]);
  assert.equal(blinks.length, 1);
  assert.ok(Math.abs(blinks[0]!.t - 35 / 15) < 1e-9);
});

test('eyes closed when the track starts were never seen open: no blink on opening', () => {
  assert.equal(run([...closed(3), ...open(10)]).length, 0);
});

test('the threshold follows the track own open level: a talking face at 0.7 dipping to 0.4 is not closed, to 0.05 is', () => {
  assert.equal(run([...open(15, 0.7), [0.4, 0.4], [0.4, 0.4], ...open(10, 0.7)]).length, 0);
  assert.equal(run([...open(15, 0.7), [0.05, 0.05], ...open(10, 0.7)]).length, 1);
});

test('eyes the model never reads as clearly open cannot blink (open level under min_open_level)', () => {
  assert.equal(run([...open(15, 0.45), [0.01, 0.01], ...open(10, 0.45)]).length, 0);
});

test('half-open samples after a closure wait for the eyes to open fully (hysteresis)', () => {
  const blinks = run([...open(10), ...closed(1), [0.4, 0.45], ...open(5)]);
  assert.equal(blinks.length, 1);
  assert.ok(Math.abs(blinks[0]!.closedMs - 2000 / 15) < 1e-6);
});

test('a gap in the samples (face lost) breaks the sequence', () => {
  const d = new BlinkDetector(RULES);
  for (let i = 0; i < 10; i++) d.push(sample(i / 15, 0.95, 0.95));
  d.push(sample(10 / 15, 0.001, 0.001));
  assert.equal(d.push(sample(2, 0.95, 0.95)), undefined);
});

test('a blink in the first samples of a track is found (the eyes were open just before)', () => {
  assert.equal(run([...open(2), ...closed(2), ...open(5)]).length, 1);
});

test('narrowed eyes (a grin, a glance down) that the model reads at 0.25–0.35 are not shut, whatever the lids did', () => {
  assert.equal(run([...open(10), [0.3, 0.27], [0.25, 0.3], ...open(10)]).length, 0);
});

test('an eye the model reads half shut counts when its lid clearly moved: an asymmetric blink at CCTV size', () => {
  // The right eye read shut, the left only half (0.5): its patch shows the lid down all the same.
  assert.equal(run([...open(10), [0.5, 0.01, regionsFor(0, 0)], [0.55, 0.02, regionsFor(0, 0)], ...open(10)]).length, 1);
  // A wink: the same readings, but the left lid stayed where it was.
  assert.equal(run([...open(10), [0.5, 0.01, regionsFor(1, 0)], [0.55, 0.02, regionsFor(1, 0)], ...open(10)]).length, 0);
});

test('a photo: the model flips to shut on both eyes but the eye regions do not change, so no blink', () => {
  const still = regionsFor(1, 1);
  assert.equal(run([...open(10).map(([l, r]): Look => [l, r, still]), [0.01, 0.02, still], [0.01, 0.01, still], ...open(10).map(([l, r]): Look => [l, r, still])]).length, 0);
});

test('misplaced landmarks: every region changes, the nose as much as the eyes, so no blink', () => {
  assert.equal(run([...open(10), [0.001, 0.01, scrambled(1)], [0.002, 0.001, scrambled(2)], ...open(10)]).length, 0);
});

test('the eyes change more than the nose on a closed look, but the nose changed a lot too: the look is not compared', () => {
  const shaken = { left: SHUT_EYE, right: SHUT_EYE, nose: scrambled(3).nose, brows: BROWS };
  assert.equal(run([...open(10), [0.001, 0.001, shaken], ...open(10)]).length, 0);
  assert.equal(run([...open(10), [0.001, 0.001, { left: SHUT_EYE, right: SHUT_EYE, nose: NOSE, brows: BROWS }], ...open(10)]).length, 1);
});

test('a lid that shows only part of its movement (a small, soft face) is a blink though the mouth moved the nose patch as the person spoke', () => {
  const speaking = { left: partlyShutEye(0.7), right: partlyShutEye(0.7), nose: speakingNose(4), brows: BROWS };
  assert.equal(run([...open(10), [0.001, 0.001, speaking], ...open(10)]).length, 1);
});

test('a picture tilted back squeezes its eyes as it squeezes the whole face: the closed look is not compared, and a real blink, whose face keeps its shape, is', () => {
  const lidsDown = { left: SHUT_EYE, right: SHUT_EYE, nose: NOSE, brows: BROWS };
  // The eye regions change as a blink's do (the brows, edges along the tilt's axis, hardly at all),
  // but the face is a quarter shorter by its landmarks on that look only.
  assert.equal(run([...open(10), [0.001, 0.001, lidsDown, LIDS_SHUT, 0.75 * SHAPE], ...open(10)]).length, 0);
  assert.equal(run([...open(10), [0.001, 0.001, lidsDown, LIDS_SHUT, 0.98 * SHAPE], ...open(10)]).length, 1);
});

test('the same lids on a picture tilted in front of the camera: the brows change about as much as the eyes, so no blink', () => {
  const tilted = { left: partlyShutEye(0.7), right: partlyShutEye(0.7), nose: NOSE, brows: tiltedBrows(3) };
  assert.equal(run([...open(10), [0.001, 0.001, tilted], ...open(10)]).length, 0);
});

test('an eye the model never reads open (a small face) leaves the blink to the other eye and both lids', () => {
  const rightUnread = (n: number): Look[] => Array.from({ length: n }, () => [0.97, 0.05, { left: OPEN_EYE, right: OPEN_EYE, nose: NOSE, brows: BROWS }]);
  assert.equal(run([...rightUnread(15), [0.01, 0.01, regionsFor(0, 0)], [0.02, 0.01, regionsFor(0, 0)], ...rightUnread(10)]).length, 1);
  // The left eye read shut while the right lid did not move: a wink.
  assert.equal(run([...rightUnread(15), [0.01, 0.01, regionsFor(0, 1)], [0.02, 0.01, regionsFor(0, 1)], ...rightUnread(10)]).length, 0);
});

test('the blink is timed at the first closed look that shows both lids shut', () => {
  const [blink] = run([...open(10), [0.3, 0.3, regionsFor(1, 1)], [0.01, 0.01], [0.01, 0.01], ...open(10)]);
  assert.ok(blink && Math.abs(blink.t - 11 / 15) < 1e-9, `blink at ${blink?.t}`);
});

test('a glance to the side and back, read as shut by the model, is not a blink: the lids did not move up or down', () => {
  const glance = { left: openEye(5), right: openEye(5), nose: NOSE, brows: BROWS };
  assert.equal(run([...open(10), [0.01, 0.02, glance], [0.01, 0.01, glance], ...open(10)]).length, 0);
});

test('a closure is judged against the open level from before it: a long blink early in a track is still one', () => {
  assert.equal(run([...open(1), ...closed(5), ...open(5)]).length, 1);
});

test('interrupt(): what came before a jump of the face box cannot start a blink', () => {
  const d = new BlinkDetector(RULES);
  for (let i = 0; i < 10; i++) d.push(sample(i / 15, 0.95, 0.95));
  d.push(sample(10 / 15, 0.001, 0.001));
  d.interrupt();
  assert.equal(d.push(sample(11 / 15, 0.95, 0.95)), undefined);
});

test('the open look next to a closure may still show the lid down (read open as it rises): the look one step further is compared', () => {
  const rising: Look = [0.8, 0.8, regionsFor(0, 0)];
  assert.equal(run([...open(10), ...closed(2), rising, ...open(5)]).length, 1);
  // Lids that stay down for longer than a lid takes to rise are a change that stays, not a blink.
  assert.equal(run([...open(10), ...closed(2), rising, rising, rising, rising, ...open(5)]).length, 0);
});


test("a blink in a track's first moments: the lids are back only at the opening they had before it, which its own shut looks do not pull down", () => {
  // Three open looks (the face just arrived), both eyes shut, then the right eye reads open while
  // the left lid is still down and the landmarks show the lids only part way up. Half the window
  // is the closure itself by then: measured over it, the lids would read back at the first
  // one-eyed look and end the closure there, against a look with a lid still down.
  const lids = (n: number, at: number, [l, r]: [number, number], regions: EyeRegions): Look[] => Array.from({ length: n }, () => [l, r, regions, at]);
  const arrival: Look[] = [
    ...lids(3, 0.4, [0.99, 0.99], regionsFor(1, 1)),
    ...lids(3, 0.28, [0.01, 0.01], regionsFor(0, 0)),
    [0.01, 0.88, regionsFor(0, 1), 0.3],
    [0.01, 0.52, regionsFor(0, 1), 0.31],
    [0.09, 0.98, regionsFor(0, 1), 0.33],
    [0.32, 0.99, regionsFor(0, 1), 0.35],
    ...lids(6, 0.4, [0.97, 0.99], regionsFor(1, 1)),
  ];
  const blinks = run(arrival);
  assert.equal(blinks.length, 1);
  assert.ok(Math.abs(blinks[0]!.t - 3 / 15) < 1e-9);
  assert.ok(Math.abs(blinks[0]!.closedMs - 7000 / 15) < 1e-6, 'closed until both lids were up');
});

test('an eye the model still reads shut after the lids rose: the landmarks end the closure, and the lids decide', () => {
  // Both eyes shut, then the right eye reads open and the landmarks show the lids open again, but
  // the model keeps reading the left eye shut for a second (a small, compressed eye).
  const stuck = (n: number, leftRegion: 0 | 1): Look[] => Array.from({ length: n }, () => [0.01, 0.97, regionsFor(leftRegion, 1), LIDS_OPEN]);
  const shut: Look[] = [[0.01, 0.01, regionsFor(0, 0), LIDS_SHUT], [0.01, 0.02, regionsFor(0, 0), LIDS_SHUT]];
  assert.equal(run([...open(15), ...shut, ...stuck(15, 1), ...open(5)]).length, 1);
  // Without the landmarks showing the lids open, the closure waits for the model and runs past blink_max_ms.
  assert.equal(run([...open(15), ...shut, ...stuck(15, 1).map(([l, r, g]): Look => [l, r, g, LIDS_SHUT]), ...open(5)]).length, 0);
  // The left lid really stayed down (its region shows it shut after the closure): a change that stays, not a blink.
  assert.equal(run([...open(15), ...shut, ...stuck(15, 0), ...open(5)]).length, 0);
});
