import '../support/offline-tier.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeImageFile } from '../../daemon/vision/image.js';
import { testAnalyzer } from '../support/analyzer.js';
import { media, mediaMissing } from '../support/media.js';

const STILLS = {
  real: 'spoof/silentface_image_T1_real.jpg',
  print: 'spoof/silentface_image_F1_print_attack.jpg',
  screen: 'spoof/silentface_image_F2_screen_attack.jpg',
};

test('passive anti-spoof separates the real face from the print and the screen (same capture setup)', { skip: mediaMissing(...Object.values(STILLS)) }, async () => {
  const analyzer = await testAnalyzer();
  const pLive: Record<string, number> = {};
  for (const [kind, file] of Object.entries(STILLS)) {
    const [face] = await analyzer.analyze(await decodeImageFile(media(file)), { antispoof: true });
    assert.ok(face, `${file}: face found`);
    pLive[kind] = face.antispoof!.pLive;
  }
  console.log(`anti-spoof p(live): real ${pLive.real!.toFixed(3)}, print ${pLive.print!.toFixed(3)}, screen ${pLive.screen!.toFixed(3)}`);
  assert.ok(pLive.real! > 0.5);
  assert.ok(pLive.print! < 0.5);
  assert.ok(pLive.screen! < 0.5);
});
