import '../support/offline-tier.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { eyelidOpening } from '../../daemon/vision/align.js';
import type { Detection } from '../../daemon/vision/types.js';
import { testAnalyzer } from '../support/analyzer.js';
import { media, mediaMissing } from '../support/media.js';
import { decodeVideoFrames } from '../support/video.js';

const CLIP = 'video_blink/tiny_face_blink_dinoman.mp4';

test('eye state: annotated blink frames score lower p(open), and a lower eyelid opening by the landmarks, than the open frames around them', { skip: mediaMissing(CLIP, 'annotations/blink_events.csv') }, async () => {
  const analyzer = await testAnalyzer();
  const frames = decodeVideoFrames(media(CLIP));
  // Mean of both eyes per frame; the face box of the last detection carries over a missed frame.
  const pOpen: number[] = [];
  const lids: number[] = [];
  let box: Detection | undefined;
  for (const frame of frames) {
    box = (await analyzer.detect(frame, 'full'))[0] ?? box;
    assert.ok(box, 'face found in the first frame');
    const face = await analyzer.analyzeFace(frame, box, { eyes: true });
    pOpen.push((face.eyes!.left.pOpen + face.eyes!.right.pOpen) / 2);
    lids.push(eyelidOpening(face.landmarks68));
  }
  const events = readFileSync(media('annotations/blink_events.csv'), 'utf8')
    .trim()
    .split(/\r?\n/)
    .map((l) => l.split(','))
    .filter((c) => c[0] === CLIP)
    .map((c) => ({ start: Number(c[2]), end: Number(c[3]), type: c[6] }));
  assert.ok(events.length >= 2);
  for (const { start, end, type } of events) {
    const during = Math.min(...pOpen.slice(start, end + 1));
    const around = [...pOpen.slice(Math.max(0, start - 6), start - 1), ...pOpen.slice(end + 2, end + 7)];
    console.log(`${type} frames ${start}–${end}: min p(open) ${during.toFixed(3)}; open frames around: min ${Math.min(...around).toFixed(3)}`);
    assert.ok(during < Math.min(...around), `blink at frames ${start}–${end}`);
    assert.ok(during < 0.5, 'called closed');
    // The landmarks of a small face show a closed eye less closed than it is, but lower than open.
    const lidsDuring = Math.min(...lids.slice(start, end + 1));
    const lidsAround = [...lids.slice(Math.max(0, start - 6), start - 1), ...lids.slice(end + 2, end + 7)];
    console.log(`  eyelid opening: min ${lidsDuring.toFixed(3)}; open frames around: min ${Math.min(...lidsAround).toFixed(3)}`);
    assert.ok(lidsDuring < Math.min(...lidsAround), `eyelid landmarks at frames ${start}–${end}`);
  }
});
