// Every identity photo of ../shared/media, and the print and screen stills, held up to a camera as a
// print that drifts, wobbles, comes closer, tilts back or bends (one motion per photo, in turn, so
// that every motion meets every kind of photo; `npm run bench -- liveness` plays each photo in all
// five), at 100–300 px, 15 fps, H.264: never live, and each known person still recognised.
import '../support/offline-tier.js';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { defaultConfig } from '../../daemon/config/load.js';
import { testAnalyzer } from '../support/analyzer.js';
import { attackCases, attackGallery, runAttack, type AttackResult } from '../support/attack-set.js';
import { mediaMissing } from '../support/media.js';
import { MOTIONS } from '../support/print-attack.js';

const skip = mediaMissing('identities/deepface/labels.csv', 'identities/face_recognition/labels.csv', 'spoof/silentface_image_F1_print_attack.jpg');

test('photo attacks: no print or screen still is ever live, whatever its motion; the person in it is still recognised', { skip, timeout: 30 * 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-attacks-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const config = defaultConfig();
  const analyzer = await testAnalyzer();
  const cases = attackCases(1);
  const gallery = await attackGallery(analyzer, cases);
  after(() => gallery.close());
  const results: AttackResult[] = [];
  for (const c of cases) results.push(await runAttack(analyzer, gallery, c, { dir, track: config.track, recognition: config.recognition }));

  const live = results.filter((r) => r.live).map((r) => `${r.case.photo} ${r.case.motion} ${r.case.facePx} px (${r.blinks} blink(s))`);
  const known = results.filter((r) => r.case.identity);
  const missed = known.filter((r) => !r.recognised.includes(r.case.identity!)).map((r) => `${r.case.photo} ${r.case.motion} ${r.case.facePx} px`);
  console.log(`photo attacks: ${live.length}/${results.length} live; recognised ${known.length - missed.length}/${known.length}`);
  console.log(`not recognised: ${missed.join(', ') || '-'}`);
  assert.deepEqual(new Set(cases.map((c) => c.motion)), new Set(MOTIONS), 'every motion is played');
  assert.deepEqual(live, [], 'a moved photo was taken for a live person');
  // Every known person's photo is recognised as them when it is held up: the spoof alert names who was shown.
  assert.ok(known.length - missed.length >= 0.9 * known.length, `recognised only ${known.length - missed.length}/${known.length}`);
});
