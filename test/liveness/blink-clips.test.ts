// Blink detection through the whole per-track logic (scanVideo, the code behind `facegate scan`) on
// every annotated clip of ../shared/media/video_blink: at native size, and as CCTV cameras deliver
// them (the face ~100 px in 1920×1080 at H.264 CRF 30 with tiled detection; ~80 px in 1280×720 at
// CRF 32 with one full-frame detection). The CCTV bars guard what the detector reaches today (80%
// and 60% when they were last set, with a follow's eyes confirmed by the next detection), a blink
// short of each; native holds what a site needs (≥ 97%), as ~100 px does not yet (≥ 90%).
// `npm run bench -- liveness` prints the same figures.
import '../support/offline-tier.js';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { defaultConfig } from '../../daemon/config/load.js';
import type { DetectMode } from '../../daemon/vision/detector.js';
import { testAnalyzer } from '../support/analyzer.js';
import {
  asCameraStream,
  blinkClips,
  blinkTimes,
  blinkMediaMissing,
  CCTV_1080P_100,
  CCTV_720P_80,
  recall,
  scoreClip,
  scoreTable,
  type CctvView,
  type ClipScore,
} from '../support/blink-media.js';
import { media } from '../support/media.js';

const config = defaultConfig();
const skip = blinkMediaMissing();
const CLIPS = blinkClips();

/** Every clip as a camera sees it, scored. */
async function scoresAt(view: CctvView, mode: DetectMode): Promise<ClipScore[]> {
  const dir = mkdtempSync(join(tmpdir(), 'fg-blink-cctv-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const analyzer = await testAnalyzer();
  const scores: ClipScore[] = [];
  for (const clip of CLIPS) {
    const file = await asCameraStream(analyzer, clip, join(dir, clip.replace('video_blink/', '')), view);
    scores.push(scoreClip(clip, await blinkTimes(analyzer, file, mode, config.track)));
  }
  return scores;
}

/** What must hold at every size: no blink where the eyes did not close, no wink counted. */
function assertNoFalseBlinks(scores: readonly ClipScore[]): void {
  for (const s of scores) assert.deepEqual(s.falseInWindows, [], `${s.clip}: blink reported in a no-blink window`);
  for (const s of scores) assert.deepEqual(s.onWinks, [], `${s.clip}: a one-eye wink counted as a blink`);
  const grin = scores.find((s) => s.clip.endsWith('liveportrait_d18.mp4'))?.times.filter((t) => t >= 3.8 && t <= 5.0);
  assert.deepEqual(grin ?? [], [], 'the grin narrowing the eyes is not a blink');
}

test('blinks at native size: ≥ 97% of annotated blinks found within ±200 ms; none in no-blink windows; winks and a grin never counted', { skip }, async () => {
  const scores: ClipScore[] = [];
  // Close-up clips: one full-frame detection finds these faces (≥ 120 px); tiling would only cost time.
  const analyzer = await testAnalyzer();
  for (const clip of CLIPS) scores.push(scoreClip(clip, await blinkTimes(analyzer, media(clip), 'full', config.track)));
  console.log(scoreTable('blinks, clips at native size (detect 5 fps, eyes 15 fps)', scores));
  assert.ok(recall(scores) >= 0.97, `recall ${recall(scores).toFixed(3)}`);
  assertNoFalseBlinks(scores);
});

test('blinks at CCTV size: face ~100 px in 1920×1080, 15 fps, H.264 CRF 30, tiled detection: ≥ 78% found, no false blink', { skip }, async () => {
  const scores = await scoresAt(CCTV_1080P_100, 'auto');
  console.log(scoreTable('blinks, face ~100 px in 1920×1080, 15 fps, CRF 30, blur 0.5 (detect auto: tiled)', scores));
  assert.ok(recall(scores) >= 0.78, `recall ${recall(scores).toFixed(3)}`);
  assertNoFalseBlinks(scores);
});

test('blinks at CCTV size: face ~80 px in 1280×720, 15 fps, H.264 CRF 32, one full-frame detection: ≥ 58% found, no false blink', { skip }, async () => {
  const scores = await scoresAt(CCTV_720P_80, 'full');
  console.log(scoreTable('blinks, face ~80 px in 1280×720, 15 fps, CRF 32 (detect full: no tiling)', scores));
  assert.ok(recall(scores) >= 0.58, `recall ${recall(scores).toFixed(3)}`);
  assertNoFalseBlinks(scores);
});
