// Talking-head clips replayed on a phone or a tablet held up to a camera, and photos shown on one as
// stills (test/support/screen-attack-set.ts), at 100–300 px in 720p and 1080p, 15 fps, H.264 CRF
// 23–32: never live, and each known person still recognised, enrolled from another picture than
// the one played. A sample of the set, spread over clips, devices, sizes and resolutions, keeps
// the test to a few minutes; `npm run bench -- liveness` plays the whole set.
import '../support/offline-tier.js';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { defaultConfig } from '../../daemon/config/load.js';
import { testAnalyzer } from '../support/analyzer.js';
import { blinkMediaMissing } from '../support/blink-media.js';
import { mediaMissing } from '../support/media.js';
import { runScreenAttack, sampleScreenCases, screenCases, screenGallery, screenSummary, SPOOF_STILLS, WEBCAM_CLIP, type ScreenResult } from '../support/screen-attack-set.js';

const skip = blinkMediaMissing() || mediaMissing('identities/deepface/labels.csv', 'identities/face_recognition/labels.csv', WEBCAM_CLIP, ...SPOOF_STILLS);
/** Motions that move the whole screen across the frame or toward the camera, face and surround together. */
const HAND_MOVED: readonly string[] = ['drift', 'zoom', 'carried'];
const describe = (r: ScreenResult) => `${r.case.source} on a ${r.case.device}, ${r.case.motion}, ${r.case.facePx} px, ${r.case.frameHeight}p, CRF ${r.case.crf}`;

test('screen attacks: a clip replayed or a photo shown on a phone or a tablet', { skip, timeout: 30 * 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-screen-attacks-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const config = defaultConfig();
  const analyzer = await testAnalyzer();
  const cases = sampleScreenCases(screenCases(), 8, 4);
  const gallery = await screenGallery(analyzer, cases);
  after(() => gallery.close());
  const results: ScreenResult[] = [];
  for (const c of cases) results.push(await runScreenAttack(analyzer, gallery, c, { dir, track: config.track, recognition: config.recognition }));

  for (const r of results) console.log(`${r.live ? `LIVE at ${r.liveAtS?.toFixed(1)} s` : 'not live'}, ${r.blinks} blink(s), recognised as ${r.recognised.join(' ') || '-'}: ${describe(r)}`);
  console.log(screenSummary(results).join('\n'));
  assert.deepEqual(new Set(cases.map((c) => `${c.kind} ${c.device} ${c.frameHeight}`)).size, 8, 'both kinds on both devices in both resolutions are played');

  const live = (kind: string, which = (_r: ScreenResult) => true) =>
    results.filter((r) => r.case.kind === kind && r.live && which(r)).map((r) => `${describe(r)} (live at ${r.liveAtS?.toFixed(1)} s, ${r.blinks} blink(s))`);
  await t.test('a photo shown on a screen is never live', () => {
    assert.deepEqual(live('still'), []);
  });
  // A replayed video carries a person's blinks and a face's own motion; what gives it away is that
  // the hand moves the face and its surround as one (daemon/liveness/surround.ts).
  const handMoved = (r: ScreenResult) => HAND_MOVED.includes(r.case.motion);
  await t.test('a video replayed on a screen that the hand carries, drifts or zooms is never live', () => {
    assert.ok(results.some((r) => r.case.kind === 'replay' && handMoved(r)), 'the sample plays some');
    assert.deepEqual(live('replay', handMoved), []);
  });
  // A screen turned, tilted or wobbled about its own centre hardly moves the face, while the video's
  // head moves: its surround reads as staying, as the world does. What gives it away is its bezel:
  // straight edges framing the face that move while the camera does not (daemon/liveness/screen.ts).
  await t.test('a video replayed on a screen turned, tilted or wobbled in place is never live', () => {
    assert.ok(results.some((r) => r.case.kind === 'replay' && !handMoved(r)), 'the sample plays some');
    assert.deepEqual(live('replay', (r) => !handMoved(r)), []);
  });
  await t.test('each known person on a screen is recognised as themselves (the spoof alert names who was shown)', () => {
    assert.deepEqual(results.filter((r) => r.case.identity && !r.recognised.includes(r.case.identity)).map((r) => `${describe(r)}: recognised as ${r.recognised.join(' ') || 'nobody'}`), []);
  });
});
